"""Reads over customers; every page, export and API list starts from ``customers_visible``."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, F, FilteredRelation, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from guanxi.assessments.models import Assessment, AssessmentAnswer
from guanxi.core.choices import Role
from guanxi.core.models import Event, StaffProfile
from guanxi.engagement.models import Case, Interaction, SurveyResponse
from guanxi.hierarchy.choices import FoundationHealth, LevelGap, PartnershipStage, RelationshipLevel
from guanxi.hierarchy.models import Bond
from guanxi.parties.models import Customer
from guanxi.playbooks.models import Task
from guanxi.sales.models import Order, OrderLine
from guanxi.scoring.choices import LifecycleStage, Measure, RunStatus, ValueClass
from guanxi.scoring.models import CustomerScore, ScoreChange


def user_roles(user: Any) -> frozenset[str]:
    """The role names (group names) of ``user``; a superuser counts as admin."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    roles = getattr(user, "_guanxi_roles", None)
    if roles is None:
        roles = frozenset(user.groups.values_list("name", flat=True))
        if user.is_superuser:
            roles |= {Role.ADMIN.value}
        user._guanxi_roles = roles  # one query per request, not one per check
    return roles


def _visibility_rule(user: Any) -> Q | None:
    """The record-level rule as a filter on customers; None means every customer."""
    roles = user_roles(user)
    if roles & {Role.ADMIN, Role.ANALYST, Role.SERVICE}:
        return None
    if Role.MANAGER in roles:
        team_id = StaffProfile.objects.filter(user=user).values_list("team_id", flat=True).first()
        rule = Q(owner=user) | Q(owner__isnull=True)
        if team_id is not None:
            rule |= Q(owner__staff_profile__team_id=team_id)
        return rule
    if Role.SALES in roles:
        return Q(owner=user) | Q(owner__isnull=True)
    return Q(pk__in=[])


def customers_visible(*, user: Any) -> QuerySet[Customer]:
    """The customers ``user`` may see (the record-level rule, enforced server-side).

    admin, analyst and service: every customer (analyst and service see personal data masked,
    which is the page's and the API's job); manager: customers owned by members of their team, their
    own and the unassigned pool; sales: their own and the unassigned pool; anyone else: none.
    """
    rule = _visibility_rule(user)
    return Customer.objects.all() if rule is None else Customer.objects.filter(rule)


def customers_by_reference(*, user: Any, refs: Iterable[int | str]) -> dict[int | str, Customer]:
    """The customers ``user`` sees among ``refs`` — ids (int) and external ids (str) — keyed by
    the reference, in one query. A reference missing from the result names a customer that does
    not exist or that ``user`` may not see (the caller says "not found" for both)."""
    ids = {r for r in refs if isinstance(r, int)}
    external_ids = {r for r in refs if isinstance(r, str)}
    if not ids and not external_ids:
        return {}
    found: dict[int | str, Customer] = {}
    rule = Q(pk__in=sorted(ids)) | Q(external_id__in=sorted(external_ids))
    for customer in customers_visible(user=user).filter(rule):
        if customer.pk in ids:
            found[customer.pk] = customer
        if customer.external_id in external_ids:
            found[customer.external_id] = customer
    return found


def customers_hidden(*, user: Any) -> QuerySet[Customer]:
    """The customers ``user`` may not see: every customer minus ``customers_visible``.

    Aggregates over a few hidden customers are cheaper as "everything minus the hidden" than as a
    sum over the many visible ones (a sales user sees the whole unassigned pool).
    """
    rule = _visibility_rule(user)
    return Customer.objects.none() if rule is None else Customer.objects.exclude(rule)


def personal_data_visible(*, user: Any) -> bool:
    """Whether ``user`` sees phone, email, WeChat id and address unmasked."""
    return bool(user_roles(user) & {Role.ADMIN, Role.MANAGER, Role.SALES})


# Roles that work with customers: log interactions, open and handle cases, add and assign tasks.
# Analysts read only.
WORKING_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.SALES, Role.SERVICE})


