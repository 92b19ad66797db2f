"""The same pipeline on Spark (local[2]) gives the same scores as on DuckDB."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from guanxi.analytics.inputs import TransactionsError
from guanxi.analytics.pipeline import SCORE_COLUMNS, score

pytestmark = pytest.mark.spark

AS_OF = dt.date(2024, 6, 30)


@pytest.fixture(scope="module")
def customers(simulated) -> pa.Table:
    """Every buyer plus 25 customers who never bought."""
    ids = pc.unique(simulated["customer_id"])
    never = pa.array(np.arange(25, dtype=np.int64) + 10_000_000)
    return pa.table({"customer_id": pa.concat_arrays([ids, never])})


@pytest.fixture(scope="module")
def on_duckdb(simulated, customers):
    return score(simulated, AS_OF, backend="duckdb", customers=customers)


@pytest.fixture(scope="module")
def on_spark(simulated, customers, spark_session, tmp_path_factory):
    # Spark reads the transactions from Parquet, as it would from a cluster's storage.
    path = tmp_path_factory.mktemp("spark") / "transactions.parquet"
    pq.write_table(simulated, path)
    return score(path, AS_OF, backend="spark", customers=customers, spark=spark_session)


def test_the_data_set_is_large_enough(simulated, on_duckdb):
    assert simulated.num_rows >= 100_000
    rows = on_duckdb.metadata["rows"]
    assert rows["transactions"] == simulated.num_rows
    assert rows["prospects"] == 25


def test_every_column_is_identical(on_duckdb, on_spark):
    # Rows come in no particular order: compare them sorted by customer_id.
    duck = on_duckdb.table.sort_by("customer_id")
    spark = on_spark.table.sort_by("customer_id")
    assert spark.schema.equals(duck.schema)
    assert spark.num_rows == duck.num_rows
    for name in SCORE_COLUMNS:
        left, right = duck.column(name), spark.column(name)
        if pa.types.is_floating(left.type):
            assert left.null_count == right.null_count, name
            np.testing.assert_allclose(
                right.to_numpy(), left.to_numpy(), rtol=1e-9, atol=0, equal_nan=True, err_msg=name
            )
        else:
            assert right.equals(left), name


def test_the_models_agree(on_duckdb, on_spark):
    assert on_spark.metadata["engine"] == "spark"
    assert "pyspark" in on_spark.metadata["versions"]
    for model in ("bgnbd", "gamma_gamma"):
        duck = on_duckdb.metadata["models"][model]
        spark = on_spark.metadata["models"][model]
        for name, value in duck["params"].items():
            assert spark["params"][name] == pytest.approx(value, rel=1e-9)
        assert spark["loglik"] == pytest.approx(duck["loglik"], rel=1e-12)
    assert on_spark.metadata["counts"] == on_duckdb.metadata["counts"]


def test_validation_runs_on_spark(spark_session, make_transactions):
    bad = make_transactions(
        [(1, dt.datetime(2024, 7, 2, 9, 0), 100, 1), (2, dt.datetime(2024, 1, 1), -5, 1)]
    )
    with pytest.raises(TransactionsError) as caught:
        score(bad, AS_OF, backend="spark", spark=spark_session)
    kinds = {(p.column, p.kind, p.count) for p in caught.value.problems}
    assert kinds == {("ts", "after_as_of", 1), ("amount_cents", "negative", 1)}


def test_the_cli_runs_on_spark(spark_session, simulated, tmp_path, capsys):
    from guanxi.analytics.cli import EXIT_OK, main

    path = tmp_path / "transactions.parquet"
    pq.write_table(simulated.slice(0, 40_000), path)
    out = tmp_path / "scores.parquet"
    argv = ["score", "--transactions", str(path), "--as-of", "2024-06-30", "--out", str(out)]
    assert main([*argv, "--engine", "spark", "--quiet"]) == EXIT_OK
    assert "on spark" in capsys.readouterr().out
    assert pq.read_metadata(out).num_rows > 1000
    # The command used the running session and left it running.
    assert not spark_session.sparkContext._jsc.sc().isStopped()
