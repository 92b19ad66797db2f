"""The interactions, cases and surveys endpoints: who may see and change what, filters, the
idempotent bulk load of interactions, audit events and bounded queries."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import include, path
from django.utils import timezone
from rest_framework.routers import SimpleRouter

from guanxi.core import api as core_api
from guanxi.core.models import Event
from guanxi.engagement import api as engagement_api
from guanxi.engagement.models import Case, Interaction, SurveyResponse
from guanxi.engagement.services import case_open, survey_record
from guanxi.parties.models import Contact
from guanxi.playbooks import api as playbooks_api
from guanxi.playbooks.services import task_create
from guanxi.sales.models import Order
from tests.api.conftest import MATRIX, ROLES, SEES, WRITES, log_interaction

pytestmark = pytest.mark.django_db

INTERACTIONS = "/api/v1/interactions/"
BULK = "/api/v1/interactions/bulk/"
CASES = "/api/v1/cases/"
SURVEYS = "/api/v1/surveys/"

HOUR = dt.timedelta(hours=1)


def _ago(hours: float = 1) -> dt.datetime:
    return timezone.now() - dt.timedelta(hours=hours)


def _case(customer, external_id: str, **fields) -> Case:
    values = {"kind": "complaint", "subject": "Late delivery"}
    return case_open(customer=customer, external_id=external_id, **{**values, **fields})


def _item(customer: str | int, external_id: str, **fields) -> dict:
    return {
        "customer": customer,
        "external_id": external_id,
        "occurred_at": _ago(1).isoformat(),
        "channel": "phone",
        "direction": "outbound",
        "service_phase": "after_sale",
        "purpose": "advice",
        **fields,
    }


@pytest.fixture
def records(company):
    """One interaction, one case and one survey answer per customer."""
    out = {}
    for which, customer in company.customers.items():
        out[which] = {
            "interaction": log_interaction(customer, f"I-{which}"),
            "case": _case(customer, f"K-{which}"),
            "survey": survey_record(customer=customer, answered_at=_ago(3), csat=4),
        }
    return out


def _external_ids(response) -> set[str]:
    return {row["customer_external_id"] for row in response.json()["results"]}


# -- who sees what ----------------------------------------------------------------------------


@pytest.mark.parametrize("url", [INTERACTIONS, CASES, SURVEYS])
@pytest.mark.parametrize("role", ROLES)
def test_each_list_shows_the_records_of_the_customers_the_role_sees(
    company, records, api_as, role, url
):
    response = api_as(company.users[role]).get(url)
    assert response.status_code == 200
    expected = {company.customers[w].external_id for w in SEES[role]}
    assert _external_ids(response) == expected


@pytest.mark.parametrize(("role", "which"), MATRIX)
@pytest.mark.parametrize(("url", "kind"), [(INTERACTIONS, "interaction"), (CASES, "case")])
def test_a_record_of_a_customer_the_role_does_not_see_is_404(
    company, records, api_as, role, which, url, kind
):
    record = records[which][kind]
    response = api_as(company.users[role]).get(f"{url}{record.pk}/")
    assert response.status_code == (200 if which in SEES[role] else 404)
    if response.status_code == 404:
        assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("url", [INTERACTIONS, CASES, SURVEYS])
def test_a_user_without_a_role_gets_nothing(company, records, api_as, url):
    response = api_as(company.users["nobody"]).get(url)
    assert response.status_code == 403


def _expected_write(role: str, which: str, *, created: bool = False) -> int:
    if role not in WRITES:
        return 403
    if which not in SEES[role]:
        return 400 if created else 404
    return 201 if created else 200


@pytest.mark.parametrize(("role", "which"), MATRIX)
def test_logging_an_interaction_needs_a_working_role_and_a_visible_customer(
    company, api_as, role, which
):
    customer = company.customers[which]
    payload = {k: v for k, v in _item(customer.external_id, "I-NEW").items()}
    response = api_as(company.users[role]).post(INTERACTIONS, payload, format="json")
    expected = _expected_write(role, which, created=True)
    assert response.status_code == expected, response.json()
    stored = Interaction.objects.filter(external_id="I-NEW")
    if expected == 201:
        body = response.json()
        assert (body["customer"], body["customer_external_id"], body["customer_name"]) == (
            customer.pk,
            customer.external_id,
            customer.name,
        )
        assert (body["staff"], body["staff_username"]) == (
            company.users[role].pk,
            company.users[role].username,
        )
        event = Event.objects.get(kind="interaction.logged", subject_id=body["id"])
        assert (event.actor, event.customer) == (company.users[role], customer)
    else:
        assert not stored.exists()
    if expected == 400:  # an invisible customer is named like a missing one
        assert set(response.json()["error"]["fields"]) == {"customer"}


@pytest.mark.parametrize(("role", "which"), MATRIX)
def test_acting_on_a_case_needs_a_working_role_and_a_visible_customer(
    company, records, api_as, role, which
):
    case = records[which]["case"]
    response = api_as(company.users[role]).post(f"{CASES}{case.pk}/respond/")
    assert response.status_code == _expected_write(role, which)
    responded = Case.objects.get(pk=case.pk).first_response_at is not None
    assert responded == (response.status_code == 200)
    if responded:
        event = Event.objects.get(kind="case.responded", subject_id=case.pk)
        assert (event.actor, event.customer) == (company.users[role], company.customers[which])


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", INTERACTIONS),
        ("post", BULK),
        ("post", CASES),
        ("post", CASES + "{case}/respond/"),
        ("post", CASES + "{case}/assign/"),
        ("post", CASES + "{case}/transition/"),
        ("post", CASES + "{case}/classify/"),
        ("post", SURVEYS),
    ],
)
def test_a_read_token_may_not_write(company, records, api_as, method, url):
    client = api_as(company.users["admin"], scope="read")
    response = getattr(client, method)(
        url.format(case=records["own"]["case"].pk), {}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "token_read_only"
    assert client.get(INTERACTIONS).status_code == 200


def test_service_sees_every_case_but_no_personal_data_of_the_customer(company, records, api_as):
    response = api_as(company.users["service"]).get(CASES)
    assert response.status_code == 200
    assert len(response.json()["results"]) == 3
    for row in response.json()["results"]:
        assert {"customer", "customer_external_id", "customer_name"} <= set(row)
        assert not {"phone", "email", "wechat_id", "address"} & set(row)
    text = response.content.decode()
    for secret in ("13812345678", "buyer@example.com", "wx_buyer_01", "Nanjing Road"):
        assert secret not in text
    assert not Event.objects.filter(kind="customer.personal_data_viewed").exists()


# -- interactions ------------------------------------------------------------------------------


def test_logging_an_interaction_completes_the_open_task_it_carries_out(company, api_as):
    li, own = company.users["sales"], company.customers["own"]
    task = task_create(
        customer=own, title="Call back", due_on=timezone.localdate(), purpose="follow_up", owner=li
    )
    payload = _item(own.external_id, "I-CALL", purpose="follow_up")
    del payload["occurred_at"]  # now: after the task was issued
    response = api_as(li).post(INTERACTIONS, payload, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["completed_tasks"] == [
        {"id": task.pk, "title": "Call back", "reason_key": task.reason_key}
    ]
    task.refresh_from_db()
    assert (task.status, task.completed_by_interaction_id) == ("done", body["id"])
    event = Event.objects.get(kind="task.completed", subject_id=task.pk)
    assert (event.actor, event.customer) == (li, own)
    # The interaction shows what it completed when read back, too.
    assert api_as(li).get(f"{INTERACTIONS}{body['id']}/").json()["completed_tasks"][0]["id"] == (
        task.pk
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"channel": "pigeon"}, "channel"),
        ({"occurred_at": "2999-01-01T00:00:00Z"}, "occurred_at"),
        ({"occurred_at": "0001-01-01T00:00:00"}, "occurred_at"),
        ({"customer": 2**70}, "customer"),
        ({"customer": True}, "customer"),
        ({"customer": "x" * 65}, "customer"),
        ({"contact": 2**40}, "contact"),
        ({"order": "O-NOPE"}, "order"),
        ({"notes": "x" * 10_001}, "notes"),
        ({"external_id": "x" * 65}, "external_id"),
        ({"staff": 2**31 + 5}, "staff"),
    ],
)
def test_a_bad_interaction_is_a_400_naming_the_field(company, api_as, change, field):
    payload = {**_item("C-OWN", "I-BAD"), **change}
    response = api_as(company.users["sales"]).post(INTERACTIONS, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Interaction.objects.exists()


def test_the_contact_person_and_the_order_are_named_by_id_or_external_id(company, api_as):
    own, pool = company.customers["own"], company.customers["pool"]
    contact = Contact.objects.create(customer=own, external_id="P-1", name="Ms Zhou")
    order = Order.objects.create(customer=own, external_id="O-1", placed_at=_ago(30))
    pool_order = Order.objects.create(customer=pool, external_id="O-2", placed_at=_ago(30))
    client = api_as(company.users["sales"])
    payload = _item(own.pk, "I-REF", contact="P-1", order=order.pk)
    response = client.post(INTERACTIONS, payload, format="json")
    assert response.status_code == 201, response.json()
    assert (response.json()["contact"], response.json()["order"]) == (contact.pk, order.pk)
    stored = Interaction.objects.get(external_id="I-REF")
    assert (stored.contact, stored.order) == (contact, order)
    # Another customer's order (one li sees, even) is not this interaction's.
    wrong = client.post(
        INTERACTIONS, _item("C-OWN", "I-REF2", order="O-2", contact=contact.pk), format="json"
    )
    assert wrong.status_code == 400
    assert set(wrong.json()["error"]["fields"]) == {"order"}
    assert pool_order.interactions.count() == 0


def test_a_sales_rep_logs_for_themselves_and_a_service_agent_for_colleagues(company, api_as):
    wang = company.users["other_sales"]
    payload = _item("C-POOL", "I-STAFF", staff=wang.pk)
    refused = api_as(company.users["sales"]).post(INTERACTIONS, payload, format="json")
    assert refused.status_code == 400
    assert set(refused.json()["error"]["fields"]) == {"staff"}
    allowed = api_as(company.users["service"]).post(INTERACTIONS, payload, format="json")
    assert allowed.status_code == 201
    assert allowed.json()["staff"] == wang.pk


def test_interaction_filters(company, records, api_as):
    own = company.customers["own"]
    log_interaction(own, "I-VISIT", channel="visit", purpose="offer", occurred_at=_ago(48))
    client = api_as(company.users["admin"])

    def ids(**params) -> set[str]:
        response = client.get(INTERACTIONS, params)
        assert response.status_code == 200, response.json()
        return {row["external_id"] for row in response.json()["results"]}

    assert ids(channel="visit") == {"I-VISIT"}
    assert ids(customer=own.pk) == {"I-own", "I-VISIT"}
    assert ids(customer_external_id="C-OTHER") == {"I-other"}
    assert ids(purpose="advice", direction="outbound") == {"I-own", "I-other", "I-pool"}
    assert ids(occurred_before=_ago(24).isoformat()) == {"I-VISIT"}
    assert ids(occurred_after=_ago(24).isoformat(), customer=own.pk) == {"I-own"}
    assert ids(service_phase="pre_sale") == set()
    assert ids(staff=company.users["admin"].pk) == set()


@pytest.mark.parametrize(
    "params",
    [
        {"channel": "pigeon"},
        {"customer": "abc"},
        {"customer": str(2**70)},
        {"staff": "-1"},
        {"occurred_after": "yesterday"},
        {"occurred_after": "0001-01-01T00:00:00"},
        {"customer_external_id": "x" * 65},
    ],
)
def test_a_bad_filter_value_is_a_400_not_a_500(company, api_as, params):
    response = api_as(company.users["admin"]).get(INTERACTIONS, params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_listing_interactions_takes_a_fixed_number_of_queries(
    company, api_as, django_assert_max_num_queries
):
    li, own = company.users["sales"], company.customers["own"]
    for n in range(30):
        task_create(customer=own, title=f"T{n}", due_on=timezone.localdate(), purpose="advice")
        log_interaction(own, f"I-{n}", occurred_at=timezone.now())
    client = api_as(li)
    with django_assert_max_num_queries(8):
        response = client.get(INTERACTIONS, {"page_size": 100})
    rows = response.json()["results"]
    assert len(rows) == 30
    assert sum(len(row["completed_tasks"]) for row in rows) == 30


# -- the bulk load -----------------------------------------------------------------------------


def test_bulk_is_idempotent_by_external_id(company, api_as):
    li = company.users["sales"]
    client = api_as(li)
    payload = {"interactions": [_item("C-OWN", "B-1"), _item("C-POOL", "B-2")]}
    first = client.post(BULK, payload, format="json", REMOTE_ADDR="10.1.2.3")
    assert first.status_code == 201, first.json()
    body = first.json()
    assert body["counts"] == {"created": 2, "existing": 0, "completed_tasks": 0}
    stored = dict(Interaction.objects.values_list("external_id", "pk"))
    assert body["results"] == [
        {
            "index": 0,
            "external_id": "B-1",
            "id": stored["B-1"],
            "status": "created",
            "completed_tasks": [],
        },
        {
            "index": 1,
            "external_id": "B-2",
            "id": stored["B-2"],
            "status": "created",
            "completed_tasks": [],
        },
    ]
    assert Interaction.objects.get(external_id="B-1").staff == li

    payload["interactions"].append(_item("C-OWN", "B-3"))
    second = client.post(BULK, payload, format="json")
    assert second.status_code == 201
    assert second.json()["counts"] == {"created": 1, "existing": 2, "completed_tasks": 0}
    assert [r["status"] for r in second.json()["results"]] == ["existing", "existing", "created"]
    assert second.json()["results"][0]["id"] == stored["B-1"]
    third = client.post(BULK, payload, format="json")
    assert third.status_code == 200  # nothing logged
    assert third.json()["counts"] == {"created": 0, "existing": 3, "completed_tasks": 0}
    assert Interaction.objects.count() == 3

    logged = Event.objects.filter(kind="interaction.logged")
    assert logged.count() == 3
    assert set(logged.values_list("actor", flat=True)) == {li.pk}
    assert set(logged.values_list("customer__external_id", flat=True)) == {"C-OWN", "C-POOL"}
    audits = list(Event.objects.filter(kind="interactions.bulk_created").order_by("id"))
    assert len(audits) == 2  # the third request created nothing
    assert (audits[0].actor, audits[0].ip_address) == (li, "10.1.2.3")
    assert audits[0].data == {"created": 2, "existing": 0, "completed_tasks": 0}
    assert audits[1].data == {"created": 1, "existing": 2, "completed_tasks": 0}


def test_one_bad_item_and_nothing_is_stored(company, records, api_as):
    client = api_as(company.users["sales"])
    payload = {
        "interactions": [
            _item("C-OWN", "B-1"),
            _item("C-OWN", "B-2", channel="pigeon"),
            _item("C-OTHER", "B-3"),  # wang's customer: li may not see it
            _item("C-OWN", "B-1"),  # the same external id twice
            _item("C-OWN", "B-5", occurred_at="2999-01-01T00:00:00Z"),
            _item("C-OWN", "I-pool"),  # the external id of the pool customer's interaction
            _item("C-OWN", "B-7", staff=company.users["other_sales"].pk),
        ]
    }
    response = client.post(BULK, payload, format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {
        "interactions.1.channel",
        "interactions.2.customer",
        "interactions.3.external_id",
        "interactions.4.occurred_at",
        "interactions.5.external_id",
        "interactions.6.staff",
    }
    assert Interaction.objects.count() == 3  # the records fixture's
    assert not Event.objects.filter(kind="interactions.bulk_created").exists()


def test_bulk_refuses_an_external_id_of_another_customers_interaction(company, records, api_as):
    response = api_as(company.users["admin"]).post(
        BULK, {"interactions": [_item("C-POOL", "B-1"), _item("C-POOL", "I-own")]}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"interactions.1.external_id"}
    assert not Interaction.objects.filter(external_id="B-1").exists()
    # The same external id for the same customer is simply there already.
    again = api_as(company.users["admin"]).post(
        BULK, {"interactions": [_item("C-OWN", "I-own")]}, format="json"
    )
    assert again.status_code == 200
    assert again.json()["results"][0]["id"] == records["own"]["interaction"].pk


@pytest.mark.parametrize(
    "payload",
    [
        {"interactions": []},
        {},
        {"interactions": "nope"},
        {"interactions": ["not an interaction"]},
        {"interactions": [{}] * 1001},
    ],
)
def test_bulk_needs_one_to_a_thousand_items(company, api_as, payload):
    response = api_as(company.users["admin"]).post(BULK, payload, format="json")
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert fields and all(name.startswith("interactions") for name in fields)
    assert not any(name.startswith("interactions.0.") for name in fields)


def test_a_bulk_interaction_completes_an_open_task(company, api_as):
    li, own = company.users["sales"], company.customers["own"]
    task = task_create(
        customer=own, title="Call back", due_on=timezone.localdate(), purpose="follow_up", owner=li
    )
    later = (timezone.now() + dt.timedelta(seconds=1)).isoformat()
    payload = {
        "interactions": [
            _item("C-OWN", "B-1"),  # advice: completes nothing
            _item("C-OWN", "B-2", purpose="follow_up", occurred_at=later),
            _item("C-OWN", "B-3", purpose="follow_up", direction="inbound", occurred_at=later),
        ]
    }
    response = api_as(li).post(BULK, payload, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["counts"]["completed_tasks"] == 1
    assert [r["completed_tasks"] for r in body["results"]] == [[], [task.pk], []]
    task.refresh_from_db()
    assert task.status == "done"
    assert task.completed_by_interaction.external_id == "B-2"
    event = Event.objects.get(kind="task.completed", subject_id=task.pk)
    assert (event.actor, event.customer, event.data["interaction"]) == (
        li,
        own,
        task.completed_by_interaction_id,
    )
    audit = Event.objects.get(kind="interactions.bulk_created")
    assert audit.data["completed_tasks"] == 1


def test_bulk_takes_the_same_number_of_queries_for_5_or_200_items(company, api_as):
    li = company.users["sales"]
    client = api_as(li)
    for n in range(3):
        task_create(
            customer=company.customers["own"],
            title=f"T{n}",
            due_on=timezone.localdate(),
            purpose="follow_up",
            reason_key=f"manual:{n}",
        )

    def run(prefix: str, n: int) -> tuple[int, dict]:
        later = (timezone.now() + dt.timedelta(seconds=1)).isoformat()
        items = [
            _item(
                "C-OWN" if i % 2 else "C-POOL",
                f"{prefix}-{i}",
                purpose="follow_up",
                occurred_at=later,
                staff=li.pk,
            )
            for i in range(n)
        ]
        with CaptureQueriesContext(connection) as queries:
            response = client.post(BULK, {"interactions": items}, format="json")
        assert response.status_code == 201, response.json()
        return len(queries), response.json()

    small, small_body = run("S", 5)
    large, large_body = run("L", 200)
    assert small_body["counts"]["completed_tasks"] == 3  # the first load completes the tasks
    assert large_body["counts"]["created"] == 200
    assert large <= small <= 25


# -- cases -------------------------------------------------------------------------------------


def test_opening_a_case_by_external_id_with_an_owner(company, api_as):
    nora, li = company.users["manager"], company.users["sales"]
    response = api_as(nora).post(
        CASES,
        {
            "customer": "C-OWN",
            "kind": "complaint",
            "subject": "Broken seal",
            "severity": "critical",
            "owner": li.pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["owner"], body["owner_username"]) == ("open", li.pk, "li")
    assert (body["customer_external_id"], body["overdue"]) == ("C-OWN", False)
    assert body["allowed_transitions"] == ["in_progress", "resolved"]
    opened = dt.datetime.fromisoformat(body["opened_at"])
    assert dt.datetime.fromisoformat(body["due_at"]) - opened == dt.timedelta(hours=24)
    event = Event.objects.get(kind="case.opened", subject_id=body["id"])
    assert (event.actor, event.customer) == (nora, company.customers["own"])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"owner": "wang"}, "owner"),  # not someone li may give work to
        ({"due_at": "2000-01-01T00:00:00Z"}, "due_at"),
        ({"kind": "praise"}, "kind"),
        ({"subject": ""}, "subject"),
        ({"customer": "C-OTHER"}, "customer"),
        ({"contact": "P-1"}, "contact"),
    ],
)
def test_a_bad_case_is_a_400(company, api_as, change, field):
    payload = {"customer": "C-OWN", "kind": "complaint", "subject": "Late", **change}
    if payload.get("owner") == "wang":
        payload["owner"] = company.users["other_sales"].pk
    response = api_as(company.users["sales"]).post(CASES, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Case.objects.exists()


def test_a_case_moves_along_its_statuses_and_a_wrong_move_is_a_409(company, records, api_as):
    sun = company.users["service"]
    client = api_as(sun)
    url = f"{CASES}{records['other']['case'].pk}/transition/"
    no_resolution = client.post(url, {"status": "resolved"}, format="json")
    assert no_resolution.status_code == 400
    assert set(no_resolution.json()["error"]["fields"]) == {"resolution"}

    resolved = client.post(
        url,
        {"status": "resolved", "resolution": "Refunded", "satisfaction": "satisfied"},
        format="json",
    )
    assert resolved.status_code == 200
    assert (resolved.json()["status"], resolved.json()["satisfaction"]) == (
        "resolved",
        "satisfied",
    )
    assert client.post(url, {"status": "closed"}, format="json").status_code == 200
    wrong = client.post(url, {"status": "in_progress"}, format="json")
    assert wrong.status_code == 409
    assert wrong.json()["error"]["code"] == "invalid_transition"
    assert client.post(url, {"status": "open"}, format="json").status_code == 400
    moves = Event.objects.filter(kind="case.status_changed").order_by("id")
    assert [e.data["to"] for e in moves] == ["resolved", "closed"]
    assert {e.actor for e in moves} == {sun}


def test_assigning_a_case_follows_who_may_give_work_to_whom(company, records, api_as):
    li, wang, nora = (company.users[k] for k in ("sales", "other_sales", "manager"))
    url = f"{CASES}{records['own']['case'].pk}/assign/"
    refused = api_as(li).post(url, {"owner": wang.pk}, format="json")
    assert refused.status_code == 400
    assert set(refused.json()["error"]["fields"]) == {"owner"}
    response = api_as(nora).post(url, {"owner": li.pk}, format="json")
    assert response.status_code == 200
    assert response.json()["owner"] == li.pk
    event = Event.objects.get(kind="case.assigned")
    assert (event.actor, event.data) == (nora, {"from": None, "to": li.pk})
    # Service routes the queue: anyone who works with customers.
    to_wang = api_as(company.users["service"]).post(url, {"owner": wang.pk}, format="json")
    assert to_wang.status_code == 200


def test_classifying_and_responding_to_a_case(company, records, api_as):
    client = api_as(company.users["service"])
    case = records["pool"]["case"]
    response = client.post(
        f"{CASES}{case.pk}/classify/", {"satisfaction": "dissatisfied"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["satisfaction"] == "dissatisfied"
    assert Event.objects.filter(kind="case.classified", actor=company.users["service"]).exists()
    bad = client.post(f"{CASES}{case.pk}/classify/", {"satisfaction": "meh"}, format="json")
    assert bad.status_code == 400
    assert client.post(f"{CASES}{case.pk}/respond/").status_code == 200
    again = client.post(f"{CASES}{case.pk}/respond/")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"


def test_case_filters(company, records, api_as):
    sun, li = company.users["service"], company.users["sales"]
    late = _case(
        company.customers["own"],
        "K-LATE",
        severity="high",
        kind="question",
        opened_at=_ago(100),
        due_at=_ago(50),
        owner=li,
    )
    client = api_as(sun)

    def ids(**params) -> set[str]:
        response = client.get(CASES, params)
        assert response.status_code == 200, response.json()
        return {row["external_id"] for row in response.json()["results"]}

    assert ids(overdue="true") == {"K-LATE"}
    assert ids(overdue="false") == {"K-own", "K-other", "K-pool"}
    assert ids(kind="question") == ids(severity="high") == ids(owner=li.pk) == {"K-LATE"}
    assert ids(customer=company.customers["own"].pk) == {"K-own", "K-LATE"}
    assert ids(status="open") == {"K-own", "K-other", "K-pool", "K-LATE"}
    assert ids(status="closed") == set()
    row = client.get(f"{CASES}{late.pk}/").json()
    assert row["overdue"] is True
    for bad in ({"overdue": "maybe"}, {"status": "lost"}, {"owner": "me"}):
        assert client.get(CASES, bad).status_code == 400


def test_listing_cases_takes_a_fixed_number_of_queries(
    company, api_as, django_assert_max_num_queries
):
    for n in range(30):
        _case(company.customers["pool" if n % 2 else "own"], f"K-{n}")
    client = api_as(company.users["manager"])
    with django_assert_max_num_queries(7):
        response = client.get(CASES)
    assert len(response.json()["results"]) == 30


# -- surveys -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"csat": 6}, "csat"),
        ({"csat": 0}, "csat"),
        ({"nps": 11}, "nps"),
        ({"nps": -1}, "nps"),
        ({"csat": None, "nps": None}, "csat"),
        ({"answered_at": "2999-01-01T00:00:00Z"}, "answered_at"),
    ],
)
def test_survey_scores_are_validated(company, api_as, change, field):
    payload = {"customer": "C-OWN", "csat": 5, **change}
    response = api_as(company.users["sales"]).post(SURVEYS, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not SurveyResponse.objects.exists()


def test_recording_a_survey_answer_about_a_case(company, records, api_as):
    li = company.users["sales"]
    case = records["own"]["case"]
    client = api_as(li)
    wrong_case = client.post(
        SURVEYS,
        {"customer": company.customers["pool"].pk, "case": case.pk, "nps": 9},
        format="json",
    )
    assert wrong_case.status_code == 400
    assert set(wrong_case.json()["error"]["fields"]) == {"case"}
    response = client.post(
        SURVEYS,
        {"customer": company.customers["own"].pk, "case": case.pk, "nps": 0, "comment": "Slow"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["case"], body["nps"], body["csat"]) == (case.pk, 0, None)
    event = Event.objects.get(kind="survey.recorded", subject_id=body["id"])
    assert (event.actor, event.customer, event.data) == (
        li,
        company.customers["own"],
        {"csat": None, "nps": 0},
    )
    assert (
        api_as(company.users["analyst"]).get(SURVEYS, {"case": case.pk}).json()["results"][0]["id"]
        == (body["id"])
    )


def test_listing_surveys_takes_a_fixed_number_of_queries(
    company, api_as, django_assert_max_num_queries
):
    for n in range(30):
        survey_record(customer=company.customers["other"], answered_at=_ago(n + 1), nps=n % 11)
    client = api_as(company.users["analyst"])
    with django_assert_max_num_queries(7):
        response = client.get(SURVEYS, {"customer_external_id": "C-OTHER"})
    assert len(response.json()["results"]) == 30


# -- the schema of these endpoints -------------------------------------------------------------

_router = SimpleRouter()
for _module in (core_api, engagement_api, playbooks_api):
    for _prefix, _viewset, _basename in _module.routes:
        _router.register(_prefix, _viewset, basename=_basename)
# Only these apps' endpoints, so their schema is checked apart from the other apps' (the schema
# of the whole API is test_core's).
urlpatterns = [path("api/v1/", include(_router.urls))]


def test_the_schema_of_these_endpoints_has_no_warnings_and_validates():
    out = io.StringIO()
    call_command(
        "spectacular",
        "--fail-on-warn",
        "--validate",
        "--format",
        "openapi-json",
        "--urlconf",
        __name__,
        stdout=out,
    )
    schema = out.getvalue()
    for operation in ('"/api/v1/interactions/bulk/"', '"/api/v1/cases/{id}/transition/"'):
        assert operation in schema
    assert '"/api/v1/playbooks/run/"' in schema
