"""The input contract: each kind of bad input is reported with its column, row count, example."""

from __future__ import annotations

import datetime as dt

import ibis
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from guanxi.analytics.backends import duckdb_connect
from guanxi.analytics.inputs import (
    TransactionsError,
    load_table,
    parse_as_of,
    validate_customers,
    validate_transactions,
)

AS_OF = dt.date(2024, 6, 30)


@pytest.fixture
def con():
    return duckdb_connect()


@pytest.fixture
def good(make_transactions) -> pa.Table:
    return make_transactions(
        [
            (1, dt.datetime(2024, 1, 5, 9, 30), 1000, 200),
            (1, dt.datetime(2024, 3, 1, 18, 0), 500, -50),
            (2, dt.datetime(2024, 6, 30, 23, 59), 700, 70),
        ]
    )


def _check(con, table: pa.Table, as_of: dt.date = AS_OF) -> TransactionsError:
    with pytest.raises(TransactionsError) as caught:
        validate_transactions(load_table(table, con, name="transactions"), as_of=as_of)
    return caught.value


def _only(error: TransactionsError, kind: str):
    matching = [p for p in error.problems if p.kind == kind]
    assert len(matching) == 1, error.problems
    return matching[0]


def test_a_good_table_passes_and_is_normalised(con, good):
    tx = good.set_column(2, "amount_cents", good.column("amount_cents").cast(pa.int32()))
    valid = validate_transactions(load_table(tx, con, name="transactions"), as_of=AS_OF)
    assert valid.n_rows == 3
    assert not valid.id_is_string
    # Integers that fit are narrowed to int32 for the feature window; wider ones stay int64.
    schema = valid.table.schema()
    assert schema["amount_cents"].is_int32() and schema["customer_id"].is_int32()
    big = tx.set_column(3, "profit_cents", pa.array([2**40, 1, -(2**31) - 1], pa.int64()))
    wide = validate_transactions(load_table(big, con, name="transactions"), as_of=AS_OF)
    assert wide.table.schema()["profit_cents"].is_int64()
    assert wide.table.schema()["amount_cents"].is_int32()
    # A purchase late on the as_of day itself is not "after as_of".
    assert valid.table.count().to_pyarrow().as_py() == 3


def test_missing_column_names_the_column_and_the_rows(con, good):
    error = _check(con, good.drop(["profit_cents"]))
    problem = _only(error, "missing")
    assert (problem.column, problem.count) == ("profit_cents", 3)
    assert "transactions.profit_cents: column is missing — all 3 rows" in str(error)


def test_float_cents_are_an_error_with_a_fractional_example(con, good):
    floats = pa.array([1000.0, 12.5, 700.0], pa.float64())
    error = _check(con, good.set_column(2, "amount_cents", floats))
    problem = _only(error, "wrong_type")
    assert (problem.column, problem.count, problem.example) == ("amount_cents", 3, "12.5")
    assert "amount_cents: has type float64, expected an integer number of cents" in str(error)
    assert "3 rows (e.g. 12.5)" in str(error)


def test_string_money_and_float_ids_are_wrong_types(con, good):
    text = pa.array(["1000", "500", "700"])
    ids = pa.array([1.0, 1.0, 2.0])
    error = _check(con, good.set_column(3, "profit_cents", text).set_column(0, "customer_id", ids))
    columns = {p.column: p for p in error.problems if p.kind == "wrong_type"}
    assert set(columns) == {"profit_cents", "customer_id"}
    assert columns["profit_cents"].count == 3
    assert columns["profit_cents"].example == "1000"
    assert "customer_id: has type float64, expected an integer or a string" in str(error)


def test_zone_aware_timestamps_from_a_query_are_rejected(con, good):
    tx = load_table(good, con, name="transactions")
    zoned = tx.mutate(ts=tx.ts.cast(ibis.dtype("timestamp('UTC')")))
    with pytest.raises(TransactionsError) as caught:
        validate_transactions(zoned, as_of=AS_OF)
    problem = _only(caught.value, "wrong_type")
    assert (problem.column, problem.count) == ("ts", 3)
    assert "without time zone" in str(caught.value)


def test_zone_aware_arrow_timestamps_become_local_wall_clock(con):
    # 17:30 UTC is 01:30 the next day in Shanghai: the purchase belongs to the Shanghai date.
    utc = pa.array([dt.datetime(2024, 6, 29, 17, 30)], pa.timestamp("us", tz="UTC"))
    table = pa.table(
        {
            "customer_id": [1],
            "ts": utc.cast(pa.timestamp("us", tz="Asia/Shanghai")),
            "amount_cents": [100],
            "profit_cents": [10],
        }
    )
    valid = validate_transactions(load_table(table, con, name="transactions"), as_of=AS_OF)
    day = valid.table.select(day=valid.table.ts.cast("date")).to_pyarrow()
    assert day.column("day").to_pylist() == [dt.date(2024, 6, 30)]


@pytest.mark.parametrize("column", ["customer_id", "ts", "amount_cents", "profit_cents"])
def test_nulls_are_counted_per_column(con, good, column):
    index = good.column_names.index(column)
    values = good.column(column).to_pylist()
    values[0] = values[2] = None
    error = _check(
        con, good.set_column(index, column, pa.array(values, good.schema.field(column).type))
    )
    problem = _only(error, "null")
    assert (problem.column, problem.count) == (column, 2)
    assert f"transactions.{column}: is null — 2 rows" in str(error)
    if column != "customer_id":
        assert problem.example == "the row with customer_id=1"


