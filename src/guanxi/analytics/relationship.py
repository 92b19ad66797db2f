"""The relationship hierarchy's per-customer rules: actual and recommended level, gap, foundation.

Django-free like the rest of the engine. Inputs are Arrow tables read from the store (or from
files); every rule is vectorised over sorted numpy arrays, so a million customers with a few
million interactions take about a second. ``docs/hierarchy.md`` explains each rule and its knob.

Actual level (the highest rule that holds, over the last ``level_window_days`` up to ``as_of``):

- partnership: at least ``partnership_min_joint_work`` joint-work interactions;
- proactive: outbound advice or offers in at least ``proactive_min_period_share`` of the window's
  ``proactive_cadence_days``-long periods (a regular cadence, not one burst);
- accountable: of the purchases old enough to judge, at least ``accountable_min_share`` were
  followed by an outbound follow-up within ``follow_up_days``;
- reactive: the customer got in touch (any inbound interaction);
- basic: none of the above.

Recommended level: Kotler's matrix (``KOTLER``) over the customer's segment, its size band (share of
buying customers) × its margin band (profit per buying customer relative to the whole base).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from guanxi.analytics.config import ConfigError, JsonConfig

LEVELS: tuple[str, ...] = ("basic", "reactive", "accountable", "proactive", "partnership")
STAGES: tuple[str, ...] = ("basic", "cooperative", "interdependent", "integrated")
SIZES: tuple[str, ...] = ("many", "medium", "few")
MARGINS: tuple[str, ...] = ("low", "medium", "high")
GAPS: tuple[str, ...] = ("under_served", "on_target", "over_served")
SEGMENT_DIMENSIONS: tuple[str, ...] = ("customer_type", "abc_class", "region")

# Kotler, Marketing Management: the level worth investing in, by segment size × margin.
KOTLER: dict[tuple[str, str], str] = {
    ("many", "high"): "accountable",
    ("many", "medium"): "reactive",
    ("many", "low"): "basic",
    ("medium", "high"): "proactive",
    ("medium", "medium"): "accountable",
    ("medium", "low"): "reactive",
    ("few", "high"): "partnership",
    ("few", "medium"): "proactive",
    ("few", "low"): "accountable",
}

# Reason codes, in the order the level rules are tried (highest level first).
LEVEL_REASONS: dict[str, str] = {
    "partnership": "joint_work",
    "proactive": "regular_advice_and_offers",
    "accountable": "follow_up_after_purchases",
    "reactive": "customer_initiated_only",
    "basic": "no_post_sale_contact",
}
HEALTH_REASONS: tuple[str, ...] = ("late_delivery", "returns", "late_complaints")

EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True, kw_only=True)
class RelationshipPolicy(JsonConfig):
    """The knobs of the hierarchy rules (edited in the admin as ``HierarchyPolicy``)."""

    level_window_days: int = 365
    follow_up_days: int = 7
    accountable_min_share: float = 0.5
    proactive_cadence_days: int = 90
    proactive_min_period_share: float = 0.5
    partnership_min_joint_work: int = 2
    segment_by: str = "customer_type,abc_class"
    many_min_share: float = 0.15
    few_max_share: float = 0.03
    high_margin_ratio: float = 2.0
    low_margin_ratio: float = 0.5
    health_window_days: int = 365
    on_time_min_share: float = 0.9
    return_max_share: float = 0.1
    late_complaints_max: int = 0

    def __post_init__(self) -> None:
        self._check_types()
        _require(self.level_window_days >= 1, "level_window_days must be at least 1")
        _require(self.follow_up_days >= 0, "follow_up_days must not be negative")
        _require(0 < self.accountable_min_share <= 1, "accountable_min_share must be in (0, 1]")
        _require(
            1 <= self.proactive_cadence_days <= self.level_window_days,
            "proactive_cadence_days must be between 1 and level_window_days",
        )
        _require(
            0 < self.proactive_min_period_share <= 1,
            "proactive_min_period_share must be in (0, 1]",
        )
        _require(self.partnership_min_joint_work >= 1, "partnership_min_joint_work must be >= 1")
        dims = self.segment_dimensions
        _require(
            bool(dims)
            and all(d in SEGMENT_DIMENSIONS for d in dims)
            and len(set(dims)) == len(dims),
            "segment_by must list distinct dimensions among " + ", ".join(SEGMENT_DIMENSIONS),
        )
        _require(
            0 <= self.few_max_share < self.many_min_share <= 1,
            "the shares must satisfy 0 <= few_max_share < many_min_share <= 1",
        )
        _require(
            0 <= self.low_margin_ratio < self.high_margin_ratio,
            "the ratios must satisfy 0 <= low_margin_ratio < high_margin_ratio",
        )
        _require(self.health_window_days >= 1, "health_window_days must be at least 1")
        _require(0 <= self.on_time_min_share <= 1, "on_time_min_share must be in [0, 1]")
        _require(0 <= self.return_max_share <= 1, "return_max_share must be in [0, 1]")
        _require(self.late_complaints_max >= 0, "late_complaints_max must not be negative")

    @property
    def segment_dimensions(self) -> tuple[str, ...]:
        return tuple(d.strip() for d in self.segment_by.split(",") if d.strip())

    @property
    def proactive_periods(self) -> int:
        """Cadence periods in the window (the last one may be partial)."""
        return math.ceil(self.level_window_days / self.proactive_cadence_days)

    @property
    def proactive_min_periods(self) -> int:
        return max(1, math.ceil(self.proactive_min_period_share * self.proactive_periods))


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def epoch_day(day: dt.date) -> int:
    return (day - EPOCH).days


def _days(column: pa.ChunkedArray | pa.Array) -> NDArray[np.int64]:
    """A date32 column as days since 1970 (nulls become a far-past sentinel)."""
    filled = pc.fill_null(column.cast(pa.date32()), pa.scalar(EPOCH, pa.date32()))
    return filled.cast(pa.int32()).to_numpy().astype(np.int64)


def _positions(customer_ids: NDArray[np.int64], ids: pa.ChunkedArray | pa.Array) -> NDArray:
    """Index of each id in the sorted ``customer_ids``; ids not there are an error."""
    values = np.asarray(ids.to_numpy(zero_copy_only=False), dtype=np.int64)
    where = np.searchsorted(customer_ids, values)
    where = np.minimum(where, len(customer_ids) - 1)
    if len(values) and not np.array_equal(customer_ids[where], values):
        raise ValueError("a row names a customer_id that is not among the customers")
    return where


def _is(column: pa.ChunkedArray | pa.Array, *values: str) -> NDArray[np.bool_]:
    mask = pc.is_in(column, value_set=pa.array(values, pa.string()))
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


# -- actual level --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LevelEvidence:
    """Per-customer arrays: the counts each level rule looked at, and the level it gave."""

    level: NDArray[np.str_]
    reason: NDArray[np.str_]
    inbound: NDArray[np.int64]
    purchases_judged: NDArray[np.int64]
    purchases_followed: NDArray[np.int64]
    proactive_periods: NDArray[np.int64]
    joint_work: NDArray[np.int64]


def actual_levels(
    *,
    customer_ids: NDArray[np.int64],
    purchases: pa.Table,
    interactions: pa.Table,
    as_of: dt.date,
    policy: RelationshipPolicy,
) -> LevelEvidence:
    """Each customer's actual relationship level from the interaction record.

    ``customer_ids`` is sorted; ``purchases`` has ``customer_id`` and ``ts`` (date);
    ``interactions`` has ``customer_id``, ``ts`` (local date), ``direction`` and ``purpose``.
    """
    n = len(customer_ids)
    end = epoch_day(as_of)
    start = end - policy.level_window_days + 1

    day = _days(interactions.column("ts"))
    in_window = (day >= start) & (day <= end)
    who = _positions(customer_ids, interactions.column("customer_id"))
    outbound = _is(interactions.column("direction"), "outbound")
    purpose = interactions.column("purpose")

    inbound = np.bincount(who[in_window & ~outbound], minlength=n)
    joint = np.bincount(who[in_window & _is(purpose, "joint_work")], minlength=n)

    # Proactive: distinct cadence periods (counted back from as_of) with outbound advice or offers.
    pro = in_window & outbound & _is(purpose, "advice", "offer")
    period = (end - day[pro]) // policy.proactive_cadence_days
    key = np.unique(who[pro] * policy.proactive_periods + period)
    periods = np.bincount(key // policy.proactive_periods, minlength=n)

    # Accountable: purchases in the window old enough to judge (or already followed up) that an
    # outbound follow-up came within follow_up_days of.
    p_day = _days(purchases.column("ts"))
    p_who = _positions(customer_ids, purchases.column("customer_id"))
    p_in = (p_day >= start) & (p_day <= end)
    follow = outbound & _is(purpose, "follow_up") & (day >= start - policy.follow_up_days)
    stride = np.int64(1 << 20)  # > any day number we meet (1970 + 2,800 years)
    f_key = np.sort(who[follow] * stride + day[follow])
    p_key = p_who[p_in] * stride + p_day[p_in]
    nxt = np.searchsorted(f_key, p_key, side="left")
    found = nxt < len(f_key)
    followed = np.zeros(len(p_key), dtype=bool)
    followed[found] = f_key[nxt[found]] <= p_key[found] + policy.follow_up_days
    matured = p_day[p_in] <= end - policy.follow_up_days
    judged = matured | followed
    purchases_judged = np.bincount(p_who[p_in][judged], minlength=n)
    purchases_followed = np.bincount(p_who[p_in][followed], minlength=n)

    with np.errstate(invalid="ignore", divide="ignore"):
        follow_share = purchases_followed / purchases_judged
    rank = np.zeros(n, dtype=np.int64)
    rank[inbound > 0] = 1
    rank[(purchases_judged > 0) & (follow_share >= policy.accountable_min_share)] = 2
    rank[periods >= policy.proactive_min_periods] = 3
    rank[joint >= policy.partnership_min_joint_work] = 4
    levels = np.array(LEVELS)[rank]
    reasons = np.array([LEVEL_REASONS[level] for level in LEVELS])[rank]
    return LevelEvidence(
        level=levels,
        reason=reasons,
        inbound=inbound,
        purchases_judged=purchases_judged,
        purchases_followed=purchases_followed,
        proactive_periods=periods,
        joint_work=joint,
    )


# -- recommended level and gap -------------------------------------------------------------------


@dataclass(frozen=True)
class Recommendation:
    segment: NDArray[np.str_]
    size: NDArray[np.str_]
    margin: NDArray[np.str_]
    level: NDArray[np.str_]


def segment_keys(attributes: dict[str, NDArray], policy: RelationshipPolicy) -> NDArray[np.str_]:
    """``type/class``-style keys from the policy's segment dimensions (missing values: ``-``)."""
    parts = [
        np.where(attributes[d] == "", "-", attributes[d]).astype(str)
        for d in policy.segment_dimensions
    ]
    key = parts[0]
    for part in parts[1:]:
        key = np.char.add(np.char.add(key, "/"), part)
    return key


