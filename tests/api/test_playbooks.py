"""The tasks and playbooks endpoints: who may see and change which task, filters, running the
playbooks, audit events and bounded queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from guanxi.core.models import Event
from guanxi.playbooks.models import Playbook, Task
from guanxi.playbooks.services import task_create
from tests.api.conftest import MATRIX, ROLES, SEES, WRITES, log_interaction
from tests.playbooks.factories import run_create, score_create

pytestmark = pytest.mark.django_db

TASKS = "/api/v1/tasks/"
PLAYBOOKS = "/api/v1/playbooks/"
RUN = "/api/v1/playbooks/run/"
TODAY = timezone.localdate()

# Who may complete or cancel the task of each customer (each owned by the customer's owner: li,
# wang, nobody): its owner or a manager, among the tasks they see.
CHANGES = {
    "admin": {"own": 200, "other": 200, "pool": 200},
    "manager": {"own": 200, "other": 404, "pool": 200},
    "sales": {"own": 200, "other": 404, "pool": 403},
    "service": {"own": 403, "other": 403, "pool": 403},
    "analyst": {"own": 403, "other": 403, "pool": 403},
}
# Handing over: a task nobody owns may also be handed over by anyone who works with customers.
HANDS_OVER = {
    **CHANGES,
    "sales": {"own": 200, "other": 404, "pool": 200},
    "service": {"own": 403, "other": 403, "pool": 200},
}


@pytest.fixture
def tasks(company) -> dict[str, Task]:
    """One open task per customer, owned by the customer's owner."""
    return {
        which: task_create(
            customer=customer,
            title=f"Call {which}",
            due_on=TODAY + dt.timedelta(days=3),
            purpose="follow_up",
            owner=customer.owner,
        )
        for which, customer in company.customers.items()
    }


# -- who sees and changes which task -----------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_tasks_are_listed_for_the_customers_the_role_sees(company, tasks, api_as, role):
    response = api_as(company.users[role]).get(TASKS)
    assert response.status_code == 200
    shown = {row["customer_external_id"] for row in response.json()["results"]}
    assert shown == {company.customers[w].external_id for w in SEES[role]}


@pytest.mark.parametrize(("role", "which"), MATRIX)
def test_a_task_of_a_customer_the_role_does_not_see_is_404(company, tasks, api_as, role, which):
    response = api_as(company.users[role]).get(f"{TASKS}{tasks[which].pk}/")
    assert response.status_code == (200 if which in SEES[role] else 404)


@pytest.mark.parametrize(("role", "which"), MATRIX)
def test_cancelling_a_task_needs_its_owner_or_a_manager(company, tasks, api_as, role, which):
    task = tasks[which]
    response = api_as(company.users[role]).post(f"{TASKS}{task.pk}/cancel/")
    expected = CHANGES[role][which]
    assert response.status_code == expected, response.json()
    task.refresh_from_db()
    assert (task.status == "cancelled") == (expected == 200)
    if expected == 200:
        assert response.json()["status"] == "cancelled"
        event = Event.objects.get(kind="task.cancelled", subject_id=task.pk)
        assert (event.actor, event.customer) == (company.users[role], company.customers[which])
    if expected == 403 and role in WRITES:
        assert response.json()["error"]["code"] == "not_allowed"