def test_transactions_after_as_of_are_counted_with_the_latest(con, good, make_transactions):
    late = make_transactions(
        [(3, dt.datetime(2024, 7, 1, 0, 0), 100, 10), (3, dt.datetime(2024, 7, 9, 8, 0), 1, 1)]
    )
    error = _check(con, pa.concat_tables([good, late]))
    problem = _only(error, "after_as_of")
    assert (problem.column, problem.count) == ("ts", 2)
    assert problem.example.startswith("2024-07-09 08:00:00")
    assert "ts: is after as_of 2024-06-30 — 2 rows" in str(error)


def test_dates_after_as_of_are_counted_for_date_columns(con, make_transactions):
    tx = make_transactions([(1, dt.date(2024, 6, 30), 5, 1), (1, dt.date(2024, 7, 1), 5, 1)])
    problem = _only(_check(con, tx), "after_as_of")
    assert (problem.count, problem.example) == (1, "2024-07-01")


def test_negative_amounts_are_counted_with_the_smallest(con, good):
    amounts = pa.array([-5, 500, -1200], pa.int64())
    error = _check(con, good.set_column(2, "amount_cents", amounts))
    problem = _only(error, "negative")
    assert (problem.column, problem.count, problem.example) == ("amount_cents", 2, "-1200")


def test_negative_profit_is_allowed(con, good):
    profits = pa.array([-100, -200, -300], pa.int64())
    valid = validate_transactions(
        load_table(good.set_column(3, "profit_cents", profits), con, name="t"), as_of=AS_OF
    )
    assert valid.n_rows == 3


def test_every_problem_is_reported_at_once(con, good):
    amounts = pa.array([-5, None, 7], pa.int64())
    tx = good.set_column(2, "amount_cents", amounts).drop(["profit_cents"])
    kinds = {(p.column, p.kind) for p in _check(con, tx, as_of=dt.date(2024, 2, 1)).problems}
    assert kinds == {
        ("profit_cents", "missing"),
        ("amount_cents", "null"),
        ("amount_cents", "negative"),
        ("ts", "after_as_of"),
    }


def test_an_empty_table_is_an_error(con, good):
    error = _check(con, good.slice(0, 0))
    assert _only(error, "empty").count == 0
    assert "no rows" in str(error)


def test_transactions_error_is_a_value_error():
    assert issubclass(TransactionsError, ValueError)


def test_parquet_and_csv_files_load(con, good, tmp_path):
    pq.write_table(good, tmp_path / "tx.parquet")
    pacsv.write_csv(good, tmp_path / "tx.csv")
    for path in (tmp_path / "tx.parquet", tmp_path / "tx.csv"):
        valid = validate_transactions(load_table(path, con, name="transactions"), as_of=AS_OF)
        assert valid.n_rows == 3


def test_csv_with_decimal_amounts_is_rejected(con, tmp_path):
    path = tmp_path / "tx.csv"
    path.write_text(
        "customer_id,ts,amount_cents,profit_cents\n1,2024-01-01,10.50,1\n2,2024-01-02,3,1\n"
    )
    problem = _only(_check_path(con, path), "wrong_type")
    assert (problem.column, problem.count, problem.example) == ("amount_cents", 2, "10.5")


def _check_path(con, path) -> TransactionsError:
    with pytest.raises(TransactionsError) as caught:
        validate_transactions(load_table(path, con, name="transactions"), as_of=AS_OF)
    return caught.value


def test_unknown_sources_are_rejected(con, tmp_path):
    with pytest.raises(FileNotFoundError):
        load_table(tmp_path / "nope.parquet", con, name="transactions")
    (tmp_path / "tx.json").write_text("{}")
    with pytest.raises(ValueError, match="cannot tell the format"):
        load_table(tmp_path / "tx.json", con, name="transactions")
    with pytest.raises(TypeError, match="pyarrow Table"):
        load_table({"customer_id": [1]}, con, name="transactions")


def test_customers_must_match_the_transactions_id_type(con):
    strings = load_table(pa.table({"customer_id": ["a", None, "b"]}), con, name="customers")
    with pytest.raises(TransactionsError) as caught:
        validate_customers(strings, id_is_string=False)
    kinds = {(p.table, p.column, p.kind, p.count) for p in caught.value.problems}
    assert kinds == {
        ("customers", "customer_id", "wrong_type", 2),
        ("customers", "customer_id", "null", 1),
    }

    ids = load_table(pa.table({"customer_id": pa.array([3, 1, 3], pa.int32())}), con, name="c")
    distinct = validate_customers(ids, id_is_string=False).to_pyarrow()
    assert sorted(distinct.column("customer_id").to_pylist()) == [1, 3]
    assert distinct.schema.field("customer_id").type == pa.int64()

    missing = load_table(pa.table({"id": [1]}), con, name="c")
    with pytest.raises(TransactionsError, match=r"customers\.customer_id: column is missing"):
        validate_customers(missing, id_is_string=False)


def test_as_of_parsing():
    assert parse_as_of("2024-06-30") == AS_OF
    assert parse_as_of(AS_OF) == AS_OF
    with pytest.raises(ValueError, match="ISO date"):
        parse_as_of("30/06/2024")
    with pytest.raises(TypeError, match="not a datetime"):
        parse_as_of(dt.datetime(2024, 6, 30, 12))


def test_engine_names_and_view_cleanup(con, good):
    from guanxi.analytics.backends import connect, drop_temp_view, engine_of

    assert engine_of(con) == "duckdb"
    with pytest.raises(ValueError, match="engine must be one of duckdb, spark"):
        connect("oracle")
    tx = load_table(good, con, name="transactions")
    drop_temp_view(con, tx)
    assert (
        con.con.sql("select * from duckdb_views() where view_name like 'guanxi_%'").fetchall() == []
    )
    con.create_table("orders", good)
    with pytest.raises(ValueError, match="not registered by Guanxi"):
        drop_temp_view(con, con.table("orders"))
