import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from guanxi.core.errors import ErrorCode, GuanxiError
from guanxi.core.models import Event
from guanxi.hierarchy.selectors import latest_run as scoring_run_latest
from guanxi.playbooks.models import Playbook, PlaybookAction, Task, TaskWording
from guanxi.playbooks.services import playbooks_run, task_cancel
from guanxi.scoring.models import CustomerScore, ScoringRun
from tests.playbooks.factories import (
    TODAY,
    customer_new,
    customers_bulk,
    log,
    order_place,
    run_create,
    score_create,
    scores_bulk,
)

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)

# Every standing default playbook: the measures that trigger it, the purpose that completes its
# task and the days until the task is due.
STANDING_DEFAULTS = [
    ("proactive-quarterly-contact", {"actual_level": "proactive"}, "advice", 14),
    ("partnership-monthly-review", {"actual_level": "partnership"}, "joint_work", 7),
    ("b2b-basic-stage", {"partnership_stage": "basic"}, "follow_up", 14),
    ("b2b-cooperative-stage", {"partnership_stage": "cooperative"}, "survey", 14),
    ("b2b-interdependent-stage", {"partnership_stage": "interdependent"}, "joint_work", 21),
    ("b2b-integrated-stage", {"partnership_stage": "integrated"}, "joint_work", 30),
    ("retention-call", {"lifecycle_stage": "decline"}, "follow_up", 7),
    ("win-back-offer", {"lifecycle_stage": "churned", "abc_class": "A"}, "offer", 14),
    ("win-back-offer", {"lifecycle_stage": "churned", "abc_class": "B"}, "offer", 14),
    ("foundation-repair", {"foundation_health": "at_risk"}, "follow_up", 14),
    (
        "step-up-plan",
        {"level_gap": "under_served", "recommended_level": "proactive"},
        "advice",
        14,
    ),
]


def test_the_default_playbooks_are_installed_in_both_languages():
    codes = set(Playbook.objects.values_list("code", flat=True))
    assert codes >= {
        "follow-up-after-purchase",
        "proactive-quarterly-contact",
        "partnership-monthly-review",
        "b2b-basic-stage",
        "b2b-cooperative-stage",
        "b2b-interdependent-stage",
        "b2b-integrated-stage",
        "retention-call",
        "win-back-offer",
        "foundation-repair",
        "step-up-plan",
    }
    for playbook in Playbook.objects.all():
        playbook.full_clean()
        assert playbook.name_en and playbook.name_zh and playbook.description_zh
        for action in playbook.actions.all():
            action.full_clean()
            assert action.title_zh and action.reason_zh and len(action.reason_en) > 60


@pytest.mark.parametrize(("code", "measures", "purpose", "due_in"), STANDING_DEFAULTS)
def test_each_standing_default_issues_its_task(run, owner, code, measures, purpose, due_in):
    neutral = customer_new(owner=owner)
    score_create(run, neutral)
    target = customer_new(owner=owner, marketing_consent=True)  # offers need consent
    score_create(run, target, **measures)

    summary = playbooks_run(run=run, today=TODAY)

    assert not Task.objects.filter(customer=neutral).exists()
    task = Task.objects.get(customer=target)
    action = PlaybookAction.objects.get(playbook__code=code, position=1)
    assert task.reason_key == f"{code}:1"
    assert task.action == action and task.run == run and task.order is None
    assert (task.purpose, task.due_on, task.owner, task.status) == (
        purpose,
        TODAY + due_in * DAY,
        owner,
        "open",
    )
    assert (task.wording.title_en, task.wording.reason_zh) == (action.title_en, action.reason_zh)
    assert summary.by_code()[code].created == 1
    assert summary.created == 1


def test_win_back_is_only_for_valuable_churned_customers(run):
    general = customer_new()
    score_create(run, general, lifecycle_stage="churned", abc_class="C")
    playbooks_run(run=run, today=TODAY)
    assert not Task.objects.exists()


def test_foundation_repair_is_urgent_on_an_alert(run):
    quiet, alerted = customer_new(), customer_new()
    score_create(run, quiet, foundation_health="at_risk")
    score_create(
        run, alerted, foundation_health="at_risk", health_alert=True, actual_level="partnership"
    )
    playbooks_run(run=run, today=TODAY)
    normal = Task.objects.get(customer=quiet)
    assert (normal.priority, normal.due_on) == ("normal", TODAY + 14 * DAY)
    urgent = Task.objects.get(customer=alerted, reason_key="foundation-repair:1")
    assert (urgent.priority, urgent.due_on) == ("high", TODAY + 3 * DAY)
    # The partnership also gets its monthly review, at normal priority.
    review = Task.objects.get(customer=alerted, reason_key="partnership-monthly-review:1")
    assert review.priority == "normal"


