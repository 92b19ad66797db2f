"""ABC classes: the 80 % / 95 % boundaries, ties, and customers without positive profit."""

from __future__ import annotations

import pyarrow as pa
import pytest

from guanxi.analytics.abc import abc_classes
from guanxi.analytics.backends import duckdb_connect, register_arrow


def _classify(profits: dict[int, int], **shares: float) -> dict[int, tuple[str, float | None]]:
    table = pa.table(
        {
            "customer_id": pa.array(list(profits), pa.int64()),
            "profit_cents": pa.array(list(profits.values()), pa.int64()),
        }
    )
    out = abc_classes(register_arrow(duckdb_connect(), table, prefix="f"), **shares).to_pyarrow()
    return {r["customer_id"]: (r["abc_class"], r["cum_profit_share"]) for r in out.to_pylist()}


def test_the_customer_reaching_exactly_80_percent_is_a_and_the_next_is_b():
    rows = _classify({1: 50, 2: 30, 3: 15, 4: 5})
    assert rows[1] == ("A", 0.5)
    assert rows[2] == ("A", 0.8)  # cumulative share exactly 80 %: still A
    assert rows[3] == ("B", 0.95)  # share before it is 80 %: B; it reaches exactly 95 %
    assert rows[4] == ("C", 1.0)  # share before it is 95 %: C


def test_the_customer_crossing_80_percent_is_a():
    rows = _classify({1: 70, 2: 20, 3: 6, 4: 4})
    assert [rows[i][0] for i in (1, 2, 3, 4)] == ["A", "A", "B", "C"]
    assert rows[2][1] == pytest.approx(0.9)


def test_ties_in_profit_are_ordered_by_customer_id():
    # Ten equal profits: customers 1..8 cover up to 80 %, 9 and 10 start at 80 % and 90 %.
    rows = _classify({cid: 10 for cid in (10, 3, 7, 1, 9, 5, 2, 8, 6, 4)})
    assert [rows[cid][0] for cid in range(1, 11)] == ["A"] * 8 + ["B"] * 2
    assert [rows[cid][1] for cid in range(1, 11)] == pytest.approx([i / 10 for i in range(1, 11)])


def test_zero_and_negative_profit_are_c_and_do_not_count():
    rows = _classify({1: 60, 2: 40, 3: 0, 4: -500})
    assert rows[1] == ("A", 0.6)
    assert rows[2] == ("A", 1.0)  # the total is positive profit only: 100, not -400
    assert rows[3] == ("C", None)
    assert rows[4] == ("C", None)


def test_no_positive_profit_at_all():
    rows = _classify({1: 0, 2: -3})
    assert rows == {1: ("C", None), 2: ("C", None)}


def test_thresholds_come_from_the_arguments():
    rows = _classify({1: 50, 2: 30, 3: 15, 4: 5}, a_share=0.5, b_share=0.9)
    # Shares before: 0, 0.5, 0.8, 0.95.
    assert [rows[i][0] for i in (1, 2, 3, 4)] == ["A", "B", "B", "C"]