def recommended_levels(
    *,
    segment: NDArray[np.str_],
    profit_cents: NDArray[np.int64],
    buyer: NDArray[np.bool_],
    policy: RelationshipPolicy,
) -> Recommendation:
    """Kotler's matrix over each customer's segment.

    A segment's size is its share of the buying customers (``many_min_share`` and up: many; up to
    ``few_max_share``: few); its margin is its profit per buying customer relative to the whole
    base's (``high_margin_ratio`` and up: high; below ``low_margin_ratio``: low). A segment without
    buyers is few and low.
    """
    names, inverse = np.unique(segment, return_inverse=True)
    buyers = np.bincount(inverse[buyer], minlength=len(names))
    profit = np.bincount(inverse[buyer], weights=profit_cents[buyer], minlength=len(names))
    total = max(int(buyer.sum()), 1)
    overall = float(profit_cents[buyer].sum()) / total
    share = buyers / total
    with np.errstate(invalid="ignore", divide="ignore"):
        per_customer = np.where(buyers > 0, profit / np.maximum(buyers, 1), 0.0)
        ratio = per_customer / overall if overall > 0 else np.where(per_customer > 0, np.inf, 0.0)
    size = np.where(
        share >= policy.many_min_share,
        "many",
        np.where(share <= policy.few_max_share, "few", "medium"),
    )
    margin = np.where(
        ratio >= policy.high_margin_ratio,
        "high",
        np.where(ratio < policy.low_margin_ratio, "low", "medium"),
    )
    level = np.array([KOTLER[(s, m)] for s, m in zip(size, margin, strict=True)], dtype=object)
    return Recommendation(
        segment=segment,
        size=size[inverse],
        margin=margin[inverse],
        level=level[inverse].astype(str) if len(level) else np.array([], dtype=str),
    )


