"""The hierarchy endpoints: the policy, the level pyramid (the dashboard's numbers and scope) and
bonds (who sees, records and ends which)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from guanxi.core.models import Event
from guanxi.hierarchy.models import Bond, HierarchyPolicy
from guanxi.hierarchy.services import bond_record
from tests.api.conftest import RECORDS, ROLES, SEES, WRITES
from tests.playbooks.factories import customers_bulk, run_create, score_create

pytestmark = pytest.mark.django_db

POLICY = "/api/v1/hierarchy/policy/"
PYRAMID = "/api/v1/hierarchy/pyramid/"
BONDS = "/api/v1/bonds/"
WHOLE_BASE = {"admin", "manager", "analyst"}


# -- the policy ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_the_policy_and_reading_writes_nothing(company, api_as, role):
    client = api_as(company.users[role], scope="read")
    body = client.get(POLICY).json()
    assert body["follow_up_days"] == HierarchyPolicy().follow_up_days
    assert not HierarchyPolicy.objects.exists()
    HierarchyPolicy(follow_up_days=3, segment_by="customer_type").save()
    body = client.get(POLICY).json()
    assert body["follow_up_days"] == 3 and body["segment_by"] == "customer_type"
    assert body["updated_at"] is not None


def test_the_policy_is_not_written_through_the_api(company, api_as):
    response = api_as(company.users["admin"]).post(POLICY, {"follow_up_days": 1}, format="json")
    assert response.status_code == 405
    assert api_as(company.users["nobody"]).get(POLICY).status_code == 403


# -- the pyramid --------------------------------------------------------------------------------


@pytest.fixture
def pyramid_run(company):
    """The latest run: own basic→partnership (profit 600), other proactive→proactive (300),
    pool reactive→basic (100); an older run with everyone basic."""
    older = run_create(as_of=dt.date(2026, 3, 31))
    for c in company.customers.values():
        score_create(older, c, actual_level="basic", recommended_level="basic", profit_cents=1)
    latest = run_create(as_of=dt.date(2026, 6, 30))
    c = company.customers
    score_create(
        latest,
        c["own"],
        actual_level="basic",
        recommended_level="partnership",
        level_gap="under_served",
        profit_cents=60_000,
        clv_cents=1_000.0,
    )
    score_create(
        latest,
        c["other"],
        actual_level="proactive",
        recommended_level="proactive",
        level_gap="on_target",
        profit_cents=30_000,
        clv_cents=500.0,
    )
    score_create(
        latest,
        c["pool"],
        actual_level="reactive",
        recommended_level="basic",
        level_gap="over_served",
        profit_cents=10_000,
        clv_cents=None,
    )
    return {"older": older, "latest": latest}


def _level(body: dict, level: str) -> dict:
    return next(row for row in body["levels"] if row["level"] == level)


@pytest.mark.parametrize("role", ROLES)
def test_the_pyramid_sums_the_base_or_only_what_the_role_sees_as_the_dashboard(
    company, api_as, pyramid_run, role
):
    response = api_as(company.users[role]).get(PYRAMID)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["run"] == {"id": pyramid_run["latest"].pk, "as_of": "2026-06-30"}
    assert body["whole_base"] is (role in WHOLE_BASE)
    # The manager's team does not own "other", but the dashboard's aggregates cover every
    # customer for admin, manager and analyst; sales see only their own and the pool.
    counted = {"own", "other", "pool"} if role in WHOLE_BASE else SEES[role]
    profit = {"own": 60_000, "other": 30_000, "pool": 10_000}
    assert body["customers"] == len(counted)
    assert body["profit_cents"] == sum(profit[r] for r in counted)
    assert [row["level"] for row in body["levels"]] == [
        "basic",
        "reactive",
        "accountable",
        "proactive",
        "partnership",
    ]
    basic = _level(body, "basic")
    assert basic["actual_customers"] == 1 and basic["actual_profit_cents"] == 60_000
    assert basic["actual_profit_share"] == pytest.approx(60_000 / body["profit_cents"])
    assert basic["recommended_customers"] == ("pool" in counted)
    proactive = _level(body, "proactive")
    assert proactive["actual_customers"] == ("other" in counted)
    assert _level(body, "partnership")["recommended_customers"] == 1
    assert sum(row["actual_customer_share"] for row in body["levels"]) == pytest.approx(1.0)
    gaps = {g["gap"]: g for g in body["gaps"]}
    assert gaps["under_served"]["customers"] == 1 and gaps["under_served"]["clv_cents"] == 1_000.0
    assert gaps["on_target"]["customers"] == ("other" in counted)


def test_the_pyramid_takes_the_dashboard_filters(company, api_as, pyramid_run):
    client = api_as(company.users["admin"])
    consumers = client.get(PYRAMID, {"customer_type": "consumer"}).json()
    assert consumers["customers"] == 1 and _level(consumers, "reactive")["actual_customers"] == 1
    owned = client.get(PYRAMID, {"owner": company.users["sales"].pk}).json()
    assert owned["customers"] == 1 and owned["profit_cents"] == 60_000
    unassigned = client.get(PYRAMID, {"owner": "none"}).json()
    assert unassigned["customers"] == 1 and unassigned["profit_cents"] == 10_000
    older = client.get(PYRAMID, {"run": pyramid_run["older"].pk}).json()
    assert older["run"]["id"] == pyramid_run["older"].pk
    assert _level(older, "basic")["actual_customers"] == 3


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"customer_type": "alien"}, "customer_type"),
        ({"owner": "abc"}, "owner"),
        ({"owner": "999999"}, "owner"),
        ({"segment": "s" * 101}, "segment"),
        ({"run": "abc"}, "run"),
        ({"run": str(2**64)}, "run"),
    ],
)
def test_bad_pyramid_filters_are_a_400(company, api_as, pyramid_run, params, field):
    response = api_as(company.users["admin"]).get(PYRAMID, params)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_a_sales_user_may_not_filter_on_another_owner(company, api_as, pyramid_run):
    """As on the dashboard, the owners offered are those of the customers in scope."""
    response = api_as(company.users["sales"]).get(
        PYRAMID, {"owner": company.users["other_sales"].pk}
    )
    assert response.status_code == 400


def test_a_run_that_did_not_succeed_is_not_found_and_no_run_is_an_empty_pyramid(company, api_as):
    client = api_as(company.users["analyst"])
    failed = run_create(status="failed")
    assert client.get(PYRAMID, {"run": failed.pk}).status_code == 404
    body = client.get(PYRAMID).json()
    assert body["run"] is None and body["customers"] == 0
    assert len(body["levels"]) == 5 and len(body["gaps"]) == 3


# -- bonds --------------------------------------------------------------------------------------


@pytest.fixture
def bonds(company):
    """One bond per customer, recorded by the admin."""
    return {
        record: bond_record(
            customer=customer,
            instrument="support_contract",
            started_on=dt.date(2026, 1, 1),
            actor=company.users["admin"],
        )
        for record, customer in company.customers.items()
    }


@pytest.mark.parametrize("role", ROLES)
def test_each_role_lists_the_bonds_of_the_customers_it_sees(company, api_as, bonds, role):
    response = api_as(company.users[role]).get(BONDS)
    assert response.status_code == 200
    assert {b["id"] for b in response.json()["results"]} == {bonds[r].pk for r in SEES[role]}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("record", RECORDS)
def test_a_bond_of_an_unseen_customer_is_not_found(company, api_as, bonds, role, record):
    response = api_as(company.users[role]).get(f"{BONDS}{bonds[record].pk}/")
    if record in SEES[role]:
        assert response.status_code == 200
        body = response.json()
        assert body["kind"] == "structural" and body["recorded_by_username"] == "ada"
        assert body["customer_external_id"] == company.customers[record].external_id
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("record", RECORDS)
def test_who_records_a_bond_for_whom(company, api_as, role, record):
    user, customer = company.users[role], company.customers[record]
    response = api_as(user).post(
        BONDS,
        {"customer": customer.pk, "instrument": "club", "started_on": "2026-02-01", "note": "VIP"},
        format="json",
    )
    if role not in WRITES:
        assert response.status_code == 403
    elif record not in SEES[role]:
        # A customer you may not see reads as one that does not exist.
        assert response.status_code == 400
        assert list(response.json()["error"]["fields"]) == ["customer"]
    else:
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["kind"] == "social" and body["recorded_by"] == user.pk
        bond = Bond.objects.get(pk=body["id"])
        assert bond.customer == customer and bond.note == "VIP"
        event = Event.objects.get(kind="bond.recorded")
        assert event.actor == user and event.customer == customer
        return
    assert not Bond.objects.exists()
    assert not Event.objects.filter(kind="bond.recorded").exists()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("record", RECORDS)
def test_who_ends_which_bond(company, api_as, bonds, role, record):
    user, bond = company.users[role], bonds[record]
    response = api_as(user).post(
        f"{BONDS}{bond.pk}/end/", {"ended_on": "2026-03-31"}, format="json"
    )
    bond.refresh_from_db()
    if role in WRITES and record in SEES[role]:
        assert response.status_code == 200, response.json()
        assert response.json()["ended_on"] == "2026-03-31"
        assert bond.ended_on == dt.date(2026, 3, 31)
        event = Event.objects.get(kind="bond.ended")
        assert event.actor == user and event.customer == company.customers[record]
    else:
        assert response.status_code == (403 if role not in WRITES else 404)
        assert bond.ended_on is None
        assert not Event.objects.filter(kind="bond.ended").exists()


def test_a_read_token_may_not_record_or_end_bonds(company, api_as, bonds):
    client = api_as(company.users["admin"], scope="read")
    created = client.post(
        BONDS,
        {"customer": company.customers["own"].pk, "instrument": "club", "started_on": "2026-02-01"},
        format="json",
    )
    ended = client.post(f"{BONDS}{bonds['own'].pk}/end/", {"ended_on": "2026-03-31"}, format="json")
    for response in (created, ended):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "token_read_only"
    assert Bond.objects.count() == 3 and Bond.objects.filter(ended_on__isnull=False).count() == 0


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"instrument": "friendship"}, "instrument"),
        ({"started_on": "someday"}, "started_on"),
        ({"ended_on": "2025-12-31"}, "ended_on"),
        ({"customer": 10**30}, "customer"),
        ({"customer": "abc"}, "customer"),
        ({"note": "n" * 201}, "note"),
    ],
)
def test_a_bad_bond_is_refused_naming_the_field(company, api_as, payload, field):
    data = {
        "customer": company.customers["own"].pk,
        "instrument": "club",
        "started_on": "2026-01-01",
    }
    response = api_as(company.users["sales"]).post(BONDS, {**data, **payload}, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Bond.objects.exists()


def test_ending_before_the_start_is_refused(company, api_as, bonds):
    url = f"{BONDS}{bonds['own'].pk}/end/"
    response = api_as(company.users["sales"]).post(url, {"ended_on": "2025-01-01"}, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["ended_on"]


def test_the_bond_filters(company, api_as, bonds):
    today = timezone.localdate()
    bond_record(
        customer=company.customers["own"],
        instrument="points",
        started_on=today - dt.timedelta(days=30),
        ended_on=today - dt.timedelta(days=1),
    )
    client = api_as(company.users["admin"])

    def ids(params):
        response = client.get(BONDS, params)
        assert response.status_code == 200, response.json()
        return [b["instrument"] for b in response.json()["results"]]

    assert ids({"customer": company.customers["own"].pk}) == ["support_contract", "points"]
    assert ids({"customer_external_id": "C-OWN", "kind": "financial"}) == ["points"]
    assert ids({"instrument": "points", "active": "false"}) == ["points"]
    assert len(ids({"active": "true"})) == 3
    assert client.get(BONDS, {"kind": "emotional"}).status_code == 400
    assert client.get(BONDS, {"customer": "-1"}).status_code == 400


def test_the_bond_list_pages_at_a_fixed_cost(company, api_as, django_assert_max_num_queries):
    client = api_as(company.users["manager"])
    owner = company.users["sales"]
    for customer in customers_bulk(2, owner=owner):
        bond_record(customer=customer, instrument="club", started_on=dt.date(2026, 1, 1))
    with CaptureQueriesContext(connection) as baseline:
        assert len(client.get(BONDS).json()["results"]) == 2
    for customer in customers_bulk(30, owner=owner):
        bond_record(
            customer=customer,
            instrument="shared_system",
            started_on=dt.date(2026, 1, 1),
            actor=company.users["admin"],
        )
    with django_assert_max_num_queries(len(baseline.captured_queries)):
        rows = client.get(BONDS, {"page_size": 100}).json()["results"]
    assert len(rows) == 32
