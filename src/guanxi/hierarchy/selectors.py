"""Reads over the hierarchy: the latest standing, the pyramid, migration between runs, evidence."""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, F, Q, QuerySet, Sum

from guanxi.analytics.relationship import LEVELS, RelationshipPolicy
from guanxi.engagement.choices import Direction, Purpose
from guanxi.engagement.models import Interaction
from guanxi.hierarchy.choices import FoundationHealth, LevelGap, PartnershipStage, RelationshipLevel
from guanxi.scoring.choices import LifecycleStage, Measure, RunStatus, ValueClass
from guanxi.scoring.models import CustomerScore, ScoringRun

# The values of each measure in display order (lowest level / earliest stage first).
MEASURE_VALUES: dict[str, tuple[str, ...]] = {
    Measure.LIFECYCLE_STAGE: tuple(LifecycleStage.values),
    Measure.ABC_CLASS: tuple(ValueClass.values),
    Measure.ACTUAL_LEVEL: tuple(RelationshipLevel.values),
    Measure.RECOMMENDED_LEVEL: tuple(RelationshipLevel.values),
    Measure.LEVEL_GAP: tuple(LevelGap.values),
    Measure.PARTNERSHIP_STAGE: ("", *PartnershipStage.values),
    Measure.FOUNDATION_HEALTH: tuple(FoundationHealth.values),
}


def latest_run() -> ScoringRun | None:
    """The most recent successful scoring run (by as-of date, then by id)."""
    return ScoringRun.objects.filter(status=RunStatus.SUCCEEDED).order_by("-as_of", "-id").first()


@dataclass(frozen=True)
class Cell:
    customers: int
    profit_cents: int


@dataclass(frozen=True)
class MigrationMatrix:
    """How customers moved between two runs on one measure.

    ``cells[(from, to)]`` counts the customers scored in both runs and sums their profit in the
    later run; ``entered`` are customers only in the later run, ``left`` only in the earlier one.
    """

    measure: str
    values: tuple[str, ...]
    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)
    entered: int = 0
    left: int = 0

    def cell(self, from_value: str, to_value: str) -> Cell:
        return self.cells.get((from_value, to_value), Cell(0, 0))

    @property
    def moved(self) -> int:
        return sum(c.customers for (a, b), c in self.cells.items() if a != b)


def migration_matrix(*, from_run: ScoringRun, to_run: ScoringRun, measure: str) -> MigrationMatrix:
    """The migration matrix of ``measure`` from ``from_run`` to ``to_run`` (three queries)."""
    if measure not in MEASURE_VALUES:
        raise ValueError(f"unknown measure {measure!r}; use one of {', '.join(MEASURE_VALUES)}")
    rows = (
        CustomerScore.objects.filter(run=to_run, customer__scores__run=from_run)
        .values(to_value=F(measure), from_value=F(f"customer__scores__{measure}"))
        .annotate(customers=Count("id"), profit=Sum("profit_cents"))
        .order_by()
    )
    cells = {
        (r["from_value"], r["to_value"]): Cell(r["customers"], int(r["profit"] or 0)) for r in rows
    }
    both = sum(c.customers for c in cells.values())
    to_total = CustomerScore.objects.filter(run=to_run).count()
    from_total = CustomerScore.objects.filter(run=from_run).count()
    return MigrationMatrix(
        measure=measure,
        values=MEASURE_VALUES[measure],
        cells=cells,
        entered=to_total - both,
        left=from_total - both,
    )


def distribution(run: ScoringRun, measure: str) -> dict[str, Cell]:
    """Customers and profit per value of ``measure`` in ``run`` (the pyramid's layers)."""
    if measure not in MEASURE_VALUES:
        raise ValueError(f"unknown measure {measure!r}")
    rows = (
        CustomerScore.objects.filter(run=run)
        .values(measure)
        .annotate(customers=Count("id"), profit=Sum("profit_cents"))
        .order_by()
    )
    found = {r[measure]: Cell(r["customers"], int(r["profit"] or 0)) for r in rows}
    return {value: found.get(value, Cell(0, 0)) for value in MEASURE_VALUES[measure]} | {
        k: v for k, v in found.items() if k not in MEASURE_VALUES[measure]
    }


def gap_at_stake(run: ScoringRun) -> dict[str, dict[str, float]]:
    """Per gap: customers, the profit they brought and their CLV — what is at stake."""
    rows = (
        CustomerScore.objects.filter(run=run)
        .values("level_gap")
        .annotate(customers=Count("id"), profit=Sum("profit_cents"), clv=Sum("clv_cents"))
        .order_by()
    )
    found = {
        r["level_gap"]: {
            "customers": r["customers"],
            "profit_cents": int(r["profit"] or 0),
            "clv_cents": float(r["clv"] or 0.0),
        }
        for r in rows
    }
    empty = {"customers": 0, "profit_cents": 0, "clv_cents": 0.0}
    return {gap: found.get(gap, empty) for gap in LevelGap.values}


def level_evidence(score: CustomerScore) -> QuerySet[Interaction]:
    """The interactions that justify ``score.actual_level`` under the policy its run used.

    Partnership: the joint work; proactive: the outbound advice and offers; accountable: the
    outbound follow-ups; reactive: the customer's own contacts; basic: none.
    """
    policy = RelationshipPolicy.from_dict(score.run.policy or {})
    end = score.run.as_of
    start = end - dt.timedelta(days=policy.level_window_days - 1)
    base = Interaction.objects.filter(
        customer_id=score.customer_id,
        occurred_at__date__gte=start,
        occurred_at__date__lte=end,
    )
    level = score.actual_level
    if level == LEVELS[4]:
        rule = Q(purpose=Purpose.JOINT_WORK)
    elif level == LEVELS[3]:
        rule = Q(direction=Direction.OUTBOUND, purpose__in=[Purpose.ADVICE, Purpose.OFFER])
    elif level == LEVELS[2]:
        rule = Q(direction=Direction.OUTBOUND, purpose=Purpose.FOLLOW_UP)
    elif level == LEVELS[1]:
        rule = Q(direction=Direction.INBOUND)
    else:
        return Interaction.objects.none()
    return base.filter(rule).select_related("staff").order_by("-occurred_at")
