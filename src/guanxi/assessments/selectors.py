"""Reads over stage assessments: where a relationship stands by the raters' latest answers.

For a customer and an as-of date, each rater role's latest assessment answered in the validity
window (``validity_days()`` days up to and including the as-of date) counts; older ones have
lapsed. Then:

- the company's score is the mean of the company raters' (marketing staff, sales manager, senior
  manager) mean scores, and the company's stage is its band, using the bands of the questionnaire
  of the most recently answered of those assessments;
- the customer's score and stage are those of the customer's own latest assessment;
- a **perception gap** is flagged when both exist and the two stages are at least
  ``PERCEPTION_GAP_STAGES`` stages apart.

``partnership_stages`` computes the same for every customer with two queries, whatever the number of
customers and assessments; the scoring run reads it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
from django.conf import settings
from django.db import connections
from django.db.models import CharField, Prefetch, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone

from guanxi.assessments.banding import STAGES, BandSet, stage_rank
from guanxi.assessments.choices import (
    ASSESSABLE_CUSTOMER_TYPES,
    ASSESSMENT_VALIDITY_DAYS,
    COMPANY_RATER_ROLES,
    RaterRole,
)
from guanxi.assessments.models import (
    Assessment,
    AssessmentAnswer,
    Questionnaire,
    QuestionnaireItem,
    ScoreBand,
)
from guanxi.parties.selectors import customers_visible, visible_through_customer

# Stages this far apart (or more) between the company's view and the customer's are a gap.
PERCEPTION_GAP_STAGES = 1

PARTNERSHIP_STAGES_SCHEMA = pa.schema(
    [
        ("customer_id", pa.int64()),
        ("partnership_stage", pa.string()),
        ("partnership_stage_customer", pa.string()),
        ("perception_gap", pa.bool_()),
    ]
)

_COMPANY = frozenset(COMPANY_RATER_ROLES)


def validity_days() -> int:
    """How many days an assessment counts for (``settings.GUANXI_ASSESSMENT_VALIDITY_DAYS``)."""
    return int(getattr(settings, "GUANXI_ASSESSMENT_VALIDITY_DAYS", ASSESSMENT_VALIDITY_DAYS))


def validity_window(as_of: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last answer dates (inclusive) that count on ``as_of``."""
    as_of = _as_date(as_of)
    return as_of - dt.timedelta(days=validity_days()), as_of


def _as_date(value: dt.date) -> dt.date:
    if isinstance(value, dt.datetime):
        return (timezone.localtime(value) if timezone.is_aware(value) else value).date()
    return value


class _Row(NamedTuple):
    customer_id: int
    rater_role: str
    answered_on: dt.date
    id: int
    questionnaire_id: int
    mean_score: float


@dataclass(frozen=True)
class _Judgement:
    company_score: float | None = None
    company_stage: str | None = None
    customer_score: float | None = None
    customer_stage: str | None = None
    perception_gap: bool = False


def _latest_per_role(rows: Iterable[_Row]) -> dict[int, dict[str, _Row]]:
    """customer id → rater role → that role's latest row (by answer date, then id)."""
    latest: dict[int, dict[str, _Row]] = {}
    for row in rows:
        roles = latest.setdefault(row.customer_id, {})
        current = roles.get(row.rater_role)
        if current is None or (row.answered_on, row.id) > (current.answered_on, current.id):
            roles[row.rater_role] = row
    return latest


def _judge(by_role: dict[str, _Row], bands: dict[int, BandSet]) -> _Judgement:
    company = [row for role, row in by_role.items() if role in _COMPANY]
    company_score = company_stage = customer_score = customer_stage = None
    if company:
        company_score = sum(row.mean_score for row in company) / len(company)
        newest = max(company, key=lambda row: (row.answered_on, row.id))
        company_stage = bands[newest.questionnaire_id].stage(company_score)
    own = by_role.get(RaterRole.CUSTOMER)
    if own is not None:
        customer_score = own.mean_score
        customer_stage = bands[own.questionnaire_id].stage(customer_score)
    gap = (
        company_stage is not None
        and customer_stage is not None
        and abs(stage_rank(company_stage) - stage_rank(customer_stage)) >= PERCEPTION_GAP_STAGES
    )
    return _Judgement(company_score, company_stage, customer_score, customer_stage, gap)


