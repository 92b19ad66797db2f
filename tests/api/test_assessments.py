"""The assessment endpoints: questionnaires, who reads and records which assessments (the raters'
rules of the pages), and one relationship's stages and perception gap."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from guanxi.assessments.choices import DEFAULT_QUESTIONNAIRE_CODE
from guanxi.assessments.models import Assessment, Questionnaire
from guanxi.assessments.services import assessment_record, questionnaire_new_version
from guanxi.core.models import Event
from tests.api.conftest import RECORDS, ROLES, SEES
from tests.playbooks.factories import customers_bulk

pytestmark = pytest.mark.django_db

QUESTIONNAIRES = "/api/v1/questionnaires/"
ASSESSMENTS = "/api/v1/assessments/"
STAGES = "/api/v1/relationship-stages/"
# The raters, as on the pages: service and analysts read only.
RECORDERS = {"admin", "manager", "sales"}
TODAY = timezone.localdate()


@pytest.fixture
def questionnaire(db):
    """The default questionnaire the data migration ships (12 items, four bands)."""
    return Questionnaire.objects.get(code=DEFAULT_QUESTIONNAIRE_CODE, version=1)


def _answers(questionnaire, *scores):
    items = list(questionnaire.items.order_by("position"))
    return [{"item": item.pk, "score": scores[i % len(scores)]} for i, item in enumerate(items)]


def _record(customer, questionnaire, role, score, *, on=TODAY, **kwargs):
    return assessment_record(
        customer=customer,
        questionnaire=questionnaire,
        rater_role=role,
        answers={item: score for item in questionnaire.items.all()},
        answered_on=on,
        **kwargs,
    )


# -- questionnaires -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_the_active_questionnaires_with_items_and_bands(
    company, api_as, questionnaire, role
):
    draft = questionnaire_new_version(questionnaire=questionnaire)  # inactive
    client = api_as(company.users[role], scope="read")
    response = client.get(QUESTIONNAIRES)
    assert response.status_code == 200
    (listed,) = response.json()["results"]
    assert listed["id"] == questionnaire.pk and listed["is_active"] is True
    assert [i["position"] for i in listed["items"]] == list(range(1, 13))
    first = listed["items"][0]
    assert [a["score"] for a in first["anchors"]] == [1, 2, 3, 4, 5]
    assert first["anchors"][0]["en"] and first["anchors"][0]["zh"]
    assert first["text_en"] and first["text_zh"] and first["dimension"]
    assert [b["stage"] for b in listed["bands"]] == [
        "basic",
        "cooperative",
        "interdependent",
        "integrated",
    ]
    assert listed["bands"][0]["min_score"] == 1.0 and listed["bands"][0]["max_score"] == 2.0
    # Any version by its id, so an assessment's questionnaire can always be read.
    old = client.get(f"{QUESTIONNAIRES}{draft.pk}/")
    assert old.status_code == 200 and old.json()["is_active"] is False


def test_questionnaires_are_read_only_and_not_for_users_without_a_role(
    company, api_as, questionnaire
):
    url = f"{QUESTIONNAIRES}{questionnaire.pk}/"
    assert api_as(company.users["admin"]).delete(url).status_code == 405
    assert api_as(company.users["nobody"]).get(QUESTIONNAIRES).status_code == 403


def test_the_questionnaire_list_costs_the_same_for_more_versions(
    company, api_as, questionnaire, django_assert_max_num_queries
):
    client = api_as(company.users["admin"])
    with CaptureQueriesContext(connection) as baseline:
        client.get(QUESTIONNAIRES)
    for n in range(25):
        copy = questionnaire_new_version(questionnaire=questionnaire)
        Questionnaire.objects.filter(pk=copy.pk).update(code=f"copy-{n}", is_active=True)
    with django_assert_max_num_queries(len(baseline.captured_queries)):
        rows = client.get(QUESTIONNAIRES, {"page_size": 100}).json()["results"]
    assert len(rows) == 26 and all(len(q["items"]) == 12 for q in rows)


# -- assessments: reading -----------------------------------------------------------------------


@pytest.fixture
def assessed(company, questionnaire):
    """own and other (both business) assessed by their sales reps; pool is a consumer."""
    return {
        record: _record(
            company.customers[record],
            questionnaire,
            "sales_manager",
            3,
            rater=company.customers[record].owner,
        )
        for record in ("own", "other")
    }


@pytest.mark.parametrize("role", ROLES)
def test_each_role_lists_the_assessments_of_the_customers_it_sees(company, api_as, assessed, role):
    response = api_as(company.users[role]).get(ASSESSMENTS)
    assert response.status_code == 200
    expected = {assessed[r].pk for r in SEES[role] if r in assessed}
    assert {a["id"] for a in response.json()["results"]} == expected


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("record", ["own", "other"])
def test_an_assessment_of_an_unseen_customer_is_not_found(company, api_as, assessed, role, record):
    response = api_as(company.users[role]).get(f"{ASSESSMENTS}{assessed[record].pk}/")
    if record in SEES[role]:
        assert response.status_code == 200
        body = response.json()
        assert body["stage"] == "interdependent" and body["mean_score"] == 3.0
        assert body["rater_role"] == "sales_manager"
        assert body["questionnaire_code"] == DEFAULT_QUESTIONNAIRE_CODE
        assert len(body["answers"]) == 12 and {a["score"] for a in body["answers"]} == {3}
        assert [a["position"] for a in body["answers"]] == list(range(1, 13))
    else:
        assert response.status_code == 404


def test_the_assessment_filters(company, api_as, assessed, questionnaire):
    own = company.customers["own"]
    _record(own, questionnaire, "customer", 1, on=TODAY - dt.timedelta(days=10), rater_name="Ms Wu")
    client = api_as(company.users["admin"])

    def ids(params):
        response = client.get(ASSESSMENTS, params)
        assert response.status_code == 200, response.json()
        return {(a["customer"], a["rater_role"]) for a in response.json()["results"]}

    assert ids({"customer": own.pk}) == {(own.pk, "sales_manager"), (own.pk, "customer")}
    assert ids({"customer_external_id": "C-OWN", "stage": "basic"}) == {(own.pk, "customer")}
    assert ids({"rater_role": "customer"}) == {(own.pk, "customer")}
    earlier = (TODAY - dt.timedelta(days=1)).isoformat()
    assert ids({"answered_to": earlier}) == {(own.pk, "customer")}
    assert len(ids({"answered_from": TODAY.isoformat()})) == 2
    assert len(ids({"questionnaire": questionnaire.pk})) == 3
    for bad in ({"stage": "eternal"}, {"answered_from": "soon"}, {"questionnaire": "0"}):
        assert client.get(ASSESSMENTS, bad).status_code == 400


def test_the_assessment_list_costs_the_same_whatever_its_length(
    company, api_as, questionnaire, django_assert_max_num_queries
):
    client = api_as(company.users["sales"])
    owner = company.users["sales"]
    few = customers_bulk(2, owner=owner)
    for customer in few:
        _record(customer, questionnaire, "sales_manager", 2, rater=owner)
    with CaptureQueriesContext(connection) as baseline:
        assert len(client.get(ASSESSMENTS).json()["results"]) == 2
    for customer in customers_bulk(25, owner=owner):
        _record(customer, questionnaire, "marketing_staff", 4, rater=company.users["manager"])
    with django_assert_max_num_queries(len(baseline.captured_queries)):
        rows = client.get(ASSESSMENTS, {"page_size": 100}).json()["results"]
    assert len(rows) == 27 and all(len(a["answers"]) == 12 for a in rows)


# -- assessments: recording ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("record", RECORDS)
def test_who_records_an_assessment_for_whom(company, api_as, questionnaire, role, record):
    user, customer = company.users[role], company.customers[record]
    response = api_as(user).post(
        ASSESSMENTS,
        {
            "customer": customer.pk,
            "rater_role": "senior_manager",
            "answers": _answers(questionnaire, 4, 5),
            "notes": "quarterly review",
        },
        format="json",
    )
    if role not in RECORDERS:
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
    elif record not in SEES[role] or customer.customer_type == "consumer":
        # Not visible, or a consumer (no partnership to assess): no such customer here.
        assert response.status_code == 400
        assert list(response.json()["error"]["fields"]) == ["customer"]
    else:
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["rater"] == user.pk and body["rater_name"] == ""
        assert body["mean_score"] == 4.5 and body["stage"] == "integrated"
        assert body["answered_on"] == TODAY.isoformat() and body["notes"] == "quarterly review"
        assert len(body["answers"]) == 12
        event = Event.objects.get(kind="assessment.recorded")
        assert event.actor == user and event.customer == customer
        assert event.data["rater_role"] == "senior_manager"
        return
    assert not Assessment.objects.exists()
    assert not Event.objects.filter(kind="assessment.recorded").exists()


def test_the_customers_own_answers_carry_who_answered_and_no_staff_rater(
    company, api_as, questionnaire
):
    client = api_as(company.users["sales"])
    data = {
        "customer": company.customers["own"].pk,
        "rater_role": "customer",
        "answers": _answers(questionnaire, 1),
        "answered_on": "2026-01-15",
    }
    missing = client.post(ASSESSMENTS, data, format="json")
    assert missing.status_code == 400 and list(missing.json()["error"]["fields"]) == ["rater_name"]
    response = client.post(ASSESSMENTS, {**data, "rater_name": "Ms Wu"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["rater"] is None and body["rater_name"] == "Ms Wu"
    assert body["stage"] == "basic" and body["answered_on"] == "2026-01-15"
    company_rater = client.post(
        ASSESSMENTS,
        {**data, "rater_role": "sales_manager", "rater_name": "Ms Wu"},
        format="json",
    )
    assert company_rater.status_code == 400
    assert list(company_rater.json()["error"]["fields"]) == ["rater_name"]
    assert Assessment.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d, q: d["answers"].pop(), "answers"),  # an item left unanswered
        (lambda d, q: d["answers"].append(dict(d["answers"][0])), "answers"),  # twice
        (lambda d, q: d["answers"][0].update(item=10**12), "answers"),  # not in it
        (lambda d, q: d["answers"][0].update(item=2**64), "answers.0.item"),
        (lambda d, q: d["answers"][0].update(score=6), "answers.0.score"),
        (lambda d, q: d["answers"][0].update(score="x"), "answers.0.score"),
        (lambda d, q: d.update(answers=[]), "answers"),
        (lambda d, q: d.update(rater_role="intern"), "rater_role"),
        (lambda d, q: d.update(answered_on=(TODAY + dt.timedelta(days=1)).isoformat()), None),
        (lambda d, q: d.update(customer=10**30), "customer"),
        (lambda d, q: d.update(questionnaire=10**12), "questionnaire"),
        (lambda d, q: d.update(notes="n" * 5001), "notes"),
    ],
)
def test_a_bad_assessment_is_refused_naming_the_field(
    company, api_as, questionnaire, change, field
):
    data = {
        "customer": company.customers["own"].pk,
        "rater_role": "sales_manager",
        "answers": _answers(questionnaire, 3),
    }
    change(data, questionnaire)
    response = api_as(company.users["manager"]).post(ASSESSMENTS, data, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["code"] == "invalid"
    assert list(response.json()["error"]["fields"]) == [field or "answered_on"]
    assert not Assessment.objects.exists()


def test_an_inactive_version_or_none_active_is_refused(company, api_as, questionnaire):
    draft = questionnaire_new_version(questionnaire=questionnaire)
    client = api_as(company.users["admin"])
    data = {
        "customer": company.customers["own"].pk,
        "rater_role": "sales_manager",
        "answers": _answers(draft, 3),
        "questionnaire": draft.pk,
    }
    response = client.post(ASSESSMENTS, data, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_allowed"
    assert "questionnaire" in response.json()["error"]["fields"]
    Questionnaire.objects.update(is_active=False)
    del data["questionnaire"]
    response = client.post(ASSESSMENTS, data, format="json")
    assert response.status_code == 403 and "questionnaire" in response.json()["error"]["fields"]
    assert not Assessment.objects.exists()


def test_a_read_token_may_not_record(company, api_as, questionnaire):
    response = api_as(company.users["sales"], scope="read").post(
        ASSESSMENTS,
        {
            "customer": company.customers["own"].pk,
            "rater_role": "sales_manager",
            "answers": _answers(questionnaire, 3),
        },
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "token_read_only"
    assert not Assessment.objects.exists()


# -- one relationship ---------------------------------------------------------------------------


def test_a_relationship_shows_both_views_the_gap_and_the_dimensions(company, api_as, questionnaire):
    own = company.customers["own"]
    company_view = _record(own, questionnaire, "sales_manager", 4, rater=company.users["sales"])
    _record(own, questionnaire, "senior_manager", 3, rater=company.users["manager"])
    customer_view = _record(own, questionnaire, "customer", 1, rater_name="Ms Wu")
    # A lapsed assessment does not count.
    _record(own, questionnaire, "marketing_staff", 1, on=TODAY - dt.timedelta(days=400))
    response = api_as(company.users["analyst"]).get(f"{STAGES}{own.pk}/")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["customer"] == own.pk and body["customer_external_id"] == "C-OWN"
    assert body["company_score"] == 3.5 and body["company_stage"] == "interdependent"
    assert body["customer_score"] == 1.0 and body["customer_stage"] == "basic"
    assert body["perception_gap"] is True and body["stage_difference"] == 2
    latest = {row["rater_role"]: row["assessment"] for row in body["latest"]}
    assert latest["sales_manager"] == company_view.pk and latest["customer"] == customer_view.pk
    assert "marketing_staff" not in latest
    assert body["dimensions"] and all(
        d["company"] == 3.5 and d["customer"] == 1.0 for d in body["dimensions"]
    )
    # As of a day before any of it: nothing counts yet.
    before = api_as(company.users["analyst"]).get(
        f"{STAGES}{own.pk}/", {"as_of": (TODAY - dt.timedelta(days=500)).isoformat()}
    )
    assert before.json()["company_stage"] is None and before.json()["latest"] == []


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("record", RECORDS)
def test_a_relationship_is_read_only_for_visible_business_customers(company, api_as, role, record):
    response = api_as(company.users[role]).get(f"{STAGES}{company.customers[record].pk}/")
    if record in SEES[role] and record != "pool":  # pool is a consumer: nothing to assess
        assert response.status_code == 200
        assert response.json()["company_stage"] is None and response.json()["dimensions"] == []
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("as_of", ["someday", "0001-01-01", "2026-13-01"])
def test_a_bad_as_of_is_a_400(company, api_as, as_of):
    url = f"{STAGES}{company.customers['own'].pk}/"
    response = api_as(company.users["admin"]).get(url, {"as_of": as_of})
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["as_of"]