def customer_work_allowed(*, user: Any) -> bool:
    """Whether ``user`` may change what happens with a customer they can see (not analysts)."""
    return bool(user_roles(user) & WORKING_ROLES)


def visible_through_customer(queryset: QuerySet, *, user: Any, field: str = "customer") -> QuerySet:
    """``queryset`` (of tasks, cases, …) narrowed to rows whose ``field`` customer ``user`` sees.

    Roles that see every customer get ``queryset`` unchanged, so their lists do not pay for an
    ``IN (SELECT …)`` over the whole customer table.
    """
    visible = customers_visible(user=user)
    if not visible.query.has_filters():
        return queryset
    return queryset.filter(**{f"{field}__in": visible.values("pk")})


def users_assignable(*, user: Any) -> QuerySet:
    """The users ``user`` may hand a task or a case to.

    admin and service (who route the case queue): every active user with a role; manager: the
    members of their team and themselves; anyone else: only themselves.
    """
    users = get_user_model().objects.filter(is_active=True).order_by("username")
    roles = user_roles(user)
    if roles & {Role.ADMIN, Role.SERVICE}:
        return users.filter(groups__name__in=[r.value for r in WORKING_ROLES]).distinct()
    if Role.MANAGER in roles:
        team_id = StaffProfile.objects.filter(user=user).values_list("team_id", flat=True).first()
        if team_id is not None:
            return users.filter(Q(pk=user.pk) | Q(staff_profile__team_id=team_id))
    return users.filter(pk=user.pk)


def personal_data_masked(value: str, *, field: str) -> str:
    """``value`` with most of it hidden, for users without ``personal_data_visible``.

    Enough stays to tell two records apart on the phone (``138****5678``, ``m***@example.com``).
    """
    if not value:
        return ""
    if field == "email" and "@" in value:
        local, _at, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    if field == "phone":
        digits = value.replace(" ", "").replace("-", "")
        if len(digits) > 7:
            return f"{digits[:3]}****{digits[-4:]}"
        return "*" * max(len(digits) - 2, 1) + digits[-2:]
    if field == "address":
        return f"{value[:3]}****"
    return f"{value[:1]}***{value[-1:]}" if len(value) > 2 else "***"


# -- the customer timeline ---------------------------------------------------------------------


class TimelineKind:
    """What a timeline entry is; ``RANKS`` orders entries that happened at the same moment."""

    ORDER = "order"
    INTERACTION = "interaction"
    CASE = "case"
    TASK = "task"
    CHANGE = "change"
    # Higher first at equal times: a task completed by an interaction shows above it, a standing
    # change (judged at the end of its as-of day) above that day's activity.
    RANKS = {ORDER: 1, INTERACTION: 2, CASE: 3, TASK: 4, CHANGE: 5}