def _band_sets(questionnaire_ids: Iterable[int] | None = None) -> dict[int, BandSet]:
    """Bands by questionnaire id: of the given questionnaires, or of all (one query)."""
    rows = ScoreBand.objects.all()
    if questionnaire_ids is not None:
        rows = rows.filter(questionnaire_id__in=set(questionnaire_ids))
    grouped: dict[int, list[tuple[str, Any, Any]]] = {}
    for qid, stage, low, high in rows.values_list(
        "questionnaire_id", "stage", "min_score", "max_score"
    ):
        grouped.setdefault(qid, []).append((stage, low, high))
    return {qid: BandSet(bands) for qid, bands in grouped.items()}


_ROW_FIELDS = ("customer_id", "rater_role", "answered_on", "id", "questionnaire_id", "mean_score")


@dataclass(frozen=True)
class RelationshipAssessment:
    """Where one customer relationship stands by its raters' latest assessments on ``as_of``.

    ``latest`` holds each rater role's latest assessment in the window (roles without one are
    absent). Scores are mean item scores (1–5); stages are ``PartnershipStage`` values, ``None``
    when nobody on that side answered in the window.
    """

    customer_id: int
    as_of: dt.date
    window_start: dt.date
    latest: dict[str, Assessment] = field(default_factory=dict)
    company_score: float | None = None
    company_stage: str | None = None
    customer_score: float | None = None
    customer_stage: str | None = None
    perception_gap: bool = False

    @property
    def company_assessments(self) -> list[Assessment]:
        """The company raters' latest assessments, in the order of the roles."""
        return [self.latest[r] for r in COMPANY_RATER_ROLES if r in self.latest]

    @property
    def customer_assessment(self) -> Assessment | None:
        return self.latest.get(RaterRole.CUSTOMER)

    @property
    def stage_difference(self) -> int | None:
        """Company stage minus customer stage, in stages (positive: the company sees it higher)."""
        if self.company_stage is None or self.customer_stage is None:
            return None
        return stage_rank(self.company_stage) - stage_rank(self.customer_stage)


def relationship_assessment(
    customer: Any, *, as_of: dt.date | None = None
) -> RelationshipAssessment:
    """The stage assessment of one customer relationship on ``as_of`` (default today); 2 queries."""
    as_of = _as_date(as_of) if as_of is not None else timezone.localdate()
    start, end = validity_window(as_of)
    customer_id = getattr(customer, "pk", customer)
    assessments = list(
        Assessment.objects.filter(
            customer_id=customer_id, answered_on__gte=start, answered_on__lte=end
        ).select_related("questionnaire", "rater")
    )
    rows = [_Row(*(getattr(a, f) for f in _ROW_FIELDS)) for a in assessments]
    by_role = _latest_per_role(rows).get(customer_id, {})
    if not by_role:
        return RelationshipAssessment(customer_id=customer_id, as_of=as_of, window_start=start)
    judgement = _judge(by_role, _band_sets(row.questionnaire_id for row in by_role.values()))
    by_id = {a.pk: a for a in assessments}
    latest = {
        role: by_id[by_role[role].id]
        for role in (*COMPANY_RATER_ROLES, RaterRole.CUSTOMER)
        if role in by_role
    }
    return RelationshipAssessment(
        customer_id=customer_id,
        as_of=as_of,
        window_start=start,
        latest=latest,
        company_score=judgement.company_score,
        company_stage=judgement.company_stage,
        customer_score=judgement.customer_score,
        customer_stage=judgement.customer_stage,
        perception_gap=judgement.perception_gap,
    )


