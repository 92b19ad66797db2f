"""Temporary staging tables: the one place where PostgreSQL and SQLite are handled differently.

An import parses and validates rows, loads them in batches into a temporary table (PostgreSQL:
binary ``COPY``; SQLite: ``executemany``) — as tuples from the row reader, or as Arrow columns
from the bulk CSV path (``load_columns``) — and does everything else — duplicate and reference
checks, counts, upserts — as set-based SQL over that table, inside the import's transaction.
Temporary tables live in the session, not in the database schema, and vanish with a rollback.
"""

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache
from typing import Any

import pyarrow as pa
from django.db.backends.base.base import BaseDatabaseWrapper

from guanxi.core import pgcopy
from guanxi.imports.columnar import StagedType, sqlite_datetime_text
from guanxi.imports.formats import Kind

_PG_TYPES = {
    Kind.TEXT: "text",
    Kind.EMAIL: "text",
    Kind.ENUM: "text",
    Kind.INT: "bigint",
    Kind.MONEY: "bigint",
    Kind.BOOL: "boolean",
    Kind.DATE: "date",
    Kind.DATETIME: "timestamptz",
}
# The binary COPY encoder's names for the staging types.
_PG_COPY_TYPES = {
    Kind.TEXT: "text",
    Kind.EMAIL: "text",
    Kind.ENUM: "text",
    Kind.INT: "int8",
    Kind.MONEY: "int8",
    Kind.BOOL: "bool",
    Kind.DATE: "date",
    Kind.DATETIME: "timestamptz",
}
_SQLITE_TYPES = {
    Kind.TEXT: "TEXT",
    Kind.EMAIL: "TEXT",
    Kind.ENUM: "TEXT",
    Kind.INT: "INTEGER",
    Kind.MONEY: "INTEGER",
    Kind.BOOL: "INTEGER",
    Kind.DATE: "TEXT",
    Kind.DATETIME: "TEXT",
}


