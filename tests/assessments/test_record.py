import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from guanxi.assessments.models import Assessment, AssessmentAnswer
from guanxi.assessments.services import assessment_record, questionnaire_deactivate
from guanxi.core.errors import ErrorCode, GuanxiError
from guanxi.core.models import Event

from .conftest import AS_OF, uniform

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("scores", "mean", "stage"),
    [
        (1, 1.0, "basic"),
        ((1, 2), 1.5, "basic"),
        (2, 2.0, "cooperative"),  # a mean on a boundary reaches the higher stage
        ((2, 3), 2.5, "cooperative"),
        ((3, 3, 4), 10 / 3, "interdependent"),
        ((4, 3, 4, 4), 3.75, "interdependent"),
        (4, 4.0, "integrated"),
        ((4, 5), 4.5, "integrated"),
        (5, 5.0, "integrated"),
    ],
)
def test_the_mean_item_score_is_banded_into_a_stage(customer, record, scores, mean, stage):
    assessment = record(customer, "marketing_staff", scores)
    assert assessment.mean_score == pytest.approx(mean)
    assert assessment.stage == stage
    assessment.refresh_from_db()
    assert assessment.stage == stage
    assert assessment.answers.count() == 12


def test_recording_writes_answers_and_one_event(customer, user, questionnaire):
    items = list(questionnaire.items.order_by("position"))
    answers = {item.pk: 1 + (item.position % 5) for item in items}  # keyed by item id
    assessment = assessment_record(
        customer=customer,
        questionnaire=questionnaire,
        rater_role="sales_manager",
        answers=answers,
        answered_on=AS_OF,
        rater=user,
        notes="After the annual review.",
        actor=user,
    )
    assert dict(assessment.answers.values_list("item_id", "score")) == answers
    assert assessment.mean_score == pytest.approx(sum(answers.values()) / 12)
    assert assessment.rater == user and assessment.rater_display == "mei"
    event = Event.objects.get(kind="assessment.recorded")
    assert event.customer == customer and event.actor == user
    assert event.data["stage"] == assessment.stage
    assert event.data["rater_role"] == "sales_manager"

    # Keys may also be the items themselves, or positions.
    by_item = {item: 2 for item in items}
    assert (
        assessment_record(
            customer=customer,
            questionnaire=questionnaire,
            rater_role="customer",
            answers=by_item,
            answered_on=AS_OF,
            rater_name="Ms Wang, purchasing",
        ).stage
        == "cooperative"
    )


def _record(customer, questionnaire, answers, **kwargs):
    params = {
        "customer": customer,
        "questionnaire": questionnaire,
        "rater_role": "senior_manager",
        "answers": answers,
        "answered_on": AS_OF,
        **kwargs,
    }
    return assessment_record(**params)


def _nothing_written():
    return (
        not Assessment.objects.exists()
        and not AssessmentAnswer.objects.exists()
        and (not Event.objects.filter(kind="assessment.recorded").exists())
    )


def test_a_missing_item_is_named(customer, questionnaire):
    answers = uniform(questionnaire, 3)
    del answers[7]
    with pytest.raises(GuanxiError) as err:
        _record(customer, questionnaire, answers)
    item = questionnaire.items.get(position=7)
    assert err.value.field == "answers"
    assert "item 7" in err.value.message and item.text_en in err.value.message
    assert "1 to 5" in err.value.message
    assert _nothing_written()


@pytest.mark.parametrize("bad", [0, 6, -1, 2.5, "3", None, True])
def test_an_out_of_range_score_is_refused(customer, questionnaire, bad):
    answers = uniform(questionnaire, 3)
    answers[4] = bad
    with pytest.raises(GuanxiError) as err:
        _record(customer, questionnaire, answers)
    assert err.value.field == "answers"
    assert "item 4" in err.value.message and "1 to 5" in err.value.message
    assert _nothing_written()


def test_the_database_refuses_a_score_outside_1_to_5(customer, questionnaire, record):
    assessment = record(customer, "marketing_staff", 3)
    answer = assessment.answers.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        AssessmentAnswer.objects.filter(pk=answer.pk).update(score=6)


def test_items_of_another_questionnaire_and_unknown_keys_are_refused(customer, questionnaire):
    from guanxi.assessments.services import questionnaire_new_version

    other = questionnaire_new_version(questionnaire)
    foreign = dict.fromkeys(other.items.all(), 3)
    with pytest.raises(GuanxiError) as err:
        _record(customer, questionnaire, foreign)
    assert err.value.field == "answers" and "belongs to questionnaire" in err.value.message

    answers = uniform(questionnaire, 3)
    answers[99] = 3
    with pytest.raises(GuanxiError) as err:
        _record(customer, questionnaire, answers)
    assert "99" in err.value.message and "positions 1 to 12" in err.value.message

    first = questionnaire.items.get(position=1)
    twice = {first: 3, **{i.pk: 3 for i in questionnaire.items.all()}}
    with pytest.raises(GuanxiError) as err:
        _record(customer, questionnaire, twice)
    assert "more than once" in err.value.message
    assert _nothing_written()


def test_an_inactive_questionnaire_is_refused(customer, questionnaire):
    questionnaire_deactivate(questionnaire=questionnaire)
    with pytest.raises(GuanxiError) as err:
        _record(customer, questionnaire, uniform(questionnaire, 3))
    assert err.value.field == "questionnaire" and err.value.code == ErrorCode.NOT_ALLOWED
    assert "not active" in err.value.message and "activate" in err.value.message
    assert _nothing_written()


@pytest.mark.parametrize("customer_type", ["consumer", "internal"])
def test_consumers_and_internal_customers_are_not_assessed(
    make_customer, questionnaire, customer_type
):
    person = make_customer(customer_type)
    with pytest.raises(GuanxiError) as err:
        _record(person, questionnaire, uniform(questionnaire, 3))
    assert err.value.field == "customer" and "business and channel" in err.value.message
    assert _nothing_written()


def test_channel_customers_are_assessed(make_customer, record):
    assert record(make_customer("channel"), "sales_manager", 2).stage == "cooperative"


def test_a_future_answer_date_is_refused(customer, questionnaire):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(GuanxiError) as err:
        _record(customer, questionnaire, uniform(questionnaire, 3), answered_on=tomorrow)
    assert err.value.field == "answered_on"
    assert _nothing_written()


def test_role_and_rater_are_checked(customer, questionnaire, user):
    with pytest.raises(GuanxiError) as err:
        _record(customer, questionnaire, uniform(questionnaire, 3), rater_role="intern")
    assert err.value.field == "rater_role" and "marketing_staff" in err.value.message
    with pytest.raises(GuanxiError) as err:
        _record(
            customer, questionnaire, uniform(questionnaire, 3), rater_role="customer", rater=user
        )
    assert err.value.field == "rater"
    assert _nothing_written()
