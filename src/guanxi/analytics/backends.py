"""Connections to the two engines the relational steps run on: embedded DuckDB and Apache Spark.

Both are reached through Ibis, so ``features.py``, ``rfm.py`` and ``abc.py`` are written once. This
module holds what differs: making a connection, and registering an Arrow table or a file with it.
PySpark is an optional extra (``guanxi[spark]``); it is imported only when Spark is asked for.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import ibis
import pyarrow as pa

if TYPE_CHECKING:
    from ibis.backends import BaseBackend
    from pyspark.sql import SparkSession

Engine = Literal["duckdb", "spark"]
ENGINES: tuple[str, ...] = ("duckdb", "spark")

# Ibis names the PySpark backend "pyspark"; Guanxi's engine name is "spark".
_IBIS_NAMES = {"duckdb": "duckdb", "spark": "pyspark"}

# Local-mode defaults: a handful of shuffle partitions instead of Spark's 200 (which only adds task
# overhead on one machine), no web UI, no console progress bars, a scratch warehouse outside the
# work tree so nothing lands in the repository.
LOCAL_SPARK_CONF: dict[str, str] = {
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "4",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.driver.memory": "2g",
}


def spark_unavailable_reason() -> str | None:
    """Why Spark cannot run here (pyspark or Java missing), or None when it can."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (install the 'spark' extra: guanxi[spark])"
    java_home = os.environ.get("JAVA_HOME")
    has_java = shutil.which("java") is not None or (
        java_home is not None and (Path(java_home) / "bin" / "java").exists()
    )
    if not has_java:
        return "no Java runtime found (Spark needs java on PATH or JAVA_HOME)"
    return None


def active_spark_session() -> SparkSession | None:
    """The running SparkSession of this process, if any (None also when pyspark is missing)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        return None
    return SparkSession.getActiveSession()


def duckdb_connect(*, threads: int | None = None, memory_limit: str | None = None) -> BaseBackend:
    """An in-memory DuckDB connection (the default engine)."""
    config: dict[str, Any] = {}
    if threads is not None:
        config["threads"] = threads
    if memory_limit is not None:
        config["memory_limit"] = memory_limit
    return ibis.duckdb.connect(**config)


def spark_session(
    *,
    master: str | None = None,
    app_name: str = "guanxi-analytics",
    conf: Mapping[str, str] | None = None,
) -> SparkSession:
    """A SparkSession: the active one if there is one, else a new session on ``master``.

    ``master`` defaults to ``$GUANXI_SPARK_MASTER`` or ``local[2]``. The local defaults in
    ``LOCAL_SPARK_CONF`` apply only to ``local`` masters; ``conf`` overrides everything. Workers run
    this interpreter (``PYSPARK_PYTHON``) unless the environment already says otherwise.
    """
    reason = spark_unavailable_reason()
    if reason is not None:
        raise RuntimeError(f"Spark is not available: {reason}")
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None and master is None and not conf:
        return active
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    master = master or os.environ.get("GUANXI_SPARK_MASTER", "local[2]")
    builder = SparkSession.builder.master(master).appName(app_name)
    settings: dict[str, str] = {}
    if master.startswith("local"):
        settings.update(LOCAL_SPARK_CONF)
        scratch = Path(os.environ.get("TMPDIR", "/tmp")) / "guanxi-spark-warehouse"
        settings["spark.sql.warehouse.dir"] = str(scratch)
        settings["spark.driver.extraJavaOptions"] = f"-Dderby.system.home={scratch}"
    settings.update(conf or {})
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def spark_connect(session: SparkSession | None = None) -> BaseBackend:
    """An Ibis PySpark connection on ``session`` (by default ``spark_session()``)."""
    return ibis.pyspark.connect(session if session is not None else spark_session())


def connect(engine: str, *, spark: SparkSession | None = None) -> BaseBackend:
    """An Ibis connection for ``engine`` ("duckdb" or "spark")."""
    if engine == "duckdb":
        return duckdb_connect()
    if engine == "spark":
        return spark_connect(spark)
    raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")


def engine_of(con: BaseBackend) -> str:
    """Guanxi's engine name for an Ibis connection."""
    for engine, ibis_name in _IBIS_NAMES.items():
        if con.name == ibis_name:
            return engine
    raise ValueError(f"unsupported Ibis backend {con.name!r}; use DuckDB or PySpark")


def temp_name(prefix: str) -> str:
    """A unique name for a temporary view."""
    return f"guanxi_{prefix}_{uuid.uuid4().hex[:12]}"


def register_arrow(con: BaseBackend, table: pa.Table, *, prefix: str) -> ibis.Table:
    """Make an Arrow table queryable on ``con`` as a temporary view (no warehouse writes)."""
    name = temp_name(prefix)
    if con.name == "pyspark":
        session: SparkSession = con._session
        session.createDataFrame(table).createOrReplaceTempView(name)
        return con.table(name)
    # DuckDB scans the registered Arrow memory in place; nothing is copied.
    con.con.register(name, table)
    return con.table(name)


def drop_temp_view(con: BaseBackend, table: ibis.Table) -> None:
    """Drop a view made by ``register_arrow`` or ``read_file`` (a long-lived Spark session would
    otherwise keep every run's views in its catalog)."""
    name = table.get_name()
    if not name.startswith("guanxi_"):
        raise ValueError(f"{name!r} was not registered by Guanxi; refusing to drop it")
    if con.name == "pyspark":
        con._session.catalog.dropTempView(name)
    else:
        con.con.execute(f'DROP VIEW IF EXISTS "{name}"')


def read_file(con: BaseBackend, path: str | os.PathLike[str], *, prefix: str) -> ibis.Table:
    """Register a Parquet or CSV file, or a directory of Parquet files, with ``con``.

    Paths with a scheme (``hdfs://``, ``s3a://``) are passed to the engine unchecked; without a
    suffix they are read as Parquet directories."""
    text = os.fspath(path)
    suffix = Path(text).suffix.lower()
    remote = "://" in text  # hdfs://, s3a://, …: only the engine can look
    is_dir = Path(text).is_dir() or (remote and suffix == "")
    if not remote and not is_dir and not Path(text).exists():
        raise FileNotFoundError(f"no such file: {text}")
    name = temp_name(prefix)
    if suffix in {".csv", ".tsv", ".txt"}:
        if con.name == "pyspark":
            return con.read_csv(text, table_name=name, inferSchema=True, header=True)
        return con.read_csv(text, table_name=name)
    if suffix in {".parquet", ".pq"} or is_dir:
        return con.read_parquet(text, table_name=name)
    raise ValueError(f"cannot tell the format of {text}: use a .parquet or .csv file")