def test_one_customer_can_need_several_playbooks(run):
    c = customer_new()
    score_create(
        run, c, actual_level="proactive", lifecycle_stage="stability", level_gap="under_served"
    )
    declining = customer_new()
    score_create(
        run, declining, actual_level="reactive", lifecycle_stage="decline", level_gap="under_served"
    )
    playbooks_run(run=run, today=TODAY)
    assert set(Task.objects.filter(customer=c).values_list("reason_key", flat=True)) == {
        "proactive-quarterly-contact:1",
        "step-up-plan:1",
    }
    # Declining: kept first, stepped up later.
    assert set(Task.objects.filter(customer=declining).values_list("reason_key", flat=True)) == {
        "retention-call:1"
    }


@pytest.mark.parametrize("level", ["accountable", "proactive", "partnership"])
def test_follow_up_after_each_recent_purchase(run, owner, level):
    c = customer_new(owner=owner)
    score_create(run, c, actual_level=level)
    recent = order_place(c, TODAY - 3 * DAY)
    edge = order_place(c, TODAY - 7 * DAY, status="delivered")
    order_place(c, TODAY - 8 * DAY)  # outside the 7-day window
    order_place(c, TODAY - 2 * DAY, status="cancelled")  # not a purchase
    order_place(c, TODAY + DAY)  # not placed yet as of today

    summary = playbooks_run(run=run, today=TODAY)

    tasks = {
        t.order_id: t
        for t in Task.objects.filter(reason_key__startswith="follow-up-after-purchase")
    }
    assert set(tasks) == {recent.pk, edge.pk}
    assert tasks[recent.pk].reason_key == f"follow-up-after-purchase:1:order:{recent.pk}"
    assert tasks[recent.pk].due_on == TODAY + 4 * DAY  # the purchase date + 7
    assert tasks[edge.pk].due_on == TODAY
    assert tasks[recent.pk].purpose == "follow_up" and tasks[recent.pk].owner == owner
    assert summary.by_code()["follow-up-after-purchase"].created == 2


def test_no_follow_up_below_accountable_or_once_followed_up(run):
    basic = customer_new()
    score_create(run, basic, actual_level="basic")
    order_place(basic, TODAY - DAY)

    c = customer_new()
    score_create(run, c, actual_level="accountable")
    first = order_place(c, TODAY - 5 * DAY)
    second = order_place(c, TODAY - 2 * DAY)
    log(c, "follow_up", when=first.placed_at + DAY)  # after the first, before the second
    log(c, "follow_up", when=second.placed_at + dt.timedelta(hours=1), direction="inbound")

    summary = playbooks_run(run=run, today=TODAY)

    assert list(Task.objects.values_list("order_id", flat=True)) == [second.pk]
    counts = summary.by_code()["follow-up-after-purchase"]
    assert (counts.candidates, counts.created, counts.skipped_recent) == (2, 1, 1)


def test_running_twice_creates_nothing_new(run):
    customers = customers_bulk(4)
    scores_bulk(run, customers, actual_level="accountable", lifecycle_stage="decline")
    for c in customers:
        order_place(c, TODAY - DAY)
    first = playbooks_run(run=run, today=TODAY)
    assert first.created == 8  # a retention call and a purchase follow-up each

    again = playbooks_run(run=run, today=TODAY)
    assert (again.created, again.skipped_open) == (0, 8)

    # A later scoring run with the same standing does not duplicate the open tasks either.
    later = run_create(as_of=TODAY + DAY)
    scores_bulk(later, customers, actual_level="accountable", lifecycle_stage="decline")
    assert playbooks_run(run=later, today=TODAY + DAY).created == 0
    assert Task.objects.count() == 8


def test_a_done_task_allows_a_new_one_after_the_cadence(run, owner):
    c = customer_new(owner=owner)
    score_create(run, c, actual_level="proactive")
    playbooks_run(run=run, today=TODAY)
    task = Task.objects.get()

    log(c, "advice")  # carries the task out
    task.refresh_from_db()
    assert task.status == "done"

    within = playbooks_run(run=run, today=TODAY + 89 * DAY)
    assert (within.created, within.skipped_recent) == (0, 1)
    after = playbooks_run(run=run, today=TODAY + 91 * DAY)
    assert after.created == 1
    fresh = Task.objects.get(status="open")
    assert fresh.reason_key == task.reason_key and fresh.due_on == TODAY + 105 * DAY


def test_a_recent_contact_counts_even_without_a_task(run):
    c = customer_new()
    score_create(run, c, actual_level="proactive")
    log(c, "advice", when=timezone.now() - 30 * DAY)
    summary = playbooks_run(run=run, today=TODAY)
    assert summary.created == 0
    assert summary.by_code()["proactive-quarterly-contact"].skipped_recent == 1


