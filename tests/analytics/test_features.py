"""Per-customer features on hand-made data, with every expected value worked out by hand."""

from __future__ import annotations

import datetime as dt
import math
import statistics

import pytest

from guanxi.analytics.backends import duckdb_connect
from guanxi.analytics.config import ScoringConfig
from guanxi.analytics.features import FEATURE_COLUMNS, customer_features
from guanxi.analytics.inputs import load_table, validate_transactions

AS_OF = dt.date(2024, 6, 30)  # day 181 counted from 2024-01-01 (2024 is a leap year)
D = dt.datetime


@pytest.fixture
def rows():
    return [
        # Customer 1: two purchases on 1 Jan (one transaction), then 11 Jan, 31 Jan and 10 Jun.
        (1, D(2024, 1, 1, 10, 0), 1000, 200),
        (1, D(2024, 1, 1, 18, 30), 500, 100),
        (1, D(2024, 1, 11, 9, 0), 2000, 400),
        (1, D(2024, 1, 31, 12, 0), 3000, 600),
        (1, D(2024, 6, 10, 8, 0), 4000, -100),
        # Customer 2: one purchase a minute before midnight on 29 Jun — still 29 Jun.
        (2, D(2024, 6, 29, 23, 59), 500, 50),
        # Customer 3: spend falls from the previous 30-day window to the recent one.
        (3, D(2024, 4, 1, 12, 0), 1000, 100),
        (3, D(2024, 5, 15, 12, 0), 3000, 300),
        (3, D(2024, 6, 20, 12, 0), 1000, 100),
        # Customer 4: window edges. 1 May is 60 days before as_of (in neither window), 31 May is
        # 30 days before (previous window), 1 Jun is 29 days before (recent window).
        (4, D(2024, 5, 1, 0, 0), 100, 0),
        (4, D(2024, 5, 31, 23, 0), 700, 0),
        (4, D(2024, 6, 1, 1, 0), 300, 0),
    ]


@pytest.fixture
def features(rows, make_transactions, by_customer):
    def run(time_unit: str = "day"):
        con = duckdb_connect()
        tx = load_table(make_transactions(rows), con, name="transactions")
        valid = validate_transactions(tx, as_of=AS_OF)
        config = ScoringConfig(time_unit=time_unit, spend_trend_window_days=30)
        table = customer_features(valid.table, as_of=AS_OF, config=config).to_pyarrow()
        assert tuple(table.column_names) == FEATURE_COLUMNS
        return by_customer(table)

    return run


def test_repeat_buyer_with_same_day_purchases(features):
    c = features()[1]
    assert c["first_purchase"] == dt.date(2024, 1, 1)
    assert c["last_purchase"] == dt.date(2024, 6, 10)
    assert (c["n_orders"], c["x"]) == (4, 3)  # the two 1 Jan rows are one transaction
    assert (c["t_x"], c["T"]) == (161.0, 181.0)
    assert (c["revenue_cents"], c["profit_cents"]) == (10500, 1200)
    # Repeat transactions: 2000, 3000, 4000 (the merged first day, 1500, is excluded).
    assert c["mean_repeat_spend_cents"] == 3000.0
    # Intervals 10, 20 and 131 days.
    assert c["interval_mean_days"] == pytest.approx(161 / 3, rel=1e-15)
    assert c["interval_std_days"] == pytest.approx(statistics.stdev([10, 20, 131]), rel=1e-12)
    assert (c["spend_recent_cents"], c["spend_previous_cents"]) == (4000, 0)
    assert c["spend_trend"] == 1.0
    assert c["days_since_last"] == 20
    assert c["overdue_ratio"] == pytest.approx(20 / (161 / 3), rel=1e-15)


def test_one_time_buyer(features):
    c = features()[2]
    assert (c["n_orders"], c["x"], c["t_x"], c["T"]) == (1, 0, 0.0, 1.0)
    assert c["first_purchase"] == c["last_purchase"] == dt.date(2024, 6, 29)
    for missing in ("mean_repeat_spend_cents", "interval_mean_days", "interval_std_days"):
        assert c[missing] is None
    assert c["overdue_ratio"] is None
    assert (c["spend_recent_cents"], c["spend_previous_cents"], c["spend_trend"]) == (500, 0, 1.0)
    assert c["days_since_last"] == 1


def test_spend_trend_down(features):
    c = features()[3]
    assert (c["spend_recent_cents"], c["spend_previous_cents"]) == (1000, 3000)
    assert c["spend_trend"] == -0.5  # (1000 - 3000) / (1000 + 3000)
    assert c["mean_repeat_spend_cents"] == 2000.0
    assert c["interval_std_days"] == pytest.approx(statistics.stdev([44, 36]), rel=1e-12)


def test_trend_window_edges(features):
    c = features()[4]
    assert (c["spend_recent_cents"], c["spend_previous_cents"]) == (300, 700)
    assert c["spend_trend"] == pytest.approx(-0.4, rel=1e-15)
    assert c["interval_std_days"] == pytest.approx(statistics.stdev([30, 1]), rel=1e-12)
    assert c["days_since_last"] == 29


def test_weeks_divide_days_by_seven(features):
    c = features("week")[1]
    assert c["t_x"] == 23.0
    assert c["T"] == pytest.approx(181 / 7, rel=1e-15)
    assert c["interval_mean_days"] == pytest.approx(161 / 3, rel=1e-15)  # intervals stay in days


def test_no_spend_in_either_window_gives_no_trend(make_transactions, by_customer):
    con = duckdb_connect()
    tx = make_transactions([(9, dt.date(2023, 1, 1), 100, 1), (9, dt.date(2023, 1, 8), 0, 0)])
    valid = validate_transactions(load_table(tx, con, name="t"), as_of=AS_OF)
    config = ScoringConfig(spend_trend_window_days=30)
    c = by_customer(customer_features(valid.table, as_of=AS_OF, config=config).to_pyarrow())[9]
    assert c["spend_trend"] is None
    assert c["interval_std_days"] is None  # one interval has no spread
    assert c["mean_repeat_spend_cents"] == 0.0
    assert c["overdue_ratio"] == pytest.approx((AS_OF - dt.date(2023, 1, 8)).days / 7)


def test_string_ids_and_date_columns(make_transactions, by_customer):
    con = duckdb_connect()
    tx = make_transactions(
        [
            ("b", dt.date(2024, 6, 1), 100, 10),
            ("a", dt.date(2024, 6, 1), 100, 10),
            ("a", dt.date(2024, 6, 15), 300, 30),
        ]
    )
    valid = validate_transactions(load_table(tx, con, name="t"), as_of=AS_OF)
    table = customer_features(valid.table, as_of=AS_OF, config=ScoringConfig()).to_pyarrow()
    rows = by_customer(table)
    assert set(rows) == {"a", "b"}
    assert (rows["a"]["x"], rows["a"]["t_x"], rows["a"]["T"]) == (1, 14.0, 29.0)
    assert math.isclose(rows["a"]["mean_repeat_spend_cents"], 300.0)
