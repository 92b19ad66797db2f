"""Lifecycle rules: each rule fires with its reason, in order, and never on missing evidence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from guanxi.analytics.config import ScoringConfig
from guanxi.analytics.lifecycle import (
    REASONS,
    RULES,
    STAGES,
    LifecycleInputs,
    lifecycle_stages,
)

NAN = float("nan")
CONFIG = ScoringConfig()

# A steady customer: 6 purchase days every ~30 days, last one 20 days ago, flat spend, alive.
STEADY = {
    "n_orders": 6,
    "days_since_last": 20,
    "overdue_ratio": 20 / 30,
    "interval_mean_days": 30.0,
    "interval_std_days": 6.0,
    "spend_trend": 0.0,
    "p_alive": 0.95,
}


def _stages(customers: list[dict[str, float]], config: ScoringConfig = CONFIG):
    inputs = LifecycleInputs(
        **{
            name: np.array([c[name] for c in customers], dtype=np.float64)
            for name in LifecycleInputs.__dataclass_fields__
        }
    )
    stage, reason = lifecycle_stages(inputs, config)
    return list(zip(stage.to_pylist(), reason.to_pylist(), strict=True))


def _one(config: ScoringConfig = CONFIG, **changes: float) -> tuple[str, str]:
    return _stages([{**STEADY, **changes}], config)[0]


def test_prospect():
    nothing = dict.fromkeys(STEADY, NAN)
    assert _stages([{**nothing, "n_orders": 0}]) == [("prospect", "prospect:no_purchase")]


def test_churned_by_p_alive():
    assert _one(p_alive=0.05) == ("churned", "churned:p_alive_below_threshold")


def test_churned_single_purchase_long_ago():
    single = {**STEADY, "n_orders": 1, "overdue_ratio": NAN, "interval_mean_days": NAN}
    single |= {"interval_std_days": NAN, "spend_trend": NAN, "p_alive": 1.0}
    assert _stages([{**single, "days_since_last": 366}]) == [
        ("churned", "churned:single_purchase_long_ago")
    ]
    assert _stages([{**single, "days_since_last": 365}]) == [
        ("exploration", "exploration:single_purchase")
    ]


def test_churned_long_overdue():
    assert _one(overdue_ratio=4.0, days_since_last=120) == ("churned", "churned:long_overdue")


def test_decline_overdue():
    assert _one(overdue_ratio=2.0) == ("decline", "decline:overdue")
    assert _one(overdue_ratio=1.99) == ("stability", "stability:regular_rhythm")


def test_decline_spend_trend_down():
    assert _one(spend_trend=-0.5) == ("decline", "decline:spend_trend_down")
    assert _one(spend_trend=-0.49) == ("stability", "stability:regular_rhythm")


def test_decline_p_alive_low():
    assert _one(p_alive=0.3) == ("decline", "decline:p_alive_low")


def test_formation_few_purchases():
    assert _one(n_orders=3) == ("formation", "formation:few_purchases")
    assert _one(n_orders=2, interval_std_days=NAN) == ("formation", "formation:few_purchases")


def test_formation_irregular_rhythm():
    assert _one(interval_std_days=31.0) == ("formation", "formation:irregular_rhythm")
    assert _one(interval_std_days=30.0) == ("stability", "stability:regular_rhythm")


def test_stability():
    assert _one() == ("stability", "stability:regular_rhythm")


def test_rules_are_ordered_first_match_wins():
    # Overdue, falling spend and low p_alive at once: the earliest rule (churn by p_alive) wins.
    assert _one(p_alive=0.01, overdue_ratio=3.0, spend_trend=-1.0)[1] == (
        "churned:p_alive_below_threshold"
    )
    assert _one(overdue_ratio=3.0, spend_trend=-1.0)[1] == "decline:overdue"
    assert _one(n_orders=2, spend_trend=-1.0)[1] == "decline:spend_trend_down"


def test_missing_values_never_fire_a_rule():
    # No spend in either window (trend NaN) is not a falling trend.
    assert _one(spend_trend=NAN) == ("stability", "stability:regular_rhythm")


def test_thresholds_come_from_the_config():
    strict = ScoringConfig(decline_overdue_ratio=0.5, churn_overdue_ratio=0.6)
    assert _one(strict) == ("churned", "churned:long_overdue")
    lax = ScoringConfig(stability_min_orders=7)
    assert _one(lax) == ("formation", "formation:few_purchases")


def test_vectorised_over_many_customers():
    customers = [{**STEADY, "p_alive": p} for p in np.linspace(0, 1, 11)]
    reasons = [reason for _, reason in _stages(customers)]
    assert reasons[:1] == ["churned:p_alive_below_threshold"]  # 0.0
    assert reasons[1:5] == ["decline:p_alive_low"] * 4  # 0.1 .. 0.4
    assert reasons[5:] == ["stability:regular_rhythm"] * 6


def test_every_rule_names_a_known_stage_and_the_reasons_are_unique():
    assert {rule.stage for rule in RULES} == set(STAGES)
    assert len(set(REASONS)) == len(REASONS)
    for rule in RULES:
        assert rule.reason.startswith(rule.stage + ":")
        for knob in rule.knobs:
            assert knob in CONFIG.to_dict()


def test_docs_describe_every_rule():
    docs = Path(__file__).resolve().parents[2] / "docs" / "analytics.md"
    if not docs.exists():
        pytest.fail("docs/analytics.md is missing")
    text = docs.read_text(encoding="utf-8")
    for rule in RULES:
        assert f"`{rule.reason}`" in text
        for knob in rule.knobs:
            assert f"`{knob}`" in text
