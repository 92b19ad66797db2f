"""Lifecycle stage: where each customer's relationship is in its life, with the rule that said so.

The stages are those of DOMAIN.md (prospect 潜在, exploration 考察期, formation 形成期,
stability 稳定期, decline 退化期, churned 流失). Rules are evaluated in the order of ``RULES``;
the first whose condition holds decides the stage, and its ``reason`` code is stored next to the
stage so the interface can explain it. All rules are vectorised over the per-customer arrays.

A missing value (NaN: no interval for a one-time buyer, no spend in either trend window, no
p_alive for a prospect) never satisfies a condition, so a rule never fires on absent evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from guanxi.analytics.config import ScoringConfig

STAGES: tuple[str, ...] = (
    "prospect",
    "exploration",
    "formation",
    "stability",
    "decline",
    "churned",
)


@dataclass(frozen=True)
class LifecycleInputs:
    """Per-customer arrays the rules read (float64, NaN for missing)."""

    n_orders: NDArray[np.float64]
    days_since_last: NDArray[np.float64]
    overdue_ratio: NDArray[np.float64]
    interval_mean_days: NDArray[np.float64]
    interval_std_days: NDArray[np.float64]
    spend_trend: NDArray[np.float64]
    p_alive: NDArray[np.float64]


Condition = Callable[[LifecycleInputs, ScoringConfig], NDArray[np.bool_]]


@dataclass(frozen=True)
class Rule:
    """One ordered rule: when ``condition`` holds (and no earlier rule did), ``stage``."""

    stage: str
    reason: str
    knobs: tuple[str, ...]
    description: str
    condition: Condition


def _interval_cv(v: LifecycleInputs) -> NDArray[np.float64]:
    with np.errstate(invalid="ignore", divide="ignore"):
        return v.interval_std_days / v.interval_mean_days


RULES: tuple[Rule, ...] = (
    Rule(
        "prospect",
        "prospect:no_purchase",
        (),
        "no purchase yet (known only from the customers list)",
        lambda v, c: v.n_orders == 0,
    ),
    Rule(
        "churned",
        "churned:p_alive_below_threshold",
        ("churn_p_alive",),
        "the BG/NBD probability of still being active is below churn_p_alive",
        lambda v, c: v.p_alive < c.churn_p_alive,
    ),
    Rule(
        "churned",
        "churned:single_purchase_long_ago",
        ("churn_single_purchase_days",),
        "one purchase only, more than churn_single_purchase_days ago (BG/NBD gives one-time "
        "buyers p_alive = 1, so silence is the only evidence)",
        lambda v, c: (v.n_orders == 1) & (v.days_since_last > c.churn_single_purchase_days),
    ),
    Rule(
        "churned",
        "churned:long_overdue",
        ("churn_overdue_ratio",),
        "silent for at least churn_overdue_ratio of the customer's own mean interval",
        lambda v, c: v.overdue_ratio >= c.churn_overdue_ratio,
    ),
    Rule(
        "exploration",
        "exploration:single_purchase",
        (),
        "one purchase so far: the customer is trying the company out",
        lambda v, c: v.n_orders == 1,
    ),
    Rule(
        "decline",
        "decline:overdue",
        ("decline_overdue_ratio",),
        "silent for at least decline_overdue_ratio of the customer's own mean interval",
        lambda v, c: v.overdue_ratio >= c.decline_overdue_ratio,
    ),
    Rule(
        "decline",
        "decline:spend_trend_down",
        ("decline_spend_trend", "spend_trend_window_days"),
        "spend in the recent window fell against the window before: spend_trend <= "
        "decline_spend_trend",
        lambda v, c: v.spend_trend <= c.decline_spend_trend,
    ),
    Rule(
        "decline",
        "decline:p_alive_low",
        ("decline_p_alive",),
        "the probability of still being active is below decline_p_alive",
        lambda v, c: v.p_alive < c.decline_p_alive,
    ),
    Rule(
        "formation",
        "formation:few_purchases",
        ("stability_min_orders",),
        "repeat buyer with fewer than stability_min_orders purchase days: the relationship is "
        "still forming",
        lambda v, c: v.n_orders < c.stability_min_orders,
    ),
    Rule(
        "formation",
        "formation:irregular_rhythm",
        ("stability_max_interval_cv",),
        "enough purchases, but the intervals vary more than stability_max_interval_cv times "
        "their mean: no settled rhythm yet",
        lambda v, c: _interval_cv(v) > c.stability_max_interval_cv,
    ),
    Rule(
        "stability",
        "stability:regular_rhythm",
        ("stability_min_orders", "stability_max_interval_cv"),
        "at least stability_min_orders purchase days at a regular rhythm, on time, spend not "
        "falling",
        lambda v, c: np.ones(v.n_orders.shape, dtype=bool),
    ),
)

REASONS: tuple[str, ...] = tuple(rule.reason for rule in RULES)


def lifecycle_rule_index(inputs: LifecycleInputs, config: ScoringConfig) -> NDArray[np.int8]:
    """For each customer, the index in ``RULES`` of the first rule that fires."""
    n = inputs.n_orders.shape[0]
    chosen = np.full(n, -1, dtype=np.int8)
    undecided = np.ones(n, dtype=bool)
    with np.errstate(invalid="ignore"):
        for index, rule in enumerate(RULES):
            fires = undecided & rule.condition(inputs, config)
            chosen[fires] = index
            undecided &= ~fires
    return chosen


def lifecycle_stages(inputs: LifecycleInputs, config: ScoringConfig) -> tuple[pa.Array, pa.Array]:
    """``(lifecycle_stage, lifecycle_reason)`` as Arrow string arrays."""
    index = pa.array(lifecycle_rule_index(inputs, config))
    stages = pa.DictionaryArray.from_arrays(index, pa.array([r.stage for r in RULES]))
    reasons = pa.DictionaryArray.from_arrays(index, pa.array(REASONS))
    return stages.cast(pa.string()), reasons.cast(pa.string())
