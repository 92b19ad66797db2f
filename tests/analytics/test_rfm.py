"""RFM scores: quantile bins with ties broken by customer id, and the segment mapping."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from guanxi.analytics.backends import duckdb_connect, register_arrow
from guanxi.analytics.rfm import SEGMENT_GRID, SEGMENTS, rfm_scores, segment_for


def _score(ids, last, orders, revenue, bins=5):
    table = pa.table(
        {
            "customer_id": pa.array(ids, pa.int64()),
            "last_purchase": pa.array(last, pa.date32()),
            "n_orders": pa.array(orders, pa.int64()),
            "revenue_cents": pa.array(revenue, pa.int64()),
        }
    )
    scored = rfm_scores(register_arrow(duckdb_connect(), table, prefix="f"), bins=bins)
    return {row["customer_id"]: row for row in scored.to_pyarrow().to_pylist()}


def test_ties_are_broken_by_customer_id():
    # Ten customers identical in every measure, listed out of order: the id decides.
    ids = [7, 3, 10, 1, 5, 2, 9, 4, 8, 6]
    rows = _score(ids, [dt.date(2024, 1, 1)] * 10, [2] * 10, [500] * 10)
    expected = {cid: (cid + 1) // 2 for cid in range(1, 11)}  # 1,1,2,2,...,5,5
    for score in ("recency_score", "frequency_score", "monetary_score"):
        assert {cid: row[score] for cid, row in rows.items()} == expected


def test_most_recent_frequent_and_big_spenders_score_five():
    ids = list(range(1, 6))
    last = [dt.date(2024, 1, d) for d in (5, 4, 3, 2, 1)]  # customer 1 bought most recently
    rows = _score(ids, last, [1, 2, 3, 4, 5], [50, 40, 30, 20, 10])
    assert [rows[i]["recency_score"] for i in ids] == [5, 4, 3, 2, 1]
    assert [rows[i]["frequency_score"] for i in ids] == [1, 2, 3, 4, 5]
    assert [rows[i]["monetary_score"] for i in ids] == [5, 4, 3, 2, 1]


def test_uneven_counts_follow_ntile():
    # 7 customers in 5 bins: the first 7 mod 5 = 2 bins hold two customers each.
    ids = list(range(1, 8))
    rows = _score(ids, [dt.date(2024, 1, i) for i in ids], ids, ids)
    assert [rows[i]["frequency_score"] for i in ids] == [1, 1, 2, 2, 3, 4, 5]


def test_three_bins():
    ids = list(range(1, 7))
    rows = _score(ids, [dt.date(2024, 1, i) for i in ids], ids, ids, bins=3)
    assert [rows[i]["monetary_score"] for i in ids] == [1, 1, 2, 2, 3, 3]
    # R=3 of 3 rescales to 5, FM=(3+3+1)//2=3 rescales to 5: champions.
    assert rows[6]["rfm_segment"] == "champions"
    assert rows[1]["rfm_segment"] == "lost"


def test_segments_follow_the_grid_for_every_customer():
    rng = np.random.default_rng(5)
    n = 400
    ids = rng.permutation(n) + 1
    last = [dt.date(2024, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 60, n)]
    rows = _score(ids.tolist(), last, rng.integers(1, 9, n).tolist(), rng.integers(0, 10**5, n))
    seen = set()
    for row in rows.values():
        r, f, m = row["recency_score"], row["frequency_score"], row["monetary_score"]
        assert row["rfm_segment"] == segment_for(r, f, m)
        seen.add(row["rfm_segment"])
    assert len(seen) >= 8  # random scores reach most of the grid


@pytest.mark.parametrize(
    ("r", "f", "m", "segment"),
    [
        (5, 5, 5, "champions"),
        (5, 1, 1, "new"),
        (4, 1, 1, "promising"),
        (4, 5, 4, "loyal"),
        (3, 3, 3, "need_attention"),
        (3, 1, 2, "about_to_sleep"),
        (2, 4, 3, "at_risk"),
        (1, 5, 5, "cannot_lose"),
        (2, 1, 2, "hibernating"),  # FM = (1 + 2 + 1) // 2 = 2
        (1, 1, 1, "lost"),
    ],
)
def test_named_segments(r, f, m, segment):
    assert segment_for(r, f, m) == segment


def test_grid_uses_only_declared_segments():
    used = {name for row in SEGMENT_GRID.values() for name in row}
    assert used == set(SEGMENTS)
    assert sorted(SEGMENT_GRID) == [1, 2, 3, 4, 5]
