import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from guanxi.core.errors import ErrorCode, GuanxiError
from guanxi.core.models import Event
from guanxi.engagement.models import Case
from guanxi.engagement.services import case_open, case_transition, survey_record

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2025, 3, 5, 9, 0, tzinfo=dt.UTC)


def test_case_walks_its_lifecycle_and_each_step_leaves_an_event(customer, user):
    case = case_open(
        customer=customer, external_id="K-1", kind="complaint", subject="Late", opened_at=T0
    )
    assert case.due_at == T0 + dt.timedelta(days=5)  # medium severity default

    case = case_transition(
        case=case, status="in_progress", actor=user, at=T0 + dt.timedelta(hours=2)
    )
    assert case.first_response_at == T0 + dt.timedelta(hours=2)
    case = case_transition(
        case=case, status="resolved", resolution="Refunded", at=T0 + dt.timedelta(days=1)
    )
    assert case.resolved_in_time is True
    case = case_transition(case=case, status="closed", at=T0 + dt.timedelta(days=2))

    kinds = list(Event.objects.filter(customer=customer).order_by("id").values_list("kind", "data"))
    assert [k for k, _ in kinds] == [
        "customer.created",
        "case.opened",
        "case.status_changed",
        "case.status_changed",
        "case.status_changed",
    ]
    assert [d.get("to") for k, d in kinds[2:]] == ["in_progress", "resolved", "closed"]
    assert Event.objects.filter(kind="case.status_changed", actor=user).count() == 1


def test_a_closed_case_cannot_be_reopened_and_nothing_is_written(customer):
    case = case_open(
        customer=customer, external_id="K-2", kind="question", subject="?", opened_at=T0
    )
    case = case_transition(case=case, status="resolved", resolution="Answered", at=T0)
    case = case_transition(case=case, status="closed", at=T0)
    events_before = Event.objects.count()
    with pytest.raises(GuanxiError) as err:
        case_transition(case=case, status="in_progress")
    assert err.value.code == ErrorCode.INVALID_TRANSITION
    assert "closed" in err.value.message
    assert Event.objects.count() == events_before
    assert Case.objects.get(pk=case.pk).status == "closed"


def test_resolving_needs_a_resolution(customer):
    case = case_open(
        customer=customer, external_id="K-3", kind="complaint", subject="x", opened_at=T0
    )
    with pytest.raises(GuanxiError, match="resolution"):
        case_transition(case=case, status="resolved")
    assert Case.objects.get(pk=case.pk).status == "open"


def test_database_refuses_a_resolved_case_without_resolution_time(customer):
    case = case_open(
        customer=customer, external_id="K-4", kind="complaint", subject="x", opened_at=T0
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(status="resolved")


def test_database_refuses_a_deadline_before_opening(customer):
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.create(
            customer=customer,
            external_id="K-5",
            kind="complaint",
            subject="x",
            opened_at=T0,
            due_at=T0 - dt.timedelta(days=1),
        )


@pytest.mark.parametrize(("csat", "nps"), [(0, None), (6, None), (None, 11), (None, None)])
def test_survey_scores_out_of_range_are_refused(customer, csat, nps):
    with pytest.raises(GuanxiError):
        survey_record(customer=customer, answered_at=T0, csat=csat, nps=nps)


def test_survey_ranges_are_database_constraints_too(customer):
    from guanxi.engagement.models import SurveyResponse

    with pytest.raises(IntegrityError), transaction.atomic():
        SurveyResponse.objects.create(customer=customer, answered_at=T0, nps=11)
