"""Fixtures for the analytics pipeline tests: hand-made tables, CDNOW, simulated data, Spark."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from guanxi.analytics.simulate import purchase_days
from tests.analytics.cdnow import DATA_DIR as CDNOW_DIR

CDNOW_SAMPLE = CDNOW_DIR / "CDNOW_sample.txt"
CDNOW_SUMMARY = CDNOW_DIR / "cdnow_customers_summary_with_transactions.csv"
CDNOW_AS_OF = dt.date(1997, 9, 30)


def _transactions(rows: Sequence[tuple[Any, Any, int, int]]) -> pa.Table:
    """An Arrow transactions table from (customer_id, ts, amount_cents, profit_cents) tuples."""
    ids, ts, amount, profit = zip(*rows, strict=True)
    id_type = pa.string() if isinstance(ids[0], str) else pa.int64()
    ts_type = pa.timestamp("us") if isinstance(ts[0], dt.datetime) else pa.date32()
    return pa.table(
        {
            "customer_id": pa.array(ids, id_type),
            "ts": pa.array(ts, ts_type),
            "amount_cents": pa.array(amount, pa.int64()),
            "profit_cents": pa.array(profit, pa.int64()),
        }
    )


def _by_customer(table: pa.Table) -> dict[Any, dict[str, Any]]:
    """Rows of a per-customer table keyed by customer_id."""
    return {row["customer_id"]: row for row in table.to_pylist()}


def _cdnow_transactions(path: Path = CDNOW_SAMPLE) -> pa.Table:
    """The CDNOW sample as a transactions table: sample id, date, dollars as cents (profit = amount,
    as the data has no cost)."""
    raw = np.loadtxt(path, dtype=np.float64, ndmin=2)
    dates = raw[:, 2].astype(np.int64)
    days = np.array(
        [f"{d // 10000:04d}-{d // 100 % 100:02d}-{d % 100:02d}" for d in dates.tolist()],
        dtype="datetime64[D]",
    )
    cents = np.rint(raw[:, 4] * 100).astype(np.int64)
    return pa.table(
        {
            "customer_id": pa.array(raw[:, 1].astype(np.int64)),
            "ts": pa.array(days, pa.date32()),
            "amount_cents": pa.array(cents),
            "profit_cents": pa.array(cents),
        }
    )


def _simulate_transactions(n_customers: int, *, seed: int, as_of: dt.date) -> pa.Table:
    """Buy-till-you-die data: Poisson purchases (per-customer rate ~ Gamma) until a dropout after
    each purchase (probability ~ Beta); Gamma spend; about 10 rows per customer, with same-day
    purchases, negative-profit rows and timestamps with a time of day."""
    rng = np.random.default_rng(seed)
    horizon = 730.0
    birth = rng.uniform(0, horizon * 0.8, n_customers)
    rate = rng.gamma(1.2, 1 / 20.0, n_customers)
    dropout = rng.beta(1.0, 8.0, n_customers)
    customer, day = purchase_days(
        rng, birth=birth, rate=rate, dropout=dropout, horizon=horizon, max_repeats=200
    )
    scale = rng.gamma(4.0, 1 / 15.0, n_customers)
    amount = np.maximum(np.rint(rng.gamma(6.0, 1.0, customer.size) / scale[customer] * 100), 1)
    margin = rng.uniform(-0.1, 0.5, customer.size)
    start = np.datetime64(as_of, "us") - np.timedelta64(int(horizon), "D")
    stamp = start + (day * 86_400e6).astype("timedelta64[us]")
    return pa.table(
        {
            "customer_id": pa.array(customer.astype(np.int64) * 7 + 1000),
            "ts": pa.array(stamp, pa.timestamp("us")),
            "amount_cents": pa.array(amount.astype(np.int64)),
            "profit_cents": pa.array(np.rint(amount * margin).astype(np.int64)),
        }
    )


@pytest.fixture
def make_transactions() -> Any:
    """Factory: an Arrow transactions table from (customer_id, ts, amount_cents, profit_cents)."""
    return _transactions


@pytest.fixture
def by_customer() -> Any:
    """Factory: a per-customer Arrow table as {customer_id: row dict}."""
    return _by_customer


@pytest.fixture(scope="session")
def cdnow() -> pa.Table:
    if not CDNOW_SAMPLE.exists():
        pytest.skip(f"the CDNOW sample is not at {CDNOW_SAMPLE}")
    return _cdnow_transactions()


@pytest.fixture(scope="session")
def cdnow_published() -> dict[str, np.ndarray]:
    """Fader & Hardie's published calibration summary: ID, x, t_x, T (2 decimals), zbar."""
    table = np.loadtxt(CDNOW_SUMMARY, delimiter=",", skiprows=1)
    names = ("customer_id", "x", "t_x", "T", "zbar")
    return {name: table[:, i] for i, name in enumerate(names)}


@pytest.fixture(scope="session")
def simulated() -> pa.Table:
    """15,000 customers' simulated transactions (about 150,000 rows), as of 2024-06-30."""
    return _simulate_transactions(15_000, seed=20240630, as_of=dt.date(2024, 6, 30))


@pytest.fixture(scope="session")
def spark_session() -> Iterator[Any]:
    """One local[2] SparkSession for every Spark test; skipped where pyspark or Java is missing."""
    from guanxi.analytics.backends import spark_session as make_session
    from guanxi.analytics.backends import spark_unavailable_reason

    reason = spark_unavailable_reason()
    if reason is not None:
        pytest.skip(f"Spark tests need pyspark and Java: {reason}")
    session = make_session(master="local[2]")
    yield session
    session.stop()
