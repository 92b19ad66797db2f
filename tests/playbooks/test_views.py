"""The task inbox: whose tasks show, filters, the team view, cancel and assign through the page."""

import datetime as dt
import html
import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from guanxi.core.models import StaffProfile, Team
from guanxi.playbooks.models import Task
from guanxi.playbooks.services import task_create
from tests.playbooks.factories import customer_new

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = dt.timedelta(days=1)
URL = reverse("playbooks:task_list")


@pytest.fixture
def staff(django_user_model):
    def make(username: str, role: str, team: Team | None = None):
        user = django_user_model.objects.create(username=username)
        user.groups.add(Group.objects.get(name=role))
        if team is not None:
            StaffProfile.objects.create(user=user, team=team)
        return user

    return make


@pytest.fixture
def team(db):
    return Team.objects.create(name="East")


@pytest.fixture
def mei(staff, team):
    return staff("mei", "sales", team)


def _task(owner, title: str, *, due_on=TODAY + DAY, customer=None, **fields) -> Task:
    customer = customer or customer_new(owner=owner)
    return task_create(
        customer=customer, title=title, due_on=due_on, purpose="follow_up", owner=owner, **fields
    )


def _titles(response) -> list[str]:
    found = re.findall(r'class="card-head">\s*<strong>([^<]+)</strong>', response.content.decode())
    return [html.unescape(title) for title in found]


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "next=" in response["Location"]


def test_my_open_tasks_soonest_first_with_the_overdue_ones_flagged(client, mei, staff):
    _task(mei, "Later", due_on=TODAY + 5 * DAY)
    _task(mei, "Overdue", due_on=TODAY)
    Task.objects.filter(custom_title="Overdue").update(due_on=TODAY - 2 * DAY)
    _task(staff("lin", "sales"), "Someone else's")
    client.force_login(mei)
    response = client.get(URL)
    assert response.status_code == 200
    assert _titles(response) == ["Overdue", "Later"]
    text = response.content.decode()
    assert "You have 2 open tasks, 1 of them overdue." in text
    assert text.count(">overdue</span>") == 1
    assert _titles(client.get(URL, {"overdue": "on"})) == ["Overdue"]


def test_filter_by_reason_separates_playbook_tasks_from_hand_made_ones(client, mei):
    _task(mei, "Why are purchases falling?", reason_key="retention-call:1")
    _task(mei, "Bring the samples")
    client.force_login(mei)
    assert _titles(client.get(URL, {"reason": "retention-call"})) == ["Why are purchases falling?"]
    assert _titles(client.get(URL, {"reason": "manual"})) == ["Bring the samples"]
    text = client.get(URL).content.decode()
    assert "Reason: Retention call on decline" in text  # the playbook's name, not its code
    assert "Reason: added by hand" in text


def test_each_task_links_to_logging_the_interaction_on_the_360_page(client, mei):
    task = _task(mei, "Call back")
    client.force_login(mei)
    text = client.get(URL).content.decode()
    link = reverse("parties:customer_detail", args=[task.customer_id]) + f"?task={task.pk}"
    assert link in text


def test_a_manager_sees_the_team_view_and_a_sales_user_may_not_ask_for_it(client, mei, staff, team):
    boss = staff("wu", "manager", team)
    outsider = staff("zhao", "sales", Team.objects.create(name="West"))
    _task(mei, "Mei's call")
    _task(outsider, "Zhao's call")
    client.force_login(boss)
    response = client.get(URL, {"scope": "team"})
    assert _titles(response) == ["Mei's call"]
    assert _titles(client.get(URL, {"scope": "team", "owner": mei.pk})) == ["Mei's call"]
    client.force_login(mei)
    response = client.get(URL, {"scope": "team"})
    assert response.status_code == 400
    assert "Select a valid choice." in response.content.decode()


def test_the_pool_shows_unassigned_tasks_of_visible_customers_only(client, mei, staff):
    mine = customer_new(owner=mei)
    theirs = customer_new(owner=staff("lin", "sales"))
    _task(None, "Pool task on my customer", customer=mine)
    _task(None, "Pool task on their customer", customer=theirs)
    client.force_login(mei)
    assert _titles(client.get(URL, {"scope": "pool"})) == ["Pool task on my customer"]


def test_cancelling_through_the_page(client, mei):
    task = _task(mei, "Obsolete")
    client.force_login(mei)
    response = client.post(reverse("playbooks:task_cancel", args=[task.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Task cancelled." in response.content.decode()
    task.refresh_from_db()
    assert task.status == "cancelled"
    # Cancelling again explains why it cannot be done.
    again = client.post(reverse("playbooks:task_cancel", args=[task.pk]), HTTP_HX_REQUEST="true")
    assert "only an open task can be cancelled" in again.content.decode()
    assert _titles(client.get(URL, {"status": "cancelled"})) == ["Obsolete"]


def test_sales_may_take_a_pool_task_but_not_cancel_it_or_give_it_away(client, mei, staff):
    other = staff("lin", "sales")
    task = _task(None, "Pool task", customer=customer_new(owner=mei))
    client.force_login(mei)
    assert client.post(reverse("playbooks:task_cancel", args=[task.pk])).status_code == 403
    response = client.post(
        reverse("playbooks:task_assign", args=[task.pk]),
        {"owner": other.pk},
        HTTP_HX_REQUEST="true",
    )
    assert "Select a valid choice." in response.content.decode()
    task.refresh_from_db()
    assert task.owner is None
    response = client.post(
        reverse("playbooks:task_assign", args=[task.pk]), {"owner": mei.pk, "next": URL}
    )
    assert response.status_code == 302 and response["Location"] == URL
    task.refresh_from_db()
    assert task.owner == mei


def test_a_manager_hands_a_task_to_a_team_member(client, mei, staff, team):
    boss = staff("wu", "manager", team)
    task = _task(boss, "Visit the plant", customer=customer_new(owner=mei))
    client.force_login(boss)
    response = client.post(
        reverse("playbooks:task_assign", args=[task.pk]),
        {"owner": mei.pk},
        HTTP_HX_REQUEST="true",
    )
    assert "Assigned to mei." in response.content.decode()
    task.refresh_from_db()
    assert task.owner == mei


def test_tasks_of_customers_out_of_sight_cannot_be_touched(client, mei, staff):
    task = _task(staff("lin", "sales"), "Theirs")
    client.force_login(mei)
    assert client.post(reverse("playbooks:task_cancel", args=[task.pk])).status_code == 404


def test_an_analyst_may_read_but_not_change(client, staff):
    analyst = staff("ana", "analyst")
    task = _task(analyst, "Read only")
    client.force_login(analyst)
    text = client.get(URL).content.decode()
    assert "Read only" in text and "Cancel the task" not in text
    assert client.post(reverse("playbooks:task_cancel", args=[task.pk])).status_code == 403


@pytest.mark.parametrize("n", [3, 60])
def test_the_inbox_paginates_with_a_bounded_number_of_queries(
    client, mei, n, django_assert_max_num_queries
):
    customer = customer_new(owner=mei)
    for i in range(n):
        _task(mei, f"Task {i:02d}", customer=customer, due_on=TODAY + i * DAY)
    client.force_login(mei)
    with django_assert_max_num_queries(14):
        response = client.get(URL)
    assert len(_titles(response)) == min(n, 25)
    if n == 60:
        assert _titles(client.get(URL, {"page": 3})) == [f"Task {i}" for i in range(50, 60)]
        assert "Page 1 of 3" in response.content.decode()
