"""Writes for interactions, cases and surveys. Each state change leaves an event in the same
transaction, so the customer timeline and the audit trail never disagree with the data."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.errors import ErrorCode, GuanxiError
from guanxi.core.models import Event
from guanxi.core.services import event_record
from guanxi.engagement.choices import CASE_TRANSITIONS, CaseStatus, Satisfaction, Severity
from guanxi.engagement.models import Case, Interaction, SurveyResponse
from guanxi.engagement.selectors import interactions_by_external_id
from guanxi.parties.models import Customer
from guanxi.playbooks.services import tasks_complete_from_interactions

# How long a case may take to resolve by default, by severity.
DEFAULT_RESOLUTION_TIME = {
    Severity.CRITICAL: dt.timedelta(hours=24),
    Severity.HIGH: dt.timedelta(days=2),
    Severity.MEDIUM: dt.timedelta(days=5),
    Severity.LOW: dt.timedelta(days=10),
}


@transaction.atomic
def interaction_log(
    *,
    customer: Customer,
    external_id: str,
    occurred_at: dt.datetime,
    channel: str,
    direction: str,
    service_phase: str,
    purpose: str,
    actor: Any = None,
    **fields: Any,
) -> Interaction:
    interaction = Interaction(
        customer=customer,
        external_id=external_id,
        occurred_at=occurred_at,
        channel=channel,
        direction=direction,
        service_phase=service_phase,
        purpose=purpose,
        **fields,
    )
    interaction.full_clean()
    interaction.save()
    event_record(
        kind="interaction.logged",
        actor=actor,
        customer=customer,
        subject=interaction,
        data={"channel": channel, "direction": direction, "purpose": purpose},
    )
    tasks_complete_from_interactions([interaction], actor=actor)  # open tasks it carries out
    return interaction


# Rows per INSERT statement of a bulk write.
BULK_BATCH_SIZE = 1000
# The fields of an interaction a bulk item may give besides the required ones.
_BULK_OPTIONAL_FIELDS = ("contact", "order", "staff", "notes")
_BULK_REQUIRED_FIELDS = (
    "customer",
    "external_id",
    "occurred_at",
    "channel",
    "direction",
    "service_phase",
    "purpose",
)


@dataclass
class InteractionsBulkResult:
    """What ``interactions_log_bulk`` did, item by item in the order given.

    ``statuses[i]`` is ``"created"`` or ``"existing"``; ``interactions[i]`` the stored interaction
    (for an existing one, only ``pk``, ``external_id`` and ``customer_id`` are loaded);
    ``completed_tasks[i]`` the ids of the open tasks that item's new interaction carried out.
    """

    interactions: list[Interaction] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    completed_tasks: list[list[int]] = field(default_factory=list)

    @property
    def created(self) -> int:
        return self.statuses.count("created")

    @property
    def existing(self) -> int:
        return self.statuses.count("existing")

    @property
    def tasks_completed(self) -> int:
        return sum(len(ids) for ids in self.completed_tasks)


def _bulk_items_check(items: Sequence[dict[str, Any]], existing: dict[str, tuple[int, int]]):
    """Validate what can be validated without the database (choices, lengths, blanks), a repeated
    external id, and an external id already used for another customer's interaction. Raises one
    ``ValidationError`` naming every bad item as ``interactions.<index>.<field>``."""
    errors: dict[str, list[str]] = {}
    seen: dict[str, int] = {}
    built: list[Interaction] = []
    for n, item in enumerate(items):
        missing = [f for f in _BULK_REQUIRED_FIELDS if item.get(f) in (None, "")]
        for name in missing:
            errors[f"interactions.{n}.{name}"] = [_("This field is required.")]
        unknown = set(item) - set(_BULK_REQUIRED_FIELDS) - set(_BULK_OPTIONAL_FIELDS)
        for name in sorted(unknown):
            errors[f"interactions.{n}.{name}"] = [_("An interaction has no such field.")]
        if missing or unknown:
            built.append(Interaction())
            continue
        interaction = Interaction(**item)
        built.append(interaction)
        try:
            # No foreign keys and no uniqueness here: those would query once per item.
            interaction.clean_fields(exclude=["customer", "contact", "order", "staff"])
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                errors[f"interactions.{n}.{name}"] = list(messages)
        customer = item["customer"]
        for relation in ("contact", "order"):
            related = item.get(relation)
            if related is not None and related.customer_id != customer.pk:
                errors[f"interactions.{n}.{relation}"] = [
                    _("It belongs to another customer than the interaction.")
                ]
        external_id = item["external_id"]
        if external_id in seen:
            errors[f"interactions.{n}.external_id"] = [
                _("The external id %(id)s is given twice in this request (items %(a)s and %(b)s).")
                % {"id": external_id, "a": seen[external_id], "b": n}
            ]
        seen.setdefault(external_id, n)
        stored = existing.get(external_id)
        if stored is not None and stored[1] != customer.pk:
            errors[f"interactions.{n}.external_id"] = [
                _("The external id %(id)s is already used by an interaction with another customer.")
                % {"id": external_id}
            ]
    if errors:
        raise ValidationError(errors)
    return built


@transaction.atomic
def interactions_log_bulk(
    *,
    interactions: Sequence[dict[str, Any]],
    actor: Any = None,
    ip_address: str | None = None,
    batch_size: int = BULK_BATCH_SIZE,
) -> InteractionsBulkResult:
    """Log many interactions at once, idempotently by external id: an item whose external id is
    stored already (for the same customer) is reported ``existing`` and left as it is; the others
    are created. All or nothing: one bad item (``ValidationError`` naming
    ``interactions.<index>.<field>``) and nothing is written.

    Each item holds the interaction's fields (``customer`` and optionally ``contact``, ``order``,
    ``staff`` as objects the caller looked up and may use). Set-based like ``interaction_log`` one
    at a time: the interactions and their ``interaction.logged`` events are bulk-inserted, the open
    tasks they carry out are completed in one pass (``tasks_complete_from_interactions``), and one
    ``interactions.bulk_created`` audit event records the counts when anything was created.
    """
    existing = interactions_by_external_id(item.get("external_id") for item in interactions)
    built = _bulk_items_check(interactions, existing)
    result = InteractionsBulkResult()
    new: list[Interaction] = []
    for item, interaction in zip(interactions, built, strict=True):
        stored = existing.get(item["external_id"])
        if stored is None:
            new.append(interaction)
            result.statuses.append("created")
            result.interactions.append(interaction)
        else:
            result.statuses.append("existing")
            result.interactions.append(
                Interaction(pk=stored[0], external_id=item["external_id"], customer_id=stored[1])
            )
    if not new:
        result.completed_tasks = [[] for _item in interactions]
        return result
    Interaction.objects.bulk_create(new, batch_size=batch_size)
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    subject_type = ContentType.objects.get_for_model(Interaction)
    Event.objects.bulk_create(
        (
            Event(
                kind="interaction.logged",
                actor=actor_obj,
                customer_id=i.customer_id,
                subject_type=subject_type,
                subject_id=i.pk,
                data={"channel": i.channel, "direction": i.direction, "purpose": i.purpose},
            )
            for i in new
        ),
        batch_size=batch_size,
    )
    done: dict[int, list[int]] = {}
    for task in tasks_complete_from_interactions(new, actor=actor):
        done.setdefault(task.completed_by_interaction_id, []).append(task.pk)
    result.completed_tasks = [
        done.get(i.pk, []) if status == "created" else []
        for i, status in zip(result.interactions, result.statuses, strict=True)
    ]
    event_record(
        kind="interactions.bulk_created",
        actor=actor,
        data={
            "created": result.created,
            "existing": result.existing,
            "completed_tasks": result.tasks_completed,
        },
        ip_address=ip_address,
    )
    return result


@transaction.atomic
def case_open(
    *,
    customer: Customer,
    external_id: str,
    kind: str,
    subject: str,
    actor: Any = None,
    opened_at: dt.datetime | None = None,
    due_at: dt.datetime | None = None,
    severity: str = Severity.MEDIUM,
    **fields: Any,
) -> Case:
    """Open a case; its deadline defaults from the severity (``DEFAULT_RESOLUTION_TIME``)."""
    opened_at = opened_at or timezone.now()
    case = Case(
        customer=customer,
        external_id=external_id,
        kind=kind,
        subject=subject,
        severity=severity,
        opened_at=opened_at,
        due_at=due_at or opened_at + DEFAULT_RESOLUTION_TIME[Severity(severity)],
        **fields,
    )
    case.full_clean()
    case.save()
    event_record(
        kind="case.opened",
        actor=actor,
        customer=customer,
        subject=case,
        data={"kind": kind, "severity": severity},
    )
    return case


@transaction.atomic
def case_transition(
    *,
    case: Case,
    status: str,
    actor: Any = None,
    at: dt.datetime | None = None,
    resolution: str | None = None,
    satisfaction: str | None = None,
) -> Case:
    """Move a case along open → in progress → resolved → closed (or re-open a resolved one)."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    at = at or timezone.now()
    if status not in CASE_TRANSITIONS[CaseStatus(case.status)]:
        raise GuanxiError(
            _("A case that is %(old)s cannot move to %(new)s.")
            % {"old": case.get_status_display(), "new": CaseStatus(status).label},
            code=ErrorCode.INVALID_TRANSITION,
            field="status",
        )
    if status == CaseStatus.RESOLVED and not (resolution or case.resolution):
        raise GuanxiError(
            _("Write down the resolution before resolving the case."), field="resolution"
        )
    old = case.status
    case.status = status
    if case.first_response_at is None and status != CaseStatus.OPEN:
        case.first_response_at = at
    if status == CaseStatus.RESOLVED:
        case.resolved_at = at
    elif status == CaseStatus.CLOSED:
        case.closed_at = at
    elif status == CaseStatus.IN_PROGRESS and old == CaseStatus.RESOLVED:
        case.resolved_at = None  # re-opened: the earlier resolution did not hold
    if resolution is not None:
        case.resolution = resolution
    if satisfaction is not None:
        case.satisfaction = satisfaction
    case.full_clean()
    case.save()
    event_record(
        kind="case.status_changed",
        actor=actor,
        customer=case.customer,
        subject=case,
        data={"from": old, "to": status},
    )
    return case


