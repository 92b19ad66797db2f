"""The customer 360 page: who may see it, what it shows and why, the timeline, quick actions."""

import datetime as dt
import json
import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from guanxi.core.models import Event
from guanxi.engagement.models import Case, Interaction
from guanxi.engagement.services import case_open
from guanxi.parties.models import Contact
from guanxi.parties.selectors import TimelineCursor, customer_timeline
from guanxi.playbooks.models import Task
from guanxi.playbooks.services import task_cancel, task_create
from guanxi.sales.models import OrderLine
from guanxi.scoring.models import ScoreChange
from tests.playbooks.factories import (
    at,
    customer_new,
    log,
    order_place,
    run_create,
    score_create,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = dt.timedelta(days=1)


@pytest.fixture
def staff(django_user_model):
    """``staff("mei", "sales")``: a signed-in-able user in one role group (no password: fast)."""

    def make(username: str, role: str):
        user = django_user_model.objects.create(username=username)
        user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def sales(staff):
    return staff("mei", "sales")


@pytest.fixture
def acme(sales, product):
    customer = customer_new(
        owner=sales, phone="13812345678", email="buyer@acme.example", address="1 Bund Road"
    )
    Contact.objects.create(
        customer=customer, external_id="CT-1", name="Wang Li", phone="13900001111"
    )
    return customer


def _url(customer) -> str:
    return reverse("parties:customer_detail", args=[customer.pk])


def _text(response) -> str:
    return response.content.decode()


# -- who may see it ----------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client, acme):
    response = client.get(_url(acme))
    assert response.status_code == 302
    assert "next=" in response["Location"]


def test_a_sales_user_gets_404_for_another_owners_customer(client, acme, staff):
    other = staff("lin", "sales")
    client.force_login(other)
    assert client.get(_url(acme)).status_code == 404
    # …and cannot act on it either.
    response = client.post(
        reverse("parties:customer_interaction_log", args=[acme.pk]), {"channel": "phone"}
    )
    assert response.status_code == 404
    assert not Interaction.objects.exists()


def test_the_owner_sees_the_page(client, acme, sales):
    client.force_login(sales)
    response = client.get(_url(acme))
    assert response.status_code == 200
    assert acme.name in _text(response)


def test_an_analyst_reads_but_has_no_quick_actions_and_cannot_post(client, acme, staff):
    client.force_login(staff("ana", "analyst"))
    response = client.get(_url(acme))
    assert response.status_code == 200
    assert "Log an interaction" not in _text(response)
    response = client.post(
        reverse("parties:customer_task_add", args=[acme.pk]),
        {"title": "Call", "purpose": "follow_up", "priority": "normal", "due_on": TODAY},
    )
    assert response.status_code == 403
    assert not Task.objects.exists()


# -- personal data -------------------------------------------------------------------------------


def test_service_staff_see_personal_data_masked_and_no_access_is_recorded(client, acme, staff):
    client.force_login(staff("fu", "service"))
    text = _text(client.get(_url(acme)))
    assert "138****5678" in text
    assert "13812345678" not in text
    assert "b***@acme.example" in text
    assert "139****1111" in text  # the contact person's phone too
    assert "Personal data is masked for your role." in text
    assert not Event.objects.filter(kind="customer.personal_data_viewed").exists()


def test_the_owner_sees_personal_data_and_the_view_is_audited(client, acme, sales):
    client.force_login(sales)
    text = _text(client.get(_url(acme), REMOTE_ADDR="10.1.2.3"))
    assert "13812345678" in text
    assert "13900001111" in text
    event = Event.objects.get(kind="customer.personal_data_viewed")
    assert event.actor == sales
    assert event.customer == acme
    assert event.ip_address == "10.1.2.3"
    assert set(event.data["fields"]) == {"phone", "email", "address"}
    assert "13812345678" not in json.dumps(event.data)  # the log names fields, never values


# -- measures and why ----------------------------------------------------------------------------


def test_the_level_shows_its_rule_counts_and_the_interactions_behind_it(client, acme, sales):
    log(acme, "follow_up", when=at(TODAY - 20 * DAY), staff=sales)
    log(acme, "complaint", when=at(TODAY - 10 * DAY), direction="inbound")
    run = run_create()
    score_create(
        run,
        acme,
        actual_level="accountable",
        level_reason="follow_up_after_purchases",
        level_purchases_judged=4,
        level_purchases_followed=3,
        recommended_level="proactive",
        level_gap="under_served",
        segment="business|A",
        segment_size="few",
        segment_margin="medium",
        lifecycle_stage="stability",
        lifecycle_reason="stability:regular_rhythm",
        n_orders=9,
        clv_cents=1_234_500.0,
        p_alive=0.87,
        expected_purchases=3.2,
        expected_spend_cents=41_000.0,
        foundation_health="at_risk",
        health_reasons="late_delivery",
        on_time_share=0.5,
        deliveries=4,
    )
    client.force_login(sales)
    text = _text(client.get(_url(acme)))
    standing = text[text.index('id="standing"') :]
    assert "3 of 4 purchases were followed up within 7 days; accountable from 50.0%" in standing
    evidence = standing[standing.index("The interactions behind the level") :]
    evidence = evidence[: evidence.index("</details>")]
    assert "follow-up" in evidence
    assert "complaint" not in evidence  # inbound contacts are not the evidence of accountable
    assert (
        "Kotler's matrix: the segment business|A has few customers with medium margin" in standing
    )
    assert "a valuable customer is being neglected" in standing
    assert "9 purchases at a regular rhythm" in standing
    assert "¥12,345.00" in standing  # CLV
    assert "87.0%" in standing  # p_alive
    assert "On-time deliveries 50.0% of 4, below 90.0%." in standing


def test_a_customer_without_a_score_is_told_so(client, acme, sales):
    client.force_login(sales)
    text = _text(client.get(_url(acme)))
    assert "No scoring run has finished yet" in text
    run_create()
    text = _text(client.get(_url(acme)))
    assert "did not score this customer" in text


def test_the_score_history_chart_gets_every_run_from_a_static_script(client, acme, sales):
    for days_ago, level, clv in ((60, "reactive", 10_000.0), (30, "accountable", 25_000.0)):
        score_create(
            run_create(as_of=TODAY - days_ago * DAY), acme, actual_level=level, clv_cents=clv
        )
    client.force_login(sales)
    text = _text(client.get(_url(acme)))
    data = json.loads(
        re.search(r'<script id="score-history-data"[^>]*>(.*?)</script>', text, re.S).group(1)
    )
    assert data["dates"] == [(TODAY - 60 * DAY).isoformat(), (TODAY - 30 * DAY).isoformat()]
    assert data["clv"] == [100.0, 250.0]
    assert data["actual"] == [1, 2]  # reactive, accountable: the steps of the level line
    assert "guanxi/customer.js" in text
    assert "vendor/plotly.min.js" in text
    # No inline script (a CSP comes later): every script is a file or JSON data.
    for tag in re.findall(r"<script[^>]*>", text):
        assert " src=" in tag or 'type="application/json"' in tag, tag


# -- the timeline ----------------------------------------------------------------------------


def _kinds(text: str) -> list[str]:
    return re.findall(r'class="entry entry-(\w+)"', text)


def test_the_timeline_puts_everything_in_one_list_newest_first(client, acme, sales, product):
    order = order_place(acme, TODAY - 5 * DAY)
    OrderLine.objects.create(
        order=order,
        line_no=1,
        product=product,
        quantity=2,
        unit_price_cents=12_000,
        unit_cost_cents=7_000,
    )
    log(acme, "advice", when=at(TODAY - 4 * DAY))
    case_open(
        customer=acme,
        external_id="K-1",
        kind="complaint",
        subject="Broken lid",
        opened_at=at(TODAY - 3 * DAY),
    )
    old, new = run_create(as_of=TODAY - 9 * DAY), run_create(as_of=TODAY - 2 * DAY)
    ScoreChange.objects.create(
        run=new,
        previous_run=old,
        customer=acme,
        measure="actual_level",
        from_value="reactive",
        to_value="proactive",
    )
    acme.marketing_consent = True  # an offer only to a customer who agreed to marketing
    task_create(customer=acme, title="Send the catalogue", due_on=TODAY, purpose="offer")

    client.force_login(sales)
    text = _text(client.get(_url(acme)))
    timeline = text[text.index('id="timeline"') :]
    assert _kinds(timeline) == ["task", "change", "case", "interaction", "order"]
    assert "¥240.00" in timeline  # the order's amount from its lines
    assert "Actual level: reactive → proactive" in timeline
    assert "Broken lid" in timeline
    assert "Send the catalogue" in timeline


def test_load_more_pages_through_the_timeline_without_gaps_or_repeats(client, acme, sales):
    for i in range(25):
        log(acme, "advice", when=at(TODAY - (i + 1) * DAY), notes=f"note {i}")
    client.force_login(sales)
    text = _text(client.get(_url(acme)))
    first = re.findall(r"note (\d+)", text[text.index('id="timeline"') :])
    assert first == [str(i) for i in range(20)]
    more = re.search(r'hx-get="([^"]+/timeline/\?before=[^"]+)"', text).group(1)
    rest = _text(client.get(more.replace("&amp;", "&"), HTTP_HX_REQUEST="true"))
    assert re.findall(r"note (\d+)", rest) == [str(i) for i in range(20, 25)]
    assert "Load more" not in rest


def test_the_timeline_selector_breaks_ties_at_the_same_moment(acme, product):
    moment = at(TODAY - DAY, 9)
    for _ in range(3):
        log(acme, "advice", when=moment)
    order_place(acme, TODAY - DAY, hour=9)
    case_open(customer=acme, external_id="K-T", kind="question", subject="?", opened_at=moment)
    whole = customer_timeline(customer=acme, limit=50).entries
    seen, before = [], None
    while True:
        page = customer_timeline(customer=acme, before=before, limit=2)
        seen += page.entries
        if not page.has_more:
            break
        before = page.next_cursor
    assert [(e.kind, e.pk) for e in seen] == [(e.kind, e.pk) for e in whole]
    assert len(whole) == 5
    assert [e.kind for e in whole] == ["case", "interaction", "interaction", "interaction", "order"]


def test_a_malformed_timeline_position_is_a_bad_request(client, acme, sales):
    client.force_login(sales)
    url = reverse("parties:customer_timeline", args=[acme.pk])
    assert client.get(url, {"before": "yesterday"}).status_code == 400
    assert client.get(_url(acme), {"before": "2025-01-01~9~1"}).status_code == 400
    cursor = TimelineCursor(at=at(TODAY), rank=2, pk=1)
    assert TimelineCursor.parse(str(cursor)) == cursor


# -- quick actions -------------------------------------------------------------------------------


def test_logging_an_interaction_completes_the_open_task_and_says_so(client, acme, sales):
    task = task_create(
        customer=acme,
        title="Call about the order",
        due_on=TODAY,
        purpose="follow_up",
        owner=sales,
    )
    client.force_login(sales)
    page = _text(client.get(_url(acme), {"task": task.pk}))
    assert 'value="follow_up" selected' in page  # the task's purpose is filled in
    response = client.post(
        reverse("parties:customer_interaction_log", args=[acme.pk]),
        {
            "channel": "phone",
            "direction": "outbound",
            "service_phase": "after_sale",
            "purpose": "follow_up",
            "notes": "Customer happy with delivery",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    text = _text(response)
    assert "Interaction logged. It completed 1 task: Call about the order." in text
    task.refresh_from_db()
    assert task.status == "done"
    interaction = Interaction.objects.get(customer=acme)
    assert task.completed_by_interaction == interaction
    assert interaction.staff == sales
    # The open tasks and the timeline come along out of band, already up to date.
    assert 'id="open-tasks" aria-labelledby="open-tasks-heading" hx-swap-oob="outerHTML"' in text
    assert "No open tasks." in text
    assert 'id="timeline"' in text and "Customer happy with delivery" in text


def test_without_htmx_a_quick_action_redirects_back_with_a_message(client, acme, sales):
    task_create(customer=acme, title="Visit", due_on=TODAY, purpose="advice")
    client.force_login(sales)
    response = client.post(
        reverse("parties:customer_interaction_log", args=[acme.pk]),
        {
            "channel": "visit",
            "direction": "outbound",
            "service_phase": "after_sale",
            "purpose": "advice",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == _url(acme)
    assert "It completed 1 task: Visit." in _text(response)


def test_an_inbound_contact_logs_but_completes_nothing(client, acme, sales):
    task = task_create(customer=acme, title="Call back", due_on=TODAY, purpose="follow_up")
    client.force_login(sales)
    text = _text(
        client.post(
            reverse("parties:customer_interaction_log", args=[acme.pk]),
            {
                "channel": "hotline",
                "direction": "inbound",
                "service_phase": "after_sale",
                "purpose": "follow_up",
            },
            HTTP_HX_REQUEST="true",
        )
    )
    assert "Interaction logged." in text and "It completed" not in text
    task.refresh_from_db()
    assert task.status == "open"


def test_the_interaction_form_shows_field_errors_and_writes_nothing(client, acme, sales):
    client.force_login(sales)
    url = reverse("parties:customer_interaction_log", args=[acme.pk])
    later = timezone.localtime() + dt.timedelta(days=2)
    text = _text(
        client.post(
            url,
            {
                "direction": "outbound",
                "service_phase": "after_sale",
                "purpose": "advice",
                "occurred_at": later.strftime("%Y-%m-%dT%H:%M"),
            },
            HTTP_HX_REQUEST="true",
        )
    )
    assert "This field is required." in text  # channel
    assert "An interaction cannot be logged in the future" in text
    assert 'aria-invalid="true"' in text
    assert not Interaction.objects.exists()
    # Without htmx the whole page comes back with the errors, as a bad request.
    response = client.post(url, {"purpose": "nonsense"})
    assert response.status_code == 400
    assert "Select a valid choice." in _text(response)


def test_opening_a_case_takes_its_deadline_from_the_severity(client, acme, sales):
    client.force_login(sales)
    before = timezone.now()
    text = _text(
        client.post(
            reverse("parties:customer_case_open", args=[acme.pk]),
            {
                "kind": "complaint",
                "subject": "Late delivery",
                "severity": "critical",
                "satisfaction": "dissatisfied",
            },
            HTTP_HX_REQUEST="true",
        )
    )
    case = Case.objects.get(customer=acme)
    assert case.satisfaction == "dissatisfied"
    assert before + dt.timedelta(hours=24) <= case.due_at <= timezone.now() + dt.timedelta(hours=24)
    assert f"Case {case.external_id} opened" in text
    assert "Late delivery" in text  # the timeline, out of band
    blank = _text(
        client.post(
            reverse("parties:customer_case_open", args=[acme.pk]),
            {"kind": "complaint", "subject": "   ", "severity": "low"},
            HTTP_HX_REQUEST="true",
        )
    )
    assert "This field is required." in blank
    assert Case.objects.count() == 1


def test_adding_a_task_validates_the_due_date_and_lists_the_task(client, acme, sales):
    client.force_login(sales)
    url = reverse("parties:customer_task_add", args=[acme.pk])
    data = {
        "title": "Quarterly review",
        "purpose": "joint_work",
        "priority": "high",
        "owner": sales.pk,
    }
    text = _text(client.post(url, {**data, "due_on": TODAY - DAY}, HTTP_HX_REQUEST="true"))
    assert "The due date has passed" in text
    assert not Task.objects.exists()
    text = _text(client.post(url, {**data, "due_on": TODAY + DAY}, HTTP_HX_REQUEST="true"))
    task = Task.objects.get()
    assert (task.owner, task.priority, task.purpose) == (sales, "high", "joint_work")
    assert "Task “Quarterly review” added" in text
    assert 'id="open-tasks"' in text and "Quarterly review" in text


def test_a_sales_user_cannot_give_a_task_to_someone_else(client, acme, sales, staff):
    other = staff("lin", "sales")
    client.force_login(sales)
    text = _text(
        client.post(
            reverse("parties:customer_task_add", args=[acme.pk]),
            {
                "title": "Call",
                "purpose": "follow_up",
                "priority": "normal",
                "due_on": TODAY,
                "owner": other.pk,
            },
            HTTP_HX_REQUEST="true",
        )
    )
    assert "Select a valid choice." in text
    assert not Task.objects.exists()


# -- cost ------------------------------------------------------------------------------------


def _history(customer, product, n: int) -> None:
    """``n`` of each: orders with lines, interactions, cases, tasks, runs with changes."""
    runs = [run_create(as_of=TODAY - (n - i) * DAY) for i in range(n)]
    for i in range(n):
        order = order_place(customer, TODAY - i * DAY)
        OrderLine.objects.create(
            order=order,
            line_no=1,
            product=product,
            quantity=1,
            unit_price_cents=100,
            unit_cost_cents=50,
        )
        log(customer, "advice", when=at(TODAY - i * DAY, 11))
        case_open(
            customer=customer,
            external_id=f"K-{n}-{i}",
            kind="feedback",
            subject="s",
            opened_at=at(TODAY - i * DAY, 12),
        )
        task = task_create(customer=customer, title=f"t{i}", due_on=TODAY, purpose="survey")
        if i % 2:
            task_cancel(task=task)
        score_create(
            runs[i], customer, actual_level="proactive", level_reason="regular_advice_and_offers"
        )
        if i:
            ScoreChange.objects.create(
                run=runs[i],
                previous_run=runs[i - 1],
                customer=customer,
                measure="lifecycle_stage",
                from_value="formation",
                to_value="stability",
            )


@pytest.mark.parametrize("n", [1, 40])
def test_the_page_costs_the_same_queries_whatever_the_history(
    client, acme, sales, product, n, django_assert_max_num_queries
):
    _history(acme, product, n)
    client.force_login(sales)
    with django_assert_max_num_queries(30):
        response = client.get(_url(acme))
    assert response.status_code == 200
    # One of each but no change (a single run) for n = 1; a full first page for n = 40.
    assert len(_kinds(_text(response))) == (4 if n == 1 else 20)
