"""Writes for interactions, cases and surveys. Each state change leaves an event in the same
transaction, so the customer timeline and the audit trail never disagree with the data."""

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.errors import ErrorCode, GuanxiError
from guanxi.core.services import event_record
from guanxi.engagement.choices import CASE_TRANSITIONS, CaseStatus, Satisfaction, Severity
from guanxi.engagement.models import Case, Interaction, SurveyResponse
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