@dataclass(frozen=True, order=True)
class TimelineCursor:
    """A position in the timeline: entries strictly before it (newest first) come next."""

    at: dt.datetime
    rank: int
    pk: int

    def __str__(self) -> str:
        return f"{self.at.isoformat()}~{self.rank}~{self.pk}"

    @classmethod
    def parse(cls, text: str) -> TimelineCursor:
        """Read ``str(cursor)`` back; ``ValueError`` for anything else."""
        try:
            at_text, rank_text, pk_text = text.split("~")
            at = dt.datetime.fromisoformat(at_text)
            rank, pk = int(rank_text), int(pk_text)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"not a timeline position: {text!r}") from exc
        if at.tzinfo is None or rank not in TimelineKind.RANKS.values():
            raise ValueError(f"not a timeline position: {text!r}")
        return cls(at=at, rank=rank, pk=pk)


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened with the customer.

    ``obj`` is the order, interaction, case or task; for a standing change it is the scoring run,
    and ``changes`` lists its ``StandingChange`` rows.
    """

    at: dt.datetime
    kind: str
    pk: int
    obj: Any
    changes: tuple = ()

    @property
    def cursor(self) -> TimelineCursor:
        return TimelineCursor(at=self.at, rank=TimelineKind.RANKS[self.kind], pk=self.pk)


# The values of each measure whose changes are recorded, for their labels.
MEASURE_CHOICES = {
    Measure.LIFECYCLE_STAGE: LifecycleStage,
    Measure.ABC_CLASS: ValueClass,
    Measure.ACTUAL_LEVEL: RelationshipLevel,
    Measure.RECOMMENDED_LEVEL: RelationshipLevel,
    Measure.LEVEL_GAP: LevelGap,
    Measure.PARTNERSHIP_STAGE: PartnershipStage,
    Measure.FOUNDATION_HEALTH: FoundationHealth,
}


@dataclass(frozen=True)
class StandingChange:
    """One measure that changed in a scoring run, with the labels of its values ("" = none)."""

    measure: str
    measure_label: Any
    from_value: str
    from_label: Any
    to_value: str
    to_label: Any

    @classmethod
    def of(cls, change: ScoreChange) -> StandingChange:
        labels = (
            dict(MEASURE_CHOICES[change.measure].choices)
            if change.measure in MEASURE_CHOICES
            else {}
        )
        return cls(
            measure=change.measure,
            measure_label=dict(Measure.choices).get(change.measure, change.measure),
            from_value=change.from_value,
            from_label=labels.get(change.from_value, change.from_value),
            to_value=change.to_value,
            to_label=labels.get(change.to_value, change.to_value),
        )


@dataclass(frozen=True)
class TimelinePage:
    entries: list[TimelineEntry]
    has_more: bool

    @property
    def next_cursor(self) -> TimelineCursor | None:
        return self.entries[-1].cursor if self.has_more and self.entries else None


def _before_q(at_field: str, kind: str, before: TimelineCursor | None) -> Q:
    """Rows of one source that sort strictly after ``before`` (newest first): earlier, or at the
    same moment with a lower (rank, id)."""
    if before is None:
        return Q()
    rank = TimelineKind.RANKS[kind]
    earlier = Q(**{f"{at_field}__lt": before.at})
    if rank < before.rank:
        return earlier | Q(**{at_field: before.at})
    if rank == before.rank:
        return earlier | Q(**{at_field: before.at, "pk__lt": before.pk})
    return earlier


def _end_of_day(day: dt.date) -> dt.datetime:
    """A run judges its as-of day whole, so its changes sit at the end of that (local) day."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.max))


def _run_before_q(before: TimelineCursor | None) -> Q:
    """``_before_q`` for standing changes, whose moment is derived from the run's as-of date."""
    if before is None:
        return Q()
    day = timezone.localtime(before.at).date()
    end = _end_of_day(day)
    rank = TimelineKind.RANKS[TimelineKind.CHANGE]
    if end < before.at:
        return Q(run__as_of__lte=day)
    if end == before.at and rank == before.rank:
        return Q(run__as_of__lt=day) | Q(run__as_of=day, run_id__lt=before.pk)
    if end == before.at and rank < before.rank:
        return Q(run__as_of__lte=day)
    return Q(run__as_of__lt=day)


