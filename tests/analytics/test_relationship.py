"""The hierarchy rules on constructed customers: one customer per rule, each told apart."""

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from guanxi.analytics.config import ConfigError
from guanxi.analytics.relationship import (
    KOTLER,
    RelationshipPolicy,
    actual_levels,
    foundation_health,
    level_gaps,
    recommended_levels,
    segment_keys,
)

AS_OF = dt.date(2026, 6, 30)
POLICY = RelationshipPolicy()


def _day(days_ago: int) -> dt.date:
    return AS_OF - dt.timedelta(days=days_ago)


def _interactions(rows: list[tuple[int, int, str, str]]) -> pa.Table:
    """(customer, days ago, direction, purpose) rows."""
    return pa.table(
        {
            "customer_id": pa.array([r[0] for r in rows], pa.int64()),
            "ts": pa.array([_day(r[1]) for r in rows], pa.date32()),
            "direction": pa.array([r[2] for r in rows], pa.string()),
            "purpose": pa.array([r[3] for r in rows], pa.string()),
        }
    )


def _purchases(rows: list[tuple[int, int]]) -> pa.Table:
    return pa.table(
        {
            "customer_id": pa.array([r[0] for r in rows], pa.int64()),
            "ts": pa.array([_day(r[1]) for r in rows], pa.date32()),
        }
    )


def _levels(purchases, interactions, n=7, policy=POLICY):
    return actual_levels(
        customer_ids=np.arange(1, n + 1, dtype=np.int64),
        purchases=_purchases(purchases),
        interactions=_interactions(interactions),
        as_of=AS_OF,
        policy=policy,
    )


def test_each_level_rule_on_its_own_customer():
    purchases = [(c, d) for c in (1, 2, 3, 4, 5) for d in (300, 200, 100, 30)]
    interactions = [
        # 2: only the customer gets in touch
        (2, 150, "inbound", "complaint"),
        # 3: a follow-up within a week after three of four purchases
        *[(3, d - 3, "outbound", "follow_up") for d in (300, 200, 100)],
        # 4: advice or offers in three of the four quarters
        *[(4, d, "outbound", p) for d, p in ((20, "advice"), (120, "offer"), (300, "advice"))],
        # 5: joint work twice (and some follow-ups that a higher rule outranks)
        (5, 40, "outbound", "joint_work"),
        (5, 100, "inbound", "joint_work"),
        (5, 29, "outbound", "follow_up"),
        # 6: a prospect who asked a question
        (6, 10, "inbound", "other"),
    ]
    result = _levels(purchases, interactions)
    assert list(result.level) == [
        "basic",
        "reactive",
        "accountable",
        "proactive",
        "partnership",
        "reactive",
        "basic",
    ]
    assert list(result.reason[:2]) == ["no_post_sale_contact", "customer_initiated_only"]
    assert result.purchases_judged[2] == 4 and result.purchases_followed[2] == 3
    assert result.proactive_periods[3] == 3
    assert result.joint_work[4] == 2


def test_follow_ups_must_come_within_the_window_after_the_purchase():
    purchases = [(1, 100), (1, 50)]
    late = [(1, 100 - 8, "outbound", "follow_up"), (1, 50 - 8, "outbound", "follow_up")]
    before = [(1, 101, "outbound", "follow_up"), (1, 51, "outbound", "follow_up")]
    inbound = [(1, 97, "inbound", "follow_up"), (1, 47, "inbound", "follow_up")]
    for rows in (late, before, inbound):
        result = _levels(purchases, rows, n=1)
        assert result.purchases_followed[0] == 0
        assert result.level[0] != "accountable"
    on_day_seven = [(1, 93, "outbound", "follow_up"), (1, 43, "outbound", "follow_up")]
    assert _levels(purchases, on_day_seven, n=1).level[0] == "accountable"


def test_a_follow_up_does_not_count_for_another_customer():
    result = _levels([(1, 100)], [(2, 98, "outbound", "follow_up")], n=2)
    assert result.purchases_followed.tolist() == [0, 0]


def test_a_recent_purchase_is_not_judged_until_its_follow_up_time_has_passed():
    # Bought three days ago with no call yet: still accountable on the earlier purchase.
    purchases = [(1, 100), (1, 3)]
    result = _levels(purchases, [(1, 98, "outbound", "follow_up")], n=1)
    assert result.purchases_judged[0] == 1
    assert result.level[0] == "accountable"


def test_a_burst_of_offers_is_not_a_cadence():
    burst = [(1, d, "outbound", "offer") for d in (10, 20, 30, 40, 50)]
    assert _levels([(1, 60)], burst, n=1).level[0] == "basic"


def test_interactions_outside_the_window_do_not_count():
    old = [(1, 400, "outbound", "joint_work"), (1, 380, "outbound", "joint_work")]
    assert _levels([], old, n=1).level[0] == "basic"
    narrow = RelationshipPolicy(level_window_days=500, proactive_cadence_days=125)
    assert _levels([], old, n=1, policy=narrow).level[0] == "partnership"


def test_kotler_matrix_cells():
    segment = np.array(["big"] * 60 + ["mid"] * 36 + ["tiny"] * 4)
    profit = np.array([100] * 60 + [1_000] * 36 + [10_000] * 4, dtype=np.int64)
    buyer = np.ones(100, dtype=bool)
    rec = recommended_levels(segment=segment, profit_cents=profit, buyer=buyer, policy=POLICY)
    # average profit per buyer: (6,000 + 36,000 + 40,000) / 100 = 820
    assert (rec.size[0], rec.margin[0], rec.level[0]) == ("many", "low", "basic")
    assert (rec.size[60], rec.margin[60], rec.level[60]) == ("many", "medium", "reactive")
    assert (rec.size[99], rec.margin[99], rec.level[99]) == ("medium", "high", "proactive")
    assert len(KOTLER) == 9 and set(KOTLER.values()) == {
        "basic",
        "reactive",
        "accountable",
        "proactive",
        "partnership",
    }


