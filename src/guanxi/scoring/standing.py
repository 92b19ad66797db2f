"""Each customer's standing in the relationship hierarchy, added to a run's score table.

Reads what the rules need from the store (interactions, orders, complaints, bonds, stage
assessments) for the policy's windows, applies ``guanxi.analytics.relationship`` and returns the
score table with the hierarchy columns (``HIERARCHY_COLUMNS``) appended. See ``docs/hierarchy.md``.
"""

import datetime as dt
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from guanxi.analytics.relationship import (
    RelationshipPolicy,
    actual_levels,
    foundation_health,
    level_gaps,
    recommended_levels,
    segment_keys,
)
from guanxi.assessments.selectors import partnership_stages
from guanxi.hierarchy.choices import HIGH_LEVELS, HIGH_STAGES, BondKind
from guanxi.scoring.extract import (
    bonds_extract,
    complaints_extract,
    customers_extract,
    end_of_day_epoch,
    interactions_extract,
    orders_extract,
)

HIERARCHY_COLUMNS: tuple[str, ...] = (
    "actual_level",
    "level_reason",
    "level_inbound",
    "level_purchases_judged",
    "level_purchases_followed",
    "level_proactive_periods",
    "level_joint_work",
    "segment",
    "segment_size",
    "segment_margin",
    "recommended_level",
    "level_gap",
    "partnership_stage",
    "partnership_stage_customer",
    "perception_gap",
    "foundation_health",
    "health_reasons",
    "deliveries",
    "on_time_share",
    "return_share",
    "complaints_late",
    "health_alert",
    "bonds_financial",
    "bonds_social",
    "bonds_structural",
)


def standing_add(
    scores: pa.Table,
    *,
    purchases: pa.Table,
    as_of: dt.date,
    policy: RelationshipPolicy,
    timings: dict[str, float] | None = None,
) -> pa.Table:
    """``scores`` (one row per customer, from the engine) sorted by customer with the hierarchy.

    ``purchases`` is the transactions table the engine scored (``customer_id``, ``ts``).
    """
    started = time.perf_counter()
    scores = scores.sort_by("customer_id")
    ids = scores.column("customer_id").to_numpy()
    customers = customers_extract()
    if not np.array_equal(customers.column("customer_id").to_numpy(), ids):
        raise RuntimeError("the customers changed while the run was scoring them; run it again")

    level_since = as_of - dt.timedelta(days=policy.level_window_days + policy.follow_up_days)
    interactions = interactions_extract(since=level_since, as_of=as_of)
    health_since = as_of - dt.timedelta(days=policy.health_window_days - 1)
    orders = orders_extract(since=health_since, as_of=as_of)
    complaints = complaints_extract(since=health_since, as_of=as_of)
    bonds = bonds_extract(as_of=as_of)
    stages = partnership_stages(as_of=as_of)
    extracted = time.perf_counter()

    levels = actual_levels(
        customer_ids=ids,
        purchases=purchases,
        interactions=interactions,
        as_of=as_of,
        policy=policy,
    )
    attributes = {
        "customer_type": customers.column("customer_type").to_numpy(zero_copy_only=False),
        "region": pc.fill_null(customers.column("region"), "").to_numpy(zero_copy_only=False),
        "abc_class": scores.column("abc_class").to_numpy(zero_copy_only=False),
    }
    segment = segment_keys(attributes, policy)
    profit = scores.column("profit_cents").to_numpy()
    buyer = scores.column("n_orders").to_numpy() > 0
    recommendation = recommended_levels(
        segment=segment, profit_cents=profit, buyer=buyer, policy=policy
    )
    foundation = foundation_health(
        customer_ids=ids,
        orders=orders,
        complaints=complaints,
        as_of=as_of,
        as_of_end_s=end_of_day_epoch(as_of),
        policy=policy,
    )

    stage, stage_customer, perception = _stages(ids, stages)
    high = np.isin(levels.level, [str(v) for v in HIGH_LEVELS]) | np.isin(
        stage, [str(v) for v in HIGH_STAGES]
    )
    bond_counts = _bond_counts(ids, bonds)

    columns = {
        "actual_level": levels.level,
        "level_reason": levels.reason,
        "level_inbound": levels.inbound,
        "level_purchases_judged": levels.purchases_judged,
        "level_purchases_followed": levels.purchases_followed,
        "level_proactive_periods": levels.proactive_periods,
        "level_joint_work": levels.joint_work,
        "segment": recommendation.segment,
        "segment_size": recommendation.size,
        "segment_margin": recommendation.margin,
        "recommended_level": recommendation.level,
        "level_gap": level_gaps(levels.level, recommendation.level),
        "partnership_stage": stage,
        "partnership_stage_customer": stage_customer,
        "perception_gap": perception,
        "foundation_health": foundation.health,
        "health_reasons": foundation.reasons,
        "deliveries": foundation.deliveries,
        "on_time_share": foundation.on_time_share,
        "return_share": foundation.return_share,
        "complaints_late": foundation.complaints_late,
        "health_alert": (foundation.health == "at_risk") & high,
        **bond_counts,
    }
    for name in HIERARCHY_COLUMNS:
        values = columns[name]
        if values.dtype.kind in "USO":
            array = pa.array(values.astype(str), pa.string())
        elif values.dtype.kind == "f":
            array = pa.array(values, pa.float64(), from_pandas=True)  # NaN → null
        else:
            array = pa.array(values)
        scores = scores.append_column(name, array)
    if timings is not None:
        timings["standing_extract"] = round(extracted - started, 3)
        timings["standing_rules"] = round(time.perf_counter() - extracted, 3)
    return scores


def _align(ids: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each key's position in the sorted ``ids``, and whether it is there at all."""
    where = np.minimum(np.searchsorted(ids, keys), len(ids) - 1)
    return where, ids[where] == keys


def _stages(ids: np.ndarray, stages: pa.Table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(ids)
    stage = np.full(n, "", dtype=object)
    stage_customer = np.full(n, "", dtype=object)
    perception = np.zeros(n, dtype=bool)
    if stages.num_rows:
        where, ok = _align(ids, stages.column("customer_id").to_numpy())
        where = where[ok]
        stage[where] = stages.column("partnership_stage").to_numpy(zero_copy_only=False)[ok]
        stage_customer[where] = stages.column("partnership_stage_customer").to_numpy(
            zero_copy_only=False
        )[ok]
        perception[where] = stages.column("perception_gap").to_numpy(zero_copy_only=False)[ok]
    return stage.astype(str), stage_customer.astype(str), perception


def _bond_counts(ids: np.ndarray, bonds: pa.Table) -> dict[str, np.ndarray]:
    n = len(ids)
    counts = {f"bonds_{kind}": np.zeros(n, dtype=np.int64) for kind in BondKind.values}
    if bonds.num_rows:
        where, ok = _align(ids, bonds.column("customer_id").to_numpy())
        kinds = bonds.column("kind").to_numpy(zero_copy_only=False)
        number = bonds.column("n").to_numpy()
        for kind in BondKind.values:
            mine = ok & (kinds == kind)
            np.add.at(counts[f"bonds_{kind}"], where[mine], number[mine])
    return counts