@pytest.mark.parametrize(("role", "which"), MATRIX)
def test_handing_a_task_over_follows_the_task_pages(company, tasks, api_as, role, which):
    user, task = company.users[role], tasks[which]
    before = task.owner_id
    response = api_as(user).post(f"{TASKS}{task.pk}/assign/", {"owner": user.pk}, format="json")
    expected = HANDS_OVER[role][which]
    assert response.status_code == expected, response.json()
    task.refresh_from_db()
    assert task.owner_id == (user.pk if expected == 200 else before)
    events = Event.objects.filter(kind="task.assigned", subject_id=task.pk)
    if expected == 200 and before != user.pk:
        event = events.get()
        assert (event.actor, event.data) == (user, {"from": before, "to": user.pk})
    else:
        assert not events.exists()


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", TASKS),
        ("post", TASKS + "{task}/complete/"),
        ("post", TASKS + "{task}/cancel/"),
        ("post", TASKS + "{task}/assign/"),
        ("post", RUN),
    ],
)
def test_a_read_token_may_not_write(company, tasks, api_as, method, url):
    client = api_as(company.users["admin"], scope="read")
    response = getattr(client, method)(url.format(task=tasks["own"].pk), {}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "token_read_only"
    assert Task.objects.filter(status="open").count() == 3
    assert not Event.objects.filter(kind="playbooks.ran").exists()


def test_handing_over_only_to_someone_the_user_may_give_work_to(company, tasks, api_as):
    li, wang, nora = (company.users[k] for k in ("sales", "other_sales", "manager"))
    url = f"{TASKS}{tasks['own'].pk}/assign/"
    refused = api_as(li).post(url, {"owner": wang.pk}, format="json")
    assert refused.status_code == 400
    assert set(refused.json()["error"]["fields"]) == {"owner"}
    assert api_as(nora).post(url, {"owner": nora.pk}, format="json").json()["owner"] == nora.pk
    for bad in ({"owner": None}, {"owner": 2**70}, {}):
        assert api_as(nora).post(url, bad, format="json").status_code == 400


# -- completing and adding tasks ---------------------------------------------------------------


def test_completing_a_task_with_the_interaction_that_carried_it_out(company, tasks, api_as):
    li, own = company.users["sales"], company.customers["own"]
    client = api_as(li)
    task = tasks["own"]
    visit = {"occurred_at": timezone.now(), "channel": "visit", "direction": "inbound"}
    elsewhere = log_interaction(company.customers["pool"], "I-POOL", **visit)
    wrong = client.post(f"{TASKS}{task.pk}/complete/", {"interaction": elsewhere.pk}, format="json")
    assert wrong.status_code == 400
    assert set(wrong.json()["error"]["fields"]) == {"interaction"}
    hidden = log_interaction(company.customers["other"], "I-OTHER", **visit)
    not_visible = client.post(
        f"{TASKS}{task.pk}/complete/", {"interaction": hidden.pk}, format="json"
    )
    assert not_visible.status_code == 400
    assert not_visible.json()["error"]["fields"]["interaction"] == [
        "Not found, or not visible to you."
    ]
    carried_out = log_interaction(own, "I-OWN", **visit)
    response = client.post(
        f"{TASKS}{task.pk}/complete/", {"interaction": carried_out.pk}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["completed_by_interaction"]) == ("done", carried_out.pk)
    event = Event.objects.get(kind="task.completed", subject_id=task.pk)
    assert (event.actor, event.customer, event.data["interaction"]) == (li, own, carried_out.pk)
    again = client.post(f"{TASKS}{task.pk}/complete/", {}, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "invalid_transition"
    cancel = client.post(f"{TASKS}{task.pk}/cancel/")
    assert cancel.status_code == 409


def test_adding_a_task_defaults_its_owner_like_the_customer_page(company, api_as):
    sun, li = company.users["service"], company.users["sales"]
    payload = {
        "customer": "C-OWN",
        "title": "  Send the brochure  ",
        "purpose": "advice",
        "due_on": (TODAY + dt.timedelta(days=7)).isoformat(),
    }
    response = api_as(sun).post(TASKS, payload, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    # Service may give work to li, the account owner: the task is li's.
    assert (body["owner"], body["owner_username"], body["title"]) == (
        li.pk,
        "li",
        "Send the brochure",
    )
    assert (body["playbook"], body["status"], body["customer"]) == (
        None,
        "open",
        company.customers["own"].pk,
    )
    assert (body["customer_external_id"], body["customer_name"]) == ("C-OWN", "Own Trading")
    assert body["reason_key"].startswith("manual:")
    event = Event.objects.get(kind="task.created", subject_id=body["id"])
    assert (event.actor, event.customer) == (sun, company.customers["own"])
    # A manager of another team may not give work to wang: the task falls to the manager.
    nora = company.users["manager"]
    pool = api_as(nora).post(TASKS, {**payload, "customer": "C-POOL"}, format="json")
    assert pool.json()["owner"] == nora.pk
    unassigned = api_as(li).post(TASKS, {**payload, "owner": None}, format="json")
    assert unassigned.json()["owner"] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"due_on": (TODAY - dt.timedelta(days=1)).isoformat()}, "due_on"),
        ({"due_on": "10000-01-01"}, "due_on"),
        ({"title": "   "}, "title"),
        ({"purpose": "gossip"}, "purpose"),
        ({"owner": "wang"}, "owner"),
        ({"customer": "C-OTHER"}, "customer"),
        ({"customer": 2**64}, "customer"),
        ({"customer": None}, "customer"),
    ],
)
def test_a_bad_task_is_a_400(company, api_as, change, field):
    payload = {
        "customer": "C-OWN",
        "title": "Call",
        "purpose": "advice",
        "due_on": TODAY.isoformat(),
        **change,
    }
    if payload.get("owner") == "wang":
        payload["owner"] = company.users["other_sales"].pk
    response = api_as(company.users["sales"]).post(TASKS, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Task.objects.exists()


def test_an_analyst_may_not_add_a_task(company, api_as):
    payload = {"customer": "C-OWN", "title": "x", "purpose": "advice"}
    payload["due_on"] = TODAY.isoformat()
    response = api_as(company.users["analyst"]).post(TASKS, payload, format="json")
    assert response.status_code == 403
    assert not Task.objects.exists()


# -- filters and queries -----------------------------------------------------------------------


def test_task_filters(company, tasks, api_as):
    li = company.users["sales"]
    late = task_create(
        customer=company.customers["own"],
        title="Late",
        due_on=TODAY,
        purpose="advice",
        owner=li,
        reason_key="retention-call:1",
    )
    Task.objects.filter(pk=late.pk).update(due_on=TODAY - dt.timedelta(days=2))
    client = api_as(li)

    def titles(**params) -> set[str]:
        response = client.get(TASKS, params)
        assert response.status_code == 200, response.json()
        return {row["title"] for row in response.json()["results"]}

    assert titles(mine="true") == {"Call own", "Late"}
    assert titles(mine="false") == {"Call pool"}
    assert titles(overdue="true") == {"Late"}
    assert titles(reason="retention-call") == {"Late"}
    assert titles(reason="manual") == {"Call own", "Call pool"}
    assert titles(unassigned="true") == {"Call pool"}
    assert titles(owner=li.pk, purpose="follow_up") == {"Call own"}
    assert titles(customer_external_id="C-POOL") == {"Call pool"}
    client.post(f"{TASKS}{tasks['own'].pk}/cancel/")
    assert titles(status="cancelled") == {"Call own"}
    assert titles(status="open", mine="true") == {"Late"}
    row = client.get(f"{TASKS}{late.pk}/").json()
    assert (row["overdue"], row["playbook"]) == (True, "retention-call")
    for bad in (
        {"status": "lost"},
        {"mine": "maybe"},
        {"reason": "a b"},
        {"owner": "me"},
        {"customer": str(2**64)},
    ):
        response = client.get(TASKS, bad)
        assert response.status_code == 400, bad
        assert response.json()["error"]["code"] == "invalid"


def test_listing_tasks_takes_a_fixed_number_of_queries(
    company, api_as, django_assert_max_num_queries
):
    for n in range(30):
        task_create(
            customer=company.customers["own" if n % 2 else "pool"],
            title=f"T{n}",
            due_on=TODAY,
            purpose="advice",
            owner=company.users["sales"] if n % 3 else None,
        )
    client = api_as(company.users["sales"])
    with django_assert_max_num_queries(7):
        response = client.get(TASKS)
    assert len(response.json()["results"]) == 30


# -- playbooks ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_the_playbooks(company, api_as, role, django_assert_max_num_queries):
    client = api_as(company.users[role])
    with django_assert_max_num_queries(7):
        response = client.get(PLAYBOOKS)
    assert response.status_code == 200
    rows = response.json()["results"]
    assert len(rows) == Playbook.objects.count() >= 10
    retention = next(r for r in rows if r["code"] == "retention-call")
    assert retention["conditions"] == {"lifecycle_stages": ["decline"]}
    assert retention["actions"][0]["purpose"] == "follow_up"
    detail = client.get(f"{PLAYBOOKS}{retention['id']}/")
    assert detail.json() == retention
    assert api_as(company.users["nobody"]).get(PLAYBOOKS).status_code == 403


@pytest.mark.parametrize("role", ROLES)
def test_only_admins_and_managers_run_the_playbooks(company, api_as, role):
    run = run_create()
    score_create(run, company.customers["own"], lifecycle_stage="decline")
    response = api_as(company.users[role]).post(RUN, {}, format="json", REMOTE_ADDR="10.9.8.7")
    if role not in {"admin", "manager"}:
        assert response.status_code == 403
        assert not Task.objects.exists()
        return
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["run"], body["dry_run"], body["created"]) == (run.pk, False, 1)
    retention = next(p for p in body["playbooks"] if p["code"] == "retention-call")
    assert (retention["candidates"], retention["created"]) == (1, 1)
    task = Task.objects.get()
    assert (task.customer, task.owner, task.reason_key) == (
        company.customers["own"],
        company.users["sales"],
        "retention-call:1",
    )
    event = Event.objects.get(kind="playbooks.ran")
    assert (event.actor, event.ip_address, event.data["created"]) == (
        company.users[role],
        "10.9.8.7",
        1,
    )
    # Running again issues nothing new: the open task is there.
    again = api_as(company.users[role]).post(RUN, {}, format="json").json()
    assert (again["created"], again["skipped_open"]) == (0, 1)


def test_a_dry_run_counts_without_writing(company, api_as):
    run = run_create()
    score_create(run, company.customers["pool"], lifecycle_stage="decline")
    response = api_as(company.users["admin"]).post(RUN, {"dry_run": True}, format="json")
    assert response.status_code == 200
    assert (response.json()["dry_run"], response.json()["created"]) == (True, 1)
    assert not Task.objects.exists()
    assert not Event.objects.filter(kind="playbooks.ran").exists()
    bad = api_as(company.users["admin"]).post(RUN, {"dry_run": "perhaps"}, format="json")
    assert bad.status_code == 400


def test_running_without_a_scoring_run_is_a_404_saying_so(company, api_as):
    run_create(status="failed")
    response = api_as(company.users["manager"]).post(RUN, {}, format="json")
    assert response.status_code == 404
    assert "scoring run" in response.json()["error"]["message"]
    assert not Event.objects.filter(kind="playbooks.ran").exists()