@transaction.atomic
def case_respond(*, case: Case, actor: Any = None, at: dt.datetime | None = None) -> Case:
    """Record the first response to the customer, if none was recorded yet."""
    at = at or timezone.now()
    updated = Case.objects.filter(pk=case.pk, first_response_at__isnull=True).update(
        first_response_at=at, updated_at=timezone.now()
    )
    case.refresh_from_db()
    if updated:
        event_record(kind="case.responded", actor=actor, customer=case.customer, subject=case)
    return case


@transaction.atomic
def case_assign(*, case: Case, owner: Any, actor: Any = None) -> Case:
    old = case.owner_id
    if old == getattr(owner, "pk", None):
        return case
    case.owner = owner
    case.save(update_fields=["owner", "updated_at"])
    event_record(
        kind="case.assigned",
        actor=actor,
        customer=case.customer,
        subject=case,
        data={"from": old, "to": getattr(owner, "pk", None)},
    )
    return case


@transaction.atomic
def survey_record(
    *,
    customer: Customer,
    answered_at: dt.datetime,
    csat: int | None = None,
    nps: int | None = None,
    actor: Any = None,
    **fields: Any,
) -> SurveyResponse:
    if csat is None and nps is None:
        raise GuanxiError(_("A survey response needs a CSAT or an NPS score."), field="csat")
    if csat is not None and not 1 <= csat <= 5:
        raise GuanxiError(_("CSAT is scored 1 to 5, not %(v)s.") % {"v": csat}, field="csat")
    if nps is not None and not 0 <= nps <= 10:
        raise GuanxiError(_("NPS is scored 0 to 10, not %(v)s.") % {"v": nps}, field="nps")
    response = SurveyResponse.objects.create(
        customer=customer, answered_at=answered_at, csat=csat, nps=nps, **fields
    )
    event_record(
        kind="survey.recorded",
        actor=actor,
        customer=customer,
        subject=response,
        data={"csat": csat, "nps": nps},
    )
    return response


@transaction.atomic
def case_classify(*, case: Case, satisfaction: str, actor: Any = None) -> Case:
    """Record how the customer feels about what they raised: dissatisfied, satisfied or very
    satisfied (the feedback classification), at any status."""
    if satisfaction not in Satisfaction.values:
        raise GuanxiError(
            _("Unknown classification %(value)s; use one of: %(allowed)s.")
            % {"value": satisfaction, "allowed": ", ".join(Satisfaction.values)},
            field="satisfaction",
        )
    old = case.satisfaction
    if old == satisfaction:
        return case
    case.satisfaction = satisfaction
    case.save(update_fields=["satisfaction", "updated_at"])
    event_record(
        kind="case.classified",
        actor=actor,
        customer=case.customer,
        subject=case,
        data={"from": old, "to": satisfaction},
    )
    return case