def partnership_stages(*, as_of: dt.date) -> pa.Table:
    """One row per customer with any assessment in the validity window on ``as_of``.

    Columns: ``customer_id`` (int64), ``partnership_stage`` (the company's stage; '' when only
    the customer answered), ``partnership_stage_customer`` ('' when the customer did not answer)
    and ``perception_gap`` (bool); sorted by customer id.

    Two queries whatever the size: the window's assessments (read through the cursor, without
    per-row model conversion) and all score bands; the grouping is vectorised with numpy, so
    100,000 assessments take a fraction of a second.
    """
    start, end = validity_window(as_of)
    query = Assessment.objects.filter(answered_on__gte=start, answered_on__lte=end).order_by()
    fields = list(_ROW_FIELDS)
    if connections[query.db].vendor == "sqlite":
        # Read the date as text: SQLite's per-value date converter would cost more than the rest.
        query = query.annotate(answered_text=Cast("answered_on", CharField()))
        fields[fields.index("answered_on")] = "answered_text"
    query = query.values_list(*fields)
    sql, params = query.query.get_compiler(using=query.db).as_sql()
    with connections[query.db].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        return PARTNERSHIP_STAGES_SCHEMA.empty_table()
    customer, role, answered, ident, questionnaire, score = zip(*rows, strict=True)
    del rows
    role_code = {r: n for n, r in enumerate(_ROLE_ORDER)}
    table = _stages_vectorised(
        customer=np.asarray(customer, dtype=np.int64),
        role=np.fromiter((role_code[r] for r in role), dtype=np.int8, count=len(role)),
        day=_day_numbers(answered),
        ident=np.asarray(ident, dtype=np.int64),
        questionnaire=np.asarray(questionnaire, dtype=np.int64),
        score=np.asarray(score, dtype=np.float64),
        bands=_band_sets(),
    )
    return table


def _day_numbers(values: tuple) -> np.ndarray:
    """Dates (``date`` objects or ISO text) as integers that order like the dates."""
    if isinstance(values[0], str):
        return np.asarray(values, dtype="datetime64[D]").astype(np.int64)
    return np.fromiter((d.toordinal() for d in values), dtype=np.int64, count=len(values))


# Rater roles as small integers: the company's first, the customer last.
_ROLE_ORDER: tuple[str, ...] = (*COMPANY_RATER_ROLES, RaterRole.CUSTOMER)
_CUSTOMER_CODE = len(COMPANY_RATER_ROLES)
_STAGE_NAMES = np.asarray(["", *STAGES], dtype=object)  # rank + 1 → value; 0 → none


def _ranks(score: np.ndarray, questionnaire: np.ndarray, bands: dict[int, BandSet]) -> np.ndarray:
    """Each score's stage rank (0 basic … 3 integrated) by its questionnaire's bands."""
    ranks = np.zeros(len(score), dtype=np.int64)
    for qid in np.unique(questionnaire):
        mask = questionnaire == qid
        band_set = bands[int(qid)]
        stage_ranks = np.asarray([stage_rank(b.stage) for b in band_set.bands], dtype=np.int64)
        ranks[mask] = stage_ranks[band_set.indexes(score[mask])]
    return ranks


def _last_of_runs(*keys: np.ndarray) -> np.ndarray:
    """For arrays sorted by ``keys``, a mask of the last row of each run of equal keys."""
    n = len(keys[0])
    change = np.zeros(n, dtype=bool)
    change[-1] = True
    for key in keys:
        change[:-1] |= key[1:] != key[:-1]
    return change


def _stages_vectorised(
    *,
    customer: np.ndarray,
    role: np.ndarray,
    day: np.ndarray,
    ident: np.ndarray,
    questionnaire: np.ndarray,
    score: np.ndarray,
    bands: dict[int, BandSet],
) -> pa.Table:
    """The same rules as ``_judge``, over all customers at once."""
    # Each (customer, role)'s latest: sort by customer, role, day, id and keep each run's last.
    order = np.lexsort((ident, day, role, customer))
    customer, role, day, ident, questionnaire, score = (
        a[order] for a in (customer, role, day, ident, questionnaire, score)
    )
    keep = _last_of_runs(customer, role)
    customer, role, day, ident, questionnaire, score = (
        a[keep] for a in (customer, role, day, ident, questionnaire, score)
    )

    ids = np.unique(customer)
    company_rank = np.full(len(ids), -1, dtype=np.int64)
    customer_rank = np.full(len(ids), -1, dtype=np.int64)

    is_company = role != _CUSTOMER_CODE
    if is_company.any():
        c_customer, c_day, c_ident, c_q, c_score = (
            a[is_company] for a in (customer, day, ident, questionnaire, score)
        )
        c_ids, inverse = np.unique(c_customer, return_inverse=True)
        mean = np.bincount(inverse, weights=c_score) / np.bincount(inverse)
        # Bands of the newest company answer per customer.
        newest = np.lexsort((c_ident, c_day, c_customer))
        newest = newest[_last_of_runs(c_customer[newest])]
        company_rank[np.searchsorted(ids, c_ids)] = _ranks(mean, c_q[newest], bands)
    own = ~is_company
    if own.any():
        customer_rank[np.searchsorted(ids, customer[own])] = _ranks(
            score[own], questionnaire[own], bands
        )

    gap = (
        (company_rank >= 0)
        & (customer_rank >= 0)
        & (np.abs(company_rank - customer_rank) >= PERCEPTION_GAP_STAGES)
    )
    return pa.Table.from_arrays(
        [
            pa.array(ids, pa.int64()),
            pa.array(_STAGE_NAMES[company_rank + 1].tolist(), pa.string()),
            pa.array(_STAGE_NAMES[customer_rank + 1].tolist(), pa.string()),
            pa.array(gap, pa.bool_()),
        ],
        schema=PARTNERSHIP_STAGES_SCHEMA,
    )


