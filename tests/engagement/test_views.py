"""The case queue and the case page: visibility, countdown, filters and the case's life through
the page (first response, resolution, classification, assignment)."""

import datetime as dt
import html
import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from guanxi.core.models import Event
from guanxi.engagement.models import Case
from guanxi.engagement.services import case_open
from tests.playbooks.factories import customer_new

pytestmark = pytest.mark.django_db

URL = reverse("engagement:case_list")
HOUR = dt.timedelta(hours=1)


@pytest.fixture
def staff(django_user_model):
    def make(username: str, role: str):
        user = django_user_model.objects.create(username=username)
        user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def mei(staff):
    return staff("mei", "sales")


@pytest.fixture
def fu(staff):
    return staff("fu", "service")


_n = iter(range(1, 10_000))


def _case(customer, subject: str, *, opened_ago=HOUR, due_in=2 * HOUR, **fields) -> Case:
    now = timezone.now()
    return case_open(
        customer=customer,
        external_id=f"K-{next(_n)}",
        kind=fields.pop("kind", "complaint"),
        subject=subject,
        opened_at=now - opened_ago,
        due_at=now + due_in,
        **fields,
    )


def _subjects(response) -> list[str]:
    found = re.findall(
        r'class="card-head">\s*<a href="[^"]+"><strong>([^<]+)</strong>', response.content.decode()
    )
    return [html.unescape(s) for s in found]


def _detail(case) -> str:
    return reverse("engagement:case_detail", args=[case.pk])


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "next=" in response["Location"]


def test_service_sees_every_customers_cases_soonest_deadline_first_with_a_countdown(
    client, fu, mei, staff
):
    _case(customer_new(owner=mei), "Due later", due_in=30 * HOUR)
    _case(customer_new(owner=staff("lin", "sales")), "Past due", opened_ago=50 * HOUR, due_in=-HOUR)
    client.force_login(fu)
    response = client.get(URL)
    assert _subjects(response) == ["Past due", "Due later"]
    text = response.content.decode()
    assert "overdue by 1\xa0hour" in text
    assert "due in 1\xa0day, 5\xa0hours" in text or "due in 1\xa0day, 6\xa0hours" in text
    assert "2 open or in progress, 1 past their deadline." in text


def test_sales_sees_only_the_cases_of_customers_they_may_see(client, mei, staff):
    _case(customer_new(owner=mei), "Mine")
    _case(customer_new(owner=staff("lin", "sales")), "Theirs")
    client.force_login(mei)
    assert _subjects(client.get(URL)) == ["Mine"]


def test_filters_by_status_severity_category_owner_and_classification(client, fu):
    c = customer_new()
    _case(c, "Critical delivery", severity="critical", category="delivery", owner=fu)
    _case(c, "Low billing", severity="low", category="billing", satisfaction="dissatisfied")
    done = _case(c, "Answered", kind="question")
    done.status, done.resolved_at, done.resolution = "resolved", timezone.now(), "Done"
    done.save()
    client.force_login(fu)
    assert _subjects(client.get(URL, {"severity": "critical"})) == ["Critical delivery"]
    assert _subjects(client.get(URL, {"category": "billing"})) == ["Low billing"]
    assert _subjects(client.get(URL, {"owner": "me"})) == ["Critical delivery"]
    assert _subjects(client.get(URL, {"owner": "none"})) == ["Low billing"]
    assert _subjects(client.get(URL, {"satisfaction": "dissatisfied"})) == ["Low billing"]
    assert _subjects(client.get(URL, {"status": "resolved"})) == ["Answered"]
    assert len(_subjects(client.get(URL, {"status": "all"}))) == 3
    response = client.get(URL, {"severity": "apocalyptic"})
    assert response.status_code == 400
    assert "Select a valid choice." in response.content.decode()


def test_service_sees_the_customers_contact_details_masked(client, fu):
    case = _case(customer_new(phone="13812345678"), "Masked")
    client.force_login(fu)
    text = client.get(_detail(case)).content.decode()
    assert "138****5678" in text and "13812345678" not in text
    assert not Event.objects.filter(kind="customer.personal_data_viewed").exists()


def test_the_owner_sees_them_and_the_access_is_recorded(client, mei):
    case = _case(customer_new(owner=mei, phone="13812345678"), "Unmasked")
    client.force_login(mei)
    assert "13812345678" in client.get(_detail(case)).content.decode()
    event = Event.objects.get(kind="customer.personal_data_viewed")
    assert (event.actor, event.data["fields"]) == (mei, ["phone"])