def customer_timeline(
    *, customer: Customer, before: TimelineCursor | None = None, limit: int = 20
) -> TimelinePage:
    """Orders, interactions, cases, tasks and standing changes of ``customer``, newest first.

    Keyset-paginated: pass the previous page's ``next_cursor`` as ``before``. Five queries
    whatever the customer's history holds — each source reads at most ``limit + 1`` rows (standing
    changes: that many runs), and the merge keeps the newest ``limit``.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    take = limit + 1
    K = TimelineKind
    entries: list[TimelineEntry] = []

    orders = (
        Order.objects.filter(_before_q("placed_at", K.ORDER, before), customer=customer)
        .annotate(
            amount_cents=Sum(F("lines__quantity") * F("lines__unit_price_cents")),
            n_lines=Count("lines"),
        )
        .order_by("-placed_at", "-pk")[:take]
    )
    entries += [TimelineEntry(o.placed_at, K.ORDER, o.pk, o) for o in orders]

    interactions = (
        Interaction.objects.filter(
            _before_q("occurred_at", K.INTERACTION, before), customer=customer
        )
        .select_related("staff", "contact")
        .order_by("-occurred_at", "-pk")[:take]
    )
    entries += [TimelineEntry(i.occurred_at, K.INTERACTION, i.pk, i) for i in interactions]

    cases = (
        Case.objects.filter(_before_q("opened_at", K.CASE, before), customer=customer)
        .select_related("owner")
        .order_by("-opened_at", "-pk")[:take]
    )
    entries += [TimelineEntry(c.opened_at, K.CASE, c.pk, c) for c in cases]

    # A task sits where it last changed: when it was done or cancelled, else when it was issued.
    tasks = (
        Task.objects.filter(customer=customer)
        .annotate(at=Coalesce("completed_at", "cancelled_at", "created_at"))
        .filter(_before_q("at", K.TASK, before))
        .select_related("wording", "owner", "completed_by_interaction")
        .order_by("-at", "-pk")[:take]
    )
    entries += [TimelineEntry(t.at, K.TASK, t.pk, t) for t in tasks]

    # At most one change per measure per run, so this many rows hold `take` whole runs.
    changes = list(
        ScoreChange.objects.filter(
            _run_before_q(before), customer=customer, run__status=RunStatus.SUCCEEDED
        )
        .select_related("run")
        .order_by("-run__as_of", "-run_id", "measure")[: take * len(Measure)]
    )
    by_run: dict[int, list] = {}
    for change in changes:
        by_run.setdefault(change.run_id, []).append(change)
    for run_changes in list(by_run.values())[:take]:
        run = run_changes[0].run
        labelled = tuple(StandingChange.of(change) for change in run_changes)
        entries.append(TimelineEntry(_end_of_day(run.as_of), K.CHANGE, run.pk, run, labelled))

    entries.sort(key=lambda e: e.cursor, reverse=True)
    return TimelinePage(entries=entries[:limit], has_more=len(entries) > limit)


def customer_score_history(*, customer: Customer, limit: int = 120) -> list[dict[str, Any]]:
    """The customer's measures in each successful scoring run, oldest first (the last ``limit``
    runs; one query)."""
    rows = list(
        CustomerScore.objects.filter(customer=customer, run__status=RunStatus.SUCCEEDED)
        .order_by("-run__as_of", "-run_id")
        .values(
            "run_id",
            "run__as_of",
            "clv_cents",
            "p_alive",
            "actual_level",
            "recommended_level",
            "lifecycle_stage",
            "abc_class",
        )[:limit]
    )
    rows.reverse()
    return rows


# -- the customer list -------------------------------------------------------------------------

# The measures of a scoring run the customer list shows, filters and sorts on.
STANDING_FIELDS = (
    "actual_level",
    "recommended_level",
    "level_gap",
    "partnership_stage",
    "abc_class",
    "lifecycle_stage",
    "clv_cents",
    "last_purchase",
)


def customers_with_standing(*, user: Any, run_id: int | None) -> QuerySet[Customer]:
    """``customers_visible(user)`` with their scores in run ``run_id`` as the relation ``standing``.

    Filter and sort on ``standing__<measure>``; the join (on the (customer, run) index) is only
    made by a query that uses it, so counting or paging customers without one stays a plain scan.
    ``run_id`` None (no run yet) joins nothing: every measure is empty.
    """
    standing = FilteredRelation("scores", condition=Q(scores__run_id=run_id))
    return customers_visible(user=user).annotate(standing=standing)


def customers_standing_annotate(customers: QuerySet[Customer]) -> QuerySet[Customer]:
    """``customers`` (from ``customers_with_standing``) with each of ``STANDING_FIELDS`` as the
    attribute ``standing_<measure>`` (None for a customer the run did not score)."""
    return customers.annotate(
        **{f"standing_{name}": F(f"standing__{name}") for name in STANDING_FIELDS}
    )


# -- one customer's dossier (data requests) ----------------------------------------------------

DOSSIER_FORMAT = "guanxi.customer_dossier"
DOSSIER_VERSION = 1


def _plain_value(value: Any) -> Any:
    """``value`` as JSON has it: dates and times as ISO 8601 strings (times in the local time
    zone, with its offset), decimals as strings, non-finite floats as null."""
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        return timezone.localtime(value).isoformat()
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _plain_rows(rows, renames: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """``values()`` rows with plain JSON values; ``renames`` maps lookups to output keys."""
    renames = renames or {}
    return [{renames.get(k, k): _plain_value(v) for k, v in row.items()} for row in rows]


def customer_dossier(*, customer: Customer) -> dict[str, Any]:
    """Everything Guanxi holds about ``customer``, as a JSON-serialisable document.

    For a data request (``guanxi customer export``): the customer's fields (personal data and
    tags included), contacts, orders with their lines, interactions, cases, survey responses,
    tasks, bonds, stage assessments with their answers, the scores of every scoring run and the
    changes between runs, and the events about the customer. Dates and times are ISO 8601 strings
    (local time with its offset); money is integer cents of ``currency``. Staff appear by
    username. Not included: line costs (the company's, not the customer's) and the IP addresses
    of staff in the events.
    """
    c = Customer.objects.select_related("owner").get(pk=customer.pk)
    profile = {
        "id": c.pk,
        "external_id": c.external_id,
        "name": c.name,
        "customer_type": c.customer_type,
        "owner": c.owner.get_username() if c.owner else None,
        "region": c.region,
        "phone": c.phone,
        "email": c.email,
        "wechat_id": c.wechat_id,
        "address": c.address,
        "marketing_consent": c.marketing_consent,
        "is_active": c.is_active,
        "tags": sorted(c.tags.values_list("name", flat=True)),
        "created_at": _plain_value(c.created_at),
        "updated_at": _plain_value(c.updated_at),
    }

    contacts = _plain_rows(
        c.contacts.order_by("pk").values(
            "id",
            "external_id",
            "name",
            "job_title",
            "phone",
            "email",
            "wechat_id",
            "is_primary",
            "created_at",
            "updated_at",
        )
    )

    lines_by_order: dict[int, list[dict[str, Any]]] = {}
    for line in (
        OrderLine.objects.filter(order__customer=c)
        .order_by("order_id", "line_no")
        .values(
            "order_id", "line_no", "product__sku", "product__name", "quantity", "unit_price_cents"
        )
    ):
        lines_by_order.setdefault(line.pop("order_id"), []).append(
            {
                "line_no": line["line_no"],
                "sku": line["product__sku"],
                "product": line["product__name"],
                "quantity": line["quantity"],
                "unit_price_cents": line["unit_price_cents"],
                "amount_cents": line["quantity"] * line["unit_price_cents"],
            }
        )
    orders = _plain_rows(
        Order.objects.filter(customer=c)
        .order_by("placed_at", "pk")
        .values(
            "id",
            "external_id",
            "placed_at",
            "promised_delivery_on",
            "delivered_on",
            "channel",
            "status",
        )
    )
    for order in orders:
        order["lines"] = lines_by_order.get(order["id"], [])
        order["amount_cents"] = sum(line["amount_cents"] for line in order["lines"])

    interactions = _plain_rows(
        Interaction.objects.filter(customer=c)
        .order_by("occurred_at", "pk")
        .values(
            "id",
            "external_id",
            "occurred_at",
            "channel",
            "direction",
            "service_phase",
            "purpose",
            "contact__external_id",
            "order__external_id",
            "staff__username",
            "notes",
        ),
        {
            "contact__external_id": "contact",
            "order__external_id": "order",
            "staff__username": "staff",
        },
    )

    cases = _plain_rows(
        Case.objects.filter(customer=c)
        .order_by("opened_at", "pk")
        .values(
            "id",
            "external_id",
            "kind",
            "category",
            "subject",
            "description",
            "satisfaction",
            "severity",
            "status",
            "opened_at",
            "first_response_at",
            "resolved_at",
            "closed_at",
            "due_at",
            "resolution",
            "owner__username",
            "contact__external_id",
            "order__external_id",
        ),
        {
            "owner__username": "owner",
            "contact__external_id": "contact",
            "order__external_id": "order",
        },
    )

    surveys = _plain_rows(
        SurveyResponse.objects.filter(customer=c)
        .order_by("answered_at", "pk")
        .values("id", "answered_at", "csat", "nps", "comment", "case__external_id"),
        {"case__external_id": "case"},
    )

    tasks = [
        {
            "id": t.pk,
            "title": t.custom_title or (t.wording.title if t.wording else ""),
            "reason": t.custom_reason or (t.wording.reason if t.wording else ""),
            "reason_key": t.reason_key,
            "purpose": t.purpose,
            "channel": t.channel,
            "priority": t.priority,
            "status": t.status,
            "due_on": _plain_value(t.due_on),
            "owner": t.owner.get_username() if t.owner else None,
            "order": t.order.external_id if t.order else None,
            "created_at": _plain_value(t.created_at),
            "completed_at": _plain_value(t.completed_at),
            "cancelled_at": _plain_value(t.cancelled_at),
        }
        for t in Task.objects.filter(customer=c)
        .select_related("wording", "owner", "order")
        .order_by("created_at", "pk")
    ]

    bonds = _plain_rows(
        Bond.objects.filter(customer=c)
        .order_by("started_on", "pk")
        .values(
            "id",
            "instrument",
            "kind",
            "started_on",
            "ended_on",
            "note",
            "recorded_by__username",
            "created_at",
        ),
        {"recorded_by__username": "recorded_by"},
    )

    answers: dict[int, list[dict[str, int]]] = {}
    for row in (
        AssessmentAnswer.objects.filter(assessment__customer=c)
        .order_by("assessment_id", "item__position")
        .values("assessment_id", "item__position", "score")
    ):
        answers.setdefault(row["assessment_id"], []).append(
            {"item": row["item__position"], "score": row["score"]}
        )
    assessments = _plain_rows(
        Assessment.objects.filter(customer=c)
        .order_by("answered_on", "pk")
        .values(
            "id",
            "questionnaire__code",
            "questionnaire__version",
            "rater_role",
            "rater__username",
            "rater_name",
            "answered_on",
            "mean_score",
            "stage",
            "notes",
        ),
        {
            "questionnaire__code": "questionnaire",
            "questionnaire__version": "questionnaire_version",
            "rater__username": "rater",
        },
    )
    for assessment in assessments:
        assessment["answers"] = answers.get(assessment["id"], [])

    measures = [
        f.attname
        for f in CustomerScore._meta.concrete_fields
        if f.attname not in {"id", "customer_id", "run_id"}
    ]
    scores = _plain_rows(
        CustomerScore.objects.filter(customer=c)
        .order_by("run__as_of", "run_id")
        .values("run_id", "run__as_of", "run__status", *measures),
        {"run_id": "run", "run__as_of": "as_of", "run__status": "run_status"},
    )
    score_changes = _plain_rows(
        ScoreChange.objects.filter(customer=c)
        .order_by("run__as_of", "run_id", "measure")
        .values("run_id", "previous_run_id", "run__as_of", "measure", "from_value", "to_value"),
        {"run_id": "run", "previous_run_id": "previous_run", "run__as_of": "as_of"},
    )

    events = [
        {
            "id": e["id"],
            "occurred_at": _plain_value(e["occurred_at"]),
            "kind": e["kind"],
            "actor": e["actor__username"],
            "subject": (
                f"{e['subject_type__app_label']}.{e['subject_type__model']}"
                if e["subject_type__model"]
                else None
            ),
            "subject_id": e["subject_id"],
            "data": e["data"],
        }
        for e in Event.objects.filter(customer=c)
        .order_by("occurred_at", "pk")
        .values(
            "id",
            "occurred_at",
            "kind",
            "actor__username",
            "subject_type__app_label",
            "subject_type__model",
            "subject_id",
            "data",
        )
    ]

    return {
        "format": DOSSIER_FORMAT,
        "version": DOSSIER_VERSION,
        "generated_at": _plain_value(timezone.now()),
        "currency": settings.CURRENCY,
        "customer": profile,
        "contacts": contacts,
        "orders": orders,
        "interactions": interactions,
        "cases": cases,
        "survey_responses": surveys,
        "tasks": tasks,
        "bonds": bonds,
        "assessments": assessments,
        "scores": scores,
        "score_changes": score_changes,
        "events": events,
    }