class Staging:
    """Temporary tables on one connection, and the SQL helpers the checks and merges share.

    ``q`` quotes a name; ``distinct`` is the null-safe "differs" operator (``IS DISTINCT FROM``
    on PostgreSQL, ``IS NOT`` on SQLite, which means the same there).
    """

    def __init__(self, connection: BaseDatabaseWrapper):
        self.connection = connection
        self.postgres = connection.vendor == "postgresql"
        self.distinct = "IS DISTINCT FROM" if self.postgres else "IS NOT"
        self.q = connection.ops.quote_name
        self.tables: dict[str, list[tuple[str, str]]] = {}
        self.cursor = connection.cursor()
        # The DB-API connection itself: ``django.db.connection`` is per thread, and the loader
        # thread must write into this connection's transaction.
        self.raw = connection.connection
        self._pragmas: list[tuple[str, Any]] = []
        if self.postgres:
            # Sorting and hashing a million staged rows in memory instead of spilling to disk;
            # SET LOCAL ends with the import's transaction.
            self.cursor.execute("SET LOCAL work_mem = '256MB'")
        else:
            # The exact text Django stores for a DateTimeField (UTC, naive), so staged and stored
            # values compare; cached, as an order file repeats each order's timestamp per line.
            zone = connection.timezone
            self._sqlite_datetime = lru_cache(maxsize=65536)(
                lambda value: str(value.astimezone(zone).replace(tzinfo=None))
            )
            # SQLite's default page cache is 2 MB; a million-row import walks indexes far larger.
            # A bounded 64 MB for the run, restored by ``close``.
            for schema in ("main", "temp"):
                self.cursor.execute(f"PRAGMA {schema}.cache_size")
                self._pragmas.append((schema, self.cursor.fetchone()[0]))
                self.cursor.execute(f"PRAGMA {schema}.cache_size = -65536")

    def create(
        self, name: str, columns: Sequence[tuple[str, str]], *, ordered_by: str | None = None
    ) -> None:
        """A staging table; ``ordered_by`` names the column rows arrive sorted and unique by."""
        types = _PG_TYPES if self.postgres else _SQLITE_TYPES
        spec = ", ".join(
            f"{self.q(column)} {types[kind]}"
            # On SQLite that column becomes the rowid: file order is then the table's own order,
            # and the writes that go in file order need no sort.
            + (" PRIMARY KEY" if column == ordered_by and not self.postgres else "")
            for column, kind in columns
        )
        self.cursor.execute(f"DROP TABLE IF EXISTS {self.q(name)}")
        self.cursor.execute(f"CREATE TEMPORARY TABLE {self.q(name)} ({spec}){self._on_commit}")
        self.tables[name] = list(columns)

    def create_as(self, name: str, select: str, params: Sequence[Any] = ()) -> None:
        self.cursor.execute(f"DROP TABLE IF EXISTS {self.q(name)}")
        self.cursor.execute(
            f"CREATE TEMPORARY TABLE {self.q(name)}{self._on_commit} AS {select}", params
        )
        self.tables[name] = []

    @property
    def _on_commit(self) -> str:
        return " ON COMMIT DROP" if self.postgres else ""

    def load(self, name: str, rows: Sequence[Sequence[Any]], *, adapt: bool = True) -> None:
        """Append rows (values in the table's column order, Python-typed) to a staging table.

        Uses the DB-API connection directly, so it may run on the loader thread while the main
        thread parses the next batch (psycopg and sqlite3 release the GIL while they wait).
        """
        if not rows:
            return
        columns = self.tables[name]
        names = ", ".join(self.q(column) for column, _ in columns)
        raw = self.raw
        if self.postgres:
            with (
                raw.cursor() as cursor,
                cursor.copy(f"COPY {self.q(name)} ({names}) FROM STDIN (FORMAT BINARY)") as copy,
            ):
                copy.set_types([_PG_TYPES[kind] for _, kind in columns])
                for row in rows:
                    copy.write_row(row)
            return
        adapters = [
            (i, self._sqlite_adapter(kind))
            for i, (_, kind) in enumerate(columns)
            if kind in (Kind.DATETIME, Kind.DATE)
        ]
        if adapters and adapt:
            rows = [self._adapted(row, adapters) for row in rows]
        marks = ", ".join(["?"] * len(columns))
        cursor = raw.cursor()
        try:
            cursor.executemany(f"INSERT INTO {self.q(name)} ({names}) VALUES ({marks})", rows)
        finally:
            cursor.close()

    def load_columns(self, name: str, columns: Sequence[pa.Array], *, batch_size: int) -> None:
        """Append rows given as Arrow columns (typed as ``staged_types`` says), in the table's
        column order, ``batch_size`` rows at a time. PostgreSQL takes them as one binary
        ``COPY``, each batch encoded by Arrow."""
        rows = len(columns[0])
        batches = (
            [c.slice(start, batch_size) for c in columns] for start in range(0, rows, batch_size)
        )
        if not self.postgres:
            # Already adapted (``staged_types``): plain Python values for executemany.
            for batch in batches:
                self.load(
                    name, list(zip(*(c.to_pylist() for c in batch), strict=True)), adapt=False
                )
            return
        if not rows:
            return
        kinds = [kind for _, kind in self.tables[name]]
        names = ", ".join(self.q(column) for column, _ in self.tables[name])
        with (
            self.raw.cursor() as cursor,
            cursor.copy(f"COPY {self.q(name)} ({names}) FROM STDIN (FORMAT BINARY)") as copy,
        ):
            for i, batch in enumerate(batches):
                # One stream: its signature before the first batch, its trailer after the last.
                copy.write(
                    pgcopy.encode_joined(
                        [(_PG_COPY_TYPES[k], c) for k, c in zip(kinds, batch, strict=True)],
                        signature=i == 0,
                        trailer=(i + 1) * batch_size >= rows,
                    )
                )

    def staged_types(self) -> dict[str, StagedType]:
        """How ``load_columns`` wants each kind of column: Arrow type and adapters."""
        types = {
            Kind.TEXT: StagedType(pa.string()),
            Kind.EMAIL: StagedType(pa.string()),
            Kind.ENUM: StagedType(pa.string()),
            Kind.INT: StagedType(pa.int64()),
            Kind.MONEY: StagedType(pa.int64()),
            Kind.BOOL: StagedType(pa.bool_()),
        }
        if self.postgres:
            types[Kind.DATE] = StagedType(pa.date32())
            types[Kind.DATETIME] = StagedType(
                pa.timestamp("us", tz="UTC"), from_utc=lambda instants: instants
            )
            return types
        types[Kind.DATE] = StagedType(pa.string(), adapt=self._sqlite_adapter(Kind.DATE))
        zone = self.connection.timezone
        utc = zone is dt.UTC or getattr(zone, "key", None) == "UTC"
        types[Kind.DATETIME] = StagedType(
            pa.string(),
            adapt=self._sqlite_datetime,
            # Arrow writes the same text as ``_sqlite_datetime`` only for a UTC connection.
            from_utc=sqlite_datetime_text if utc else None,
        )
        return types

    def _sqlite_adapter(self, kind: str) -> Callable[[Any], Any]:
        if kind == Kind.DATETIME:
            return self._sqlite_datetime
        return self.connection.ops.adapt_datefield_value

    @staticmethod
    def _adapted(row: Sequence[Any], adapters: list[tuple[int, Callable]]) -> list[Any]:
        values = list(row)
        for i, adapt in adapters:
            if values[i] is not None:
                values[i] = adapt(values[i])
        return values

    def loader(self) -> "Loader":
        return Loader(self)

    def index(self, name: str, *columns: str) -> None:
        cols = ", ".join(self.q(c) for c in columns)
        self.cursor.execute(
            f"CREATE INDEX {self.q(name + '_' + columns[0])} ON {self.q(name)} ({cols})"
        )

    def analyze(self, name: str) -> None:
        # Autovacuum never sees temporary tables: without statistics PostgreSQL plans the joins
        # over a million staged rows as if the table were tiny.
        self.cursor.execute(f"ANALYZE {self.q(name)}")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        self.cursor.execute(sql, self.params(params))
        return self.cursor.rowcount

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self.cursor.execute(sql, self.params(params))
        return self.cursor.fetchall()

    def fetch_limited(
        self, sql: str, params: Sequence[Any] = (), *, limit: int
    ) -> tuple[list[tuple[Any, ...]], int]:
        """Up to ``limit`` rows of a query whose first column is ``row_no``, and how many match."""
        rows = self.fetchall(
            f"SELECT q.*, COUNT(*) OVER () FROM ({sql}) q ORDER BY q.row_no LIMIT {int(limit)}",
            params,
        )
        total = rows[0][-1] if rows else 0
        return [row[:-1] for row in rows], total

    def params(self, params: Iterable[Any]) -> list[Any]:
        if self.postgres:
            return list(params)
        adapted = []
        for value in params:
            if isinstance(value, dt.datetime):
                value = self.connection.ops.adapt_datetimefield_value(value)
            adapted.append(value)
        return adapted

    def to_python(self, kind: str, value: Any) -> Any:
        """A staged value read back, typed as the row parser produced it."""
        if value is None or self.postgres:
            return value
        if kind == Kind.DATETIME:
            return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
        if kind == Kind.DATE:
            return dt.date.fromisoformat(value)
        if kind == Kind.BOOL:
            return bool(value)
        return value

    def close(self) -> None:
        """Restore the connection's settings and close the cursor (the tables stay for
        ``drop`` or the rollback)."""
        try:
            for schema, value in self._pragmas:
                # Not part of the transaction, which may be marked for rollback by now.
                self.raw.execute(f"PRAGMA {schema}.cache_size = {int(value)}")
        finally:
            self.cursor.close()

    def drop(self) -> None:
        """Drop the staging tables after a successful run (a rollback drops them anyway)."""
        for name in reversed(list(self.tables)):
            self.cursor.execute(f"DROP TABLE IF EXISTS {self.q(name)}")
        self.tables.clear()


class Loader:
    """Loads batches on one background thread, so that parsing the next batch overlaps the
    database taking in the last one. One batch at most is in flight; errors surface on the next
    ``submit`` or on ``close``."""

    def __init__(self, st: Staging):
        self.st = st
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="guanxi-import")
        self._pending: Future | None = None

    def submit(self, name: str, rows: Sequence[Sequence[Any]]) -> None:
        self.wait()
        if rows:
            self._pending = self._executor.submit(self.st.load, name, rows)

    def submit_columns(self, name: str, columns: Sequence[pa.Array], *, batch_size: int) -> None:
        self.wait()
        if len(columns[0]):
            self._pending = self._executor.submit(
                self.st.load_columns, name, columns, batch_size=batch_size
            )

    def wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self._executor.shutdown(wait=True)

    def __enter__(self) -> "Loader":
        return self

    def __exit__(self, exc_type: object, *exc_info: object) -> None:
        try:
            self.close()
        except Exception:
            if exc_type is None:
                raise  # otherwise the error already on its way out is the one to report