def test_a_cancelled_task_is_not_reissued_within_the_cadence(run):
    c = customer_new()
    score_create(run, c, lifecycle_stage="decline")
    playbooks_run(run=run, today=TODAY)
    task_cancel(task=Task.objects.get())
    assert playbooks_run(run=run, today=TODAY + 29 * DAY).created == 0
    assert playbooks_run(run=run, today=TODAY + 31 * DAY).created == 1


def test_owner_rules(run, owner, other_user):
    playbook = Playbook.objects.create(
        code="owners", name_en="Owner rules", customer_types=["consumer"]
    )
    common = {"title_en": "Call", "reason_en": "Because.", "purpose": "follow_up"}
    PlaybookAction.objects.create(playbook=playbook, position=1, **common)
    PlaybookAction.objects.create(
        playbook=playbook,
        position=2,
        owner_rule="owner_else_fallback",
        fallback_owner=other_user,
        **common,
    )
    PlaybookAction.objects.create(playbook=playbook, position=3, owner_rule="unassigned", **common)
    owned = customer_new(owner=owner, customer_type="consumer")
    unowned = customer_new(customer_type="consumer")
    business = customer_new(owner=owner, customer_type="business")
    for c in (owned, unowned, business):
        score_create(run, c)

    playbooks_run(run=run, today=TODAY)

    def owners(customer):
        tasks = Task.objects.filter(customer=customer).order_by("reason_key")
        return [t.owner for t in tasks]

    assert owners(owned) == [owner, owner, None]
    assert owners(unowned) == [None, other_user, None]
    assert owners(business) == []


def test_a_fallback_rule_needs_a_fallback_user():
    playbook = Playbook.objects.get(code="retention-call")
    action = PlaybookAction(
        playbook=playbook,
        position=2,
        title_en="x",
        reason_en="y",
        purpose="follow_up",
        owner_rule="owner_else_fallback",
    )
    with pytest.raises(ValidationError) as err:
        action.full_clean()
    assert "fallback_owner" in err.value.message_dict


def test_conditions_are_validated():
    playbook = Playbook(code="bad", name_en="Bad", actual_levels=["basic", "heroic"])
    with pytest.raises(ValidationError) as err:
        playbook.full_clean()
    assert "heroic" in str(err.value.message_dict["actual_levels"])
    playbook.actual_levels = ["basic", "basic"]
    with pytest.raises(ValidationError):
        playbook.full_clean()


def test_multiple_allowed_values_and_combined_conditions(run):
    playbook = Playbook.objects.create(
        code="combo",
        name_en="Combo",
        lifecycle_stages=["stability", "formation"],
        value_classes=["A"],
    )
    PlaybookAction.objects.create(playbook=playbook, title_en="t", reason_en="r", purpose="advice")
    hit1, hit2, miss1, miss2 = (customer_new() for _ in range(4))
    score_create(run, hit1, lifecycle_stage="stability", abc_class="A")
    score_create(run, hit2, lifecycle_stage="formation", abc_class="A")
    score_create(run, miss1, lifecycle_stage="stability", abc_class="B")
    score_create(run, miss2, lifecycle_stage="exploration", abc_class="A")
    playbooks_run(run=run, today=TODAY)
    assert set(Task.objects.filter(reason_key="combo:1").values_list("customer", flat=True)) == {
        hit1.pk,
        hit2.pk,
    }


def test_inactive_playbooks_and_customers_are_left_alone(run):
    Playbook.objects.filter(code="retention-call").update(is_active=False)
    c = customer_new()
    score_create(run, c, lifecycle_stage="decline")
    gone = customer_new(is_active=False)
    score_create(run, gone, actual_level="proactive")
    summary = playbooks_run(run=run, today=TODAY)
    assert summary.created == 0
    assert "retention-call" not in summary.by_code()


def test_dry_run_counts_and_writes_nothing(run):
    customers = customers_bulk(3)
    scores_bulk(run, customers, lifecycle_stage="decline")
    events = Event.objects.count()
    dry = playbooks_run(run=run, today=TODAY, dry_run=True)
    assert dry.created == 3 and dry.dry_run
    assert not Task.objects.exists() and Event.objects.count() == events
    assert playbooks_run(run=run, today=TODAY).created == 3


def test_the_run_is_recorded_in_one_event(run, owner):
    c = customer_new()
    score_create(run, c, lifecycle_stage="decline")
    playbooks_run(run=run, actor=owner, today=TODAY)
    event = Event.objects.get(kind="playbooks.ran")
    assert event.actor == owner and event.subject == run
    assert event.data["created"] == 1 and event.data["run"] == run.pk
    assert event.data["playbooks"]["retention-call"]["created"] == 1