def test_a_small_very_profitable_segment_deserves_a_partnership():
    segment = np.array(["mass"] * 98 + ["key"] * 2)
    profit = np.array([10] * 98 + [50_000] * 2, dtype=np.int64)
    buyer = np.ones(100, dtype=bool)
    rec = recommended_levels(segment=segment, profit_cents=profit, buyer=buyer, policy=POLICY)
    assert rec.level[-1] == "partnership" and rec.size[-1] == "few"
    assert rec.level[0] == "basic"


def test_prospects_do_not_count_towards_a_segment_size():
    segment = np.array(["a"] * 10 + ["b"] * 90)
    buyer = np.array([True] * 10 + [False] * 89 + [True])
    profit = np.where(buyer, 100, 0).astype(np.int64)
    rec = recommended_levels(segment=segment, profit_cents=profit, buyer=buyer, policy=POLICY)
    assert rec.size[0] == "many"  # 10 of 11 buyers
    assert rec.size[50] == "medium"  # 1 of 11 buyers: 9 %
    narrow = RelationshipPolicy(many_min_share=0.5, few_max_share=0.1)
    rec = recommended_levels(segment=segment, profit_cents=profit, buyer=buyer, policy=narrow)
    assert rec.size[0] == "many" and rec.size[50] == "few"


def test_segment_keys_follow_the_policy():
    attributes = {
        "customer_type": np.array(["business", "consumer"]),
        "abc_class": np.array(["A", "C"]),
        "region": np.array(["华东", ""]),
    }
    assert segment_keys(attributes, POLICY).tolist() == ["business/A", "consumer/C"]
    by_region = RelationshipPolicy(segment_by="region,customer_type")
    assert segment_keys(attributes, by_region).tolist() == ["华东/business", "-/consumer"]


def test_gap_compares_recommended_with_actual():
    actual = np.array(["basic", "proactive", "accountable"])
    recommended = np.array(["accountable", "reactive", "accountable"])
    assert level_gaps(actual, recommended).tolist() == ["under_served", "over_served", "on_target"]


def _orders(rows):
    """(customer, placed days ago, status, promised days ago or None, delivered days ago or None)"""

    def day(v):
        return None if v is None else _day(v)

    return pa.table(
        {
            "customer_id": pa.array([r[0] for r in rows], pa.int64()),
            "placed": pa.array([_day(r[1]) for r in rows], pa.date32()),
            "status": pa.array([r[2] for r in rows], pa.string()),
            "promised": pa.array([day(r[3]) for r in rows], pa.date32()),
            "delivered": pa.array([day(r[4]) for r in rows], pa.date32()),
        }
    )


END_S = 1_782_835_200  # 2026-07-01 00:00 Asia/Shanghai


def _complaints(rows):
    """(customer, due seconds before the end of as_of, resolved seconds before or None)"""
    return pa.table(
        {
            "customer_id": pa.array([r[0] for r in rows], pa.int64()),
            "due_s": pa.array([END_S - r[1] for r in rows], pa.int64()),
            "resolved_s": pa.array([None if r[2] is None else END_S - r[2] for r in rows]),
        }
    )


def test_foundation_health_flags_each_failing_basic():
    orders = _orders(
        [
            (1, 50, "delivered", 45, 46),  # a day early
            (2, 50, "delivered", 45, 40),  # late
            (3, 50, "returned", 45, 45),
            (3, 60, "delivered", 55, 55),
            (4, 50, "delivered", 45, 45),
            (5, 500, "delivered", 495, 480),  # late but long ago
        ]
    )
    complaints = _complaints(
        [
            (4, 86_400 * 10, 86_400 * 5),  # resolved five days after its deadline
            (1, 86_400 * 10, 86_400 * 11),  # resolved in time
            (5, 86_400 * 2, None),  # still open past its deadline
        ]
    )
    f = foundation_health(
        customer_ids=np.arange(1, 7, dtype=np.int64),
        orders=orders,
        complaints=complaints,
        as_of=AS_OF,
        as_of_end_s=END_S,
        policy=POLICY,
    )
    assert f.health.tolist() == ["ok", "at_risk", "at_risk", "at_risk", "at_risk", "ok"]
    assert f.reasons.tolist() == [
        "",
        "late_delivery",
        "returns",
        "late_complaints",
        "late_complaints",
        "",
    ]
    assert f.on_time_share[1] == 0.0 and np.isnan(f.on_time_share[5])
    assert f.return_share[2] == 0.5
    assert f.deliveries.tolist() == [1, 1, 2, 1, 0, 0]


def test_policy_validation_names_the_field():
    with pytest.raises(ConfigError, match="segment_by"):
        RelationshipPolicy(segment_by="colour")
    with pytest.raises(ConfigError, match="few_max_share"):
        RelationshipPolicy(many_min_share=0.1, few_max_share=0.2)
    with pytest.raises(ConfigError, match="follow_up_days must be an integer"):
        RelationshipPolicy(follow_up_days=7.5)
    assert RelationshipPolicy.from_dict(POLICY.to_dict()) == POLICY