def level_gaps(actual: NDArray[np.str_], recommended: NDArray[np.str_]) -> NDArray[np.str_]:
    """under_served when the recommended level is above the actual one, over_served below."""
    rank = {level: i for i, level in enumerate(LEVELS)}
    a = np.vectorize(rank.__getitem__, otypes=[np.int64])(actual) if len(actual) else actual
    r = np.vectorize(rank.__getitem__, otypes=[np.int64])(recommended) if len(actual) else actual
    return np.where(r > a, "under_served", np.where(r < a, "over_served", "on_target"))


# -- foundation health ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Foundation:
    health: NDArray[np.str_]
    reasons: NDArray[np.str_]
    deliveries: NDArray[np.int64]
    on_time_share: NDArray[np.float64]
    return_share: NDArray[np.float64]
    complaints_late: NDArray[np.int64]


def foundation_health(
    *,
    customer_ids: NDArray[np.int64],
    orders: pa.Table,
    complaints: pa.Table,
    as_of: dt.date,
    as_of_end_s: int,
    policy: RelationshipPolicy,
) -> Foundation:
    """Do the basics hold? On-time delivery, order accuracy (returns), complaints in time.

    ``orders`` has ``customer_id``, ``placed`` (date), ``status``, ``promised`` and ``delivered``
    (dates, null when unknown). ``complaints`` has ``customer_id``, ``due_s`` and ``resolved_s``
    (Unix seconds, resolved null while open). Over the last ``health_window_days``:

    - on-time share of orders delivered with a promised date (below ``on_time_min_share``: at risk);
    - return share of the orders that reached the customer (above ``return_max_share``: at risk);
    - complaints whose deadline passed unresolved or that were resolved late (more than
      ``late_complaints_max``: at risk).
    """
    n = len(customer_ids)
    end = epoch_day(as_of)
    start = end - policy.health_window_days + 1

    who = _positions(customer_ids, orders.column("customer_id"))
    delivered = _days(orders.column("delivered"))
    promised = _days(orders.column("promised"))
    has_dates = np.asarray(
        orders.column("delivered").is_valid().to_numpy(zero_copy_only=False), bool
    ) & np.asarray(orders.column("promised").is_valid().to_numpy(zero_copy_only=False), bool)
    judged = has_dates & (delivered >= start) & (delivered <= end)
    deliveries = np.bincount(who[judged], minlength=n)
    on_time = np.bincount(who[judged & (delivered <= promised)], minlength=n)

    placed = _days(orders.column("placed"))
    recent = (placed >= start) & (placed <= end)
    returned = _is(orders.column("status"), "returned")
    reached = recent & (returned | _is(orders.column("status"), "delivered"))
    n_reached = np.bincount(who[reached], minlength=n)
    n_returned = np.bincount(who[reached & returned], minlength=n)

    c_who = _positions(customer_ids, complaints.column("customer_id"))
    due = np.asarray(complaints.column("due_s").to_numpy(zero_copy_only=False), dtype=np.int64)
    resolved = complaints.column("resolved_s")
    open_ = ~np.asarray(resolved.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    resolved_s = np.asarray(
        pc.fill_null(resolved, 0).to_numpy(zero_copy_only=False), dtype=np.int64
    )
    window_start_s = as_of_end_s - policy.health_window_days * 86_400
    due_passed = (due >= window_start_s) & (due < as_of_end_s)
    late = due_passed & (open_ | (resolved_s > due))
    complaints_late = np.bincount(c_who[late], minlength=n)

    with np.errstate(invalid="ignore", divide="ignore"):
        on_time_share = np.where(deliveries > 0, on_time / np.maximum(deliveries, 1), np.nan)
        return_share = np.where(n_reached > 0, n_returned / np.maximum(n_reached, 1), np.nan)
    flags = (
        (deliveries > 0) & (on_time_share < policy.on_time_min_share),
        (n_reached > 0) & (return_share > policy.return_max_share),
        complaints_late > policy.late_complaints_max,
    )
    reasons = np.full(n, "", dtype=object)
    for flag, code in zip(flags, HEALTH_REASONS, strict=True):
        reasons[flag] = np.where(reasons[flag] == "", code, reasons[flag] + "," + code)
    at_risk = flags[0] | flags[1] | flags[2]
    return Foundation(
        health=np.where(at_risk, "at_risk", "ok"),
        reasons=reasons.astype(str),
        deliveries=deliveries,
        on_time_share=on_time_share,
        return_share=return_share,
        complaints_late=complaints_late,
    )