def active_questionnaire(code: str) -> Questionnaire | None:
    """The active version of a questionnaire code, if any."""
    return Questionnaire.objects.filter(code=code, is_active=True).first()


def questionnaire_items_by_dimension(questionnaire: Questionnaire) -> list[tuple[str, list[Any]]]:
    """The version's items grouped by dimension, in item order: ``[(dimension label, items)]``."""
    groups: dict[str, list[Any]] = {}
    labels: dict[str, str] = {}
    for item in questionnaire.items.order_by("position"):
        groups.setdefault(item.dimension, []).append(item)
        labels[item.dimension] = item.dimension_label
    return [(labels[d], items) for d, items in groups.items()]


@dataclass(frozen=True)
class DimensionScore:
    """The mean item score of one dimension, the company's raters' vs the customer's."""

    dimension: str
    label: str
    company: float | None
    customer: float | None


def dimension_scores(assessment: RelationshipAssessment) -> list[DimensionScore]:
    """Per dimension, the company raters' mean (of each rater's dimension mean) and the customer's.

    One query over the answers of the assessments that count (``assessment.latest``); shows where
    the two sides see the relationship differently.
    """
    from django.db.models import Avg

    from guanxi.assessments.choices import Dimension
    from guanxi.assessments.models import AssessmentAnswer

    role_of = {a.pk: role for role, a in assessment.latest.items()}
    if not role_of:
        return []
    rows = (
        AssessmentAnswer.objects.filter(assessment_id__in=role_of)
        .values_list("assessment_id", "item__dimension")
        .annotate(mean=Avg("score"))
        .order_by()
    )
    company: dict[str, list[float]] = {}
    customer: dict[str, float] = {}
    for assessment_id, dimension, mean in rows:
        if role_of[assessment_id] == RaterRole.CUSTOMER:
            customer[dimension] = float(mean)
        else:
            company.setdefault(dimension, []).append(float(mean))
    return [
        DimensionScore(
            dimension=value,
            label=str(label),
            company=sum(company[value]) / len(company[value]) if value in company else None,
            customer=customer.get(value),
        )
        for value, label in Dimension.choices
        if value in company or value in customer
    ]


# -- the REST API ------------------------------------------------------------------------------


def customers_assessable(*, user: Any) -> QuerySet:
    """The business and channel customers ``user`` may see: those with a partnership to assess."""
    return customers_visible(user=user).filter(customer_type__in=ASSESSABLE_CUSTOMER_TYPES)


def assessments_visible(*, user: Any) -> QuerySet[Assessment]:
    """The assessments of the customers ``user`` may see, with their questionnaire, rater,
    customer and answers (three queries for any number of rows)."""
    answers = (
        AssessmentAnswer.objects.select_related("item")
        .only("id", "assessment_id", "score", "item__id", "item__position", "item__dimension")
        .order_by("item__position")
    )
    assessments = (
        Assessment.objects.select_related("questionnaire", "rater", "customer")
        .only(
            *(f.name for f in Assessment._meta.concrete_fields),
            "questionnaire__id",
            "questionnaire__code",
            "questionnaire__version",
            "rater__id",
            "rater__username",
            "customer__id",
            "customer__external_id",
            "customer__name",
        )
        .prefetch_related(Prefetch("answers", queryset=answers))
    )
    return visible_through_customer(assessments, user=user)


def questionnaires_with_content() -> QuerySet[Questionnaire]:
    """Questionnaire versions with their items and bands (three queries for any number)."""
    return Questionnaire.objects.prefetch_related(
        Prefetch("items", queryset=QuestionnaireItem.objects.order_by("position")),
        Prefetch("bands", queryset=ScoreBand.objects.order_by("min_score")),
    )