def test_a_case_walks_its_life_through_the_page(client, fu):
    case = _case(customer_new(), "Broken lid", opened_ago=3 * HOUR, due_in=HOUR)
    client.force_login(fu)
    post = {"HTTP_HX_REQUEST": "true"}

    text = client.post(reverse("engagement:case_respond", args=[case.pk]), **post).content.decode()
    assert "First response recorded." in text
    case.refresh_from_db()
    assert case.first_response_at is not None
    assert "after 3\xa0hours" in text  # the first-response time

    url = reverse("engagement:case_transition", args=[case.pk])
    text = client.post(url, {"status": "resolved"}, **post).content.decode()
    assert "Write down the resolution before resolving the case." in text
    case.refresh_from_db()
    assert case.status == "open"

    text = client.post(
        url,
        {"status": "resolved", "resolution": "Sent a new lid", "satisfaction": "satisfied"},
        **post,
    ).content.decode()
    case.refresh_from_db()
    assert (case.status, case.resolution, case.satisfaction) == (
        "resolved",
        "Sent a new lid",
        "satisfied",
    )
    assert "The case is now resolved." in text
    assert "resolved in time" in text

    text = client.post(
        reverse("engagement:case_classify", args=[case.pk]),
        {"satisfaction": "very_satisfied"},
        **post,
    ).content.decode()
    assert "Classified as very satisfied." in text
    client.post(url, {"status": "closed"}, **post)
    case.refresh_from_db()
    assert (case.status, case.satisfaction) == ("closed", "very_satisfied")
    # A closed case offers no further move, and a forged one is refused.
    text = client.post(url, {"status": "in_progress"}, **post).content.decode()
    assert "Select a valid choice." in text
    case.refresh_from_db()
    assert case.status == "closed"
    history = client.get(_detail(case)).content.decode()
    for step in ("Opened", "First response recorded", "Status changed", "Classified"):
        assert step in history


def test_assigning_a_case_and_the_limits_on_it(client, fu, mei, staff):
    case = _case(customer_new(owner=mei), "Who takes it?")
    client.force_login(fu)  # service routes the queue to anyone
    response = client.post(
        reverse("engagement:case_assign", args=[case.pk]), {"owner": mei.pk}, follow=True
    )
    assert response.redirect_chain[-1][0] == _detail(case)
    assert "Assigned to mei." in response.content.decode()
    case.refresh_from_db()
    assert case.owner == mei
    client.force_login(mei)  # sales may only take a case themselves
    other = staff("lin", "sales")
    text = client.post(
        reverse("engagement:case_assign", args=[case.pk]),
        {"owner": other.pk},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "Select a valid choice." in text
    case.refresh_from_db()
    assert case.owner == mei


def test_an_analyst_reads_the_queue_but_cannot_work_it(client, staff):
    case = _case(customer_new(), "Look only")
    client.force_login(staff("ana", "analyst"))
    assert _subjects(client.get(URL)) == ["Look only"]
    assert "Record the first response" not in client.get(_detail(case)).content.decode()
    assert client.post(reverse("engagement:case_respond", args=[case.pk])).status_code == 403
    case.refresh_from_db()
    assert case.first_response_at is None


def test_a_case_of_a_customer_out_of_sight_is_not_found(client, mei, staff):
    case = _case(customer_new(owner=staff("lin", "sales")), "Theirs")
    client.force_login(mei)
    assert client.get(_detail(case)).status_code == 404
    assert client.post(reverse("engagement:case_respond", args=[case.pk])).status_code == 404


@pytest.mark.parametrize("n", [3, 60])
def test_the_queue_paginates_with_a_bounded_number_of_queries(
    client, fu, n, django_assert_max_num_queries
):
    customers = [customer_new() for _ in range(3)]
    for i in range(n):
        _case(customers[i % 3], f"Case {i:02d}", due_in=(i + 1) * HOUR, category=f"cat{i % 4}")
    client.force_login(fu)
    with django_assert_max_num_queries(12):
        response = client.get(URL)
    assert _subjects(response) == [f"Case {i:02d}" for i in range(min(n, 25))]
    if n == 60:
        assert _subjects(client.get(URL, {"page": 3})) == [f"Case {i}" for i in range(50, 60)]