def test_the_latest_successful_run_is_used_by_default():
    old = run_create(as_of=TODAY - 10 * DAY)
    latest = run_create(as_of=TODAY - DAY)
    run_create(as_of=TODAY, status="failed")
    run_create(as_of=TODAY, status="running")
    assert scoring_run_latest() == latest
    c = customer_new(marketing_consent=True)
    score_create(old, c, lifecycle_stage="decline")
    score_create(latest, c, lifecycle_stage="churned", abc_class="A")
    playbooks_run(today=TODAY)
    task = Task.objects.get()
    assert task.reason_key == "win-back-offer:1" and task.run == latest


def test_runs_that_cannot_be_acted_on():
    with pytest.raises(GuanxiError) as err:
        playbooks_run()
    assert err.value.code == ErrorCode.NOT_FOUND
    failed = run_create(status="failed")
    with pytest.raises(GuanxiError) as err:
        playbooks_run(run=failed)
    assert err.value.code == ErrorCode.INVALID
    with pytest.raises(GuanxiError) as err:
        playbooks_run(run=failed.pk + 100)
    assert err.value.code == ErrorCode.NOT_FOUND


def test_chunks_cover_every_customer(run):
    customers = customers_bulk(7)
    scores_bulk(run, customers, lifecycle_stage="decline")
    for c in customers:
        order_place(c, TODAY - DAY)
    CustomerScore.objects.filter(run=run, customer__in=customers[:5]).update(
        actual_level="accountable"
    )
    summary = playbooks_run(run=run, today=TODAY, chunk_size=2)
    assert summary.by_code()["retention-call"].created == 7
    assert summary.by_code()["follow-up-after-purchase"].created == 5
    assert playbooks_run(run=run, today=TODAY, chunk_size=2).created == 0


def _world(run, n: int, owner) -> None:
    """``n`` customers for every default playbook, with recent purchases and some contacts."""
    standings = [measures for _, measures, _, _ in STANDING_DEFAULTS] + [
        {"actual_level": "accountable"},
        {"foundation_health": "at_risk", "health_alert": True},
    ]
    for measures in standings:
        customers = customers_bulk(n, owner=owner)
        scores_bulk(run, customers, **measures)
        if measures.get("actual_level") in ("accountable", "proactive", "partnership"):
            for c in customers:
                order_place(c, TODAY - 2 * DAY)
    # Some tasks already open, some actions carried out recently.
    for c in customers_bulk(n):
        score_create(run, c, lifecycle_stage="decline")
        log(c, "follow_up", when=timezone.now() - 3 * DAY)


def _queries(n: int, owner) -> tuple[int, int]:
    run = run_create()
    _world(run, n, owner)
    with CaptureQueriesContext(connection) as queries:
        summary = playbooks_run(run=run, today=TODAY)
    return len(queries), summary.created


def test_the_number_of_queries_does_not_grow_with_the_customers(
    owner, django_assert_max_num_queries
):
    ContentType.objects.get_for_model(ScoringRun)  # cached from here on, as in a long process
    playbooks_run(run=run_create(), today=TODAY)  # the actions' wordings exist from here on
    small, created_small = _queries(2, owner)
    Task.objects.all().delete()
    large, created_large = _queries(25, owner)
    assert created_large > created_small * 10
    assert large == small
    run = run_create()
    _world(run, 10, owner)
    with django_assert_max_num_queries(small):
        playbooks_run(run=run, today=TODAY)


def test_task_text_is_shown_in_the_active_language(run):
    c = customer_new()
    score_create(run, c, lifecycle_stage="decline")
    playbooks_run(run=run, today=TODAY)
    task = Task.objects.get()
    with translation.override("zh-hans"):
        assert task.title == "致电了解购买下降的原因"
        assert "退化期" in task.reason
        assert task.action.playbook.name == "退化期挽留回访"
    with translation.override("en"):
        assert task.title == "Call to find out why purchases are falling"

    # Tasks issued from the same wording share it.
    again = customer_new()
    score_create(run, again, lifecycle_stage="decline")
    playbooks_run(run=run, today=TODAY)
    assert Task.objects.get(customer=again).wording_id == task.wording_id

    # Frozen at creation: rewording the playbook changes new tasks, not the ones issued.
    PlaybookAction.objects.filter(pk=task.action_id).update(title_en="Something else")
    later = customer_new()
    score_create(run, later, lifecycle_stage="decline")
    playbooks_run(run=run, today=TODAY)
    task.refresh_from_db()
    with translation.override("en"):
        assert task.title == "Call to find out why purchases are falling"
        assert Task.objects.get(customer=later).title == "Something else"
    with translation.override("zh-hans"):
        assert Task.objects.get(customer=later).title == "致电了解购买下降的原因"
    assert TaskWording.objects.filter(action=task.action).count() == 2
