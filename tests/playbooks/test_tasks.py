import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from guanxi.core.errors import ErrorCode, GuanxiError
from guanxi.core.models import Event
from guanxi.engagement.models import Interaction
from guanxi.playbooks.models import Task
from guanxi.playbooks.selectors import task_counts_by_status, tasks_open, tasks_overdue
from guanxi.playbooks.services import (
    playbooks_run,
    task_assign,
    task_cancel,
    task_complete,
    task_create,
    tasks_complete_from_interactions,
    tasks_complete_since,
)
from tests.playbooks.factories import (
    TODAY,
    customer_new,
    log,
    order_place,
    run_create,
    score_create,
)

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def _issued(run, **measures) -> Task:
    c = customer_new()
    score_create(run, c, **measures)
    playbooks_run(run=run, today=TODAY)
    return Task.objects.get(customer=c)


# -- completion by a logged interaction ---------------------------------------------------------


def test_an_outbound_contact_with_the_purpose_completes_the_task(run):
    task = _issued(run, actual_level="proactive")
    interaction = log(task.customer, "advice")
    task.refresh_from_db()
    assert task.status == "done"
    assert task.completed_by_interaction == interaction
    assert task.completed_at == interaction.occurred_at
    event = Event.objects.get(kind="task.completed")
    assert event.customer == task.customer and event.subject == task
    assert event.data == {"reason_key": task.reason_key, "interaction": interaction.pk}


@pytest.mark.parametrize(
    ("purpose", "direction"),
    [("advice", "inbound"), ("follow_up", "outbound"), ("offer", "inbound")],
)
def test_other_contacts_leave_the_task_open(run, purpose, direction):
    task = _issued(run, actual_level="proactive")
    log(task.customer, purpose, direction=direction)
    task.refresh_from_db()
    assert task.status == "open" and task.completed_by_interaction is None


def test_joint_work_counts_in_either_direction(run):
    task = _issued(run, actual_level="partnership")
    log(task.customer, "joint_work", direction="inbound", channel="meeting")
    task.refresh_from_db()
    assert task.status == "done"


def test_a_contact_before_the_task_was_issued_does_not_complete_it(run):
    task = _issued(run, lifecycle_stage="decline")
    log(task.customer, "follow_up", when=task.created_at - dt.timedelta(minutes=5))
    task.refresh_from_db()
    assert task.status == "open"


def test_another_customers_contact_does_not_complete_it(run):
    task = _issued(run, lifecycle_stage="decline")
    log(customer_new(), "follow_up")
    task.refresh_from_db()
    assert task.status == "open"


def test_a_purchase_follow_up_counts_from_the_order(run):
    c = customer_new()
    score_create(run, c, actual_level="accountable")
    order = order_place(c, TODAY - 3 * DAY)
    playbooks_run(run=run, today=TODAY)
    task = Task.objects.get(customer=c)
    # Logged late: the call happened the day after the purchase, before the task was issued.
    interaction = log(c, "follow_up", when=order.placed_at + DAY)
    task.refresh_from_db()
    assert task.status == "done" and task.completed_by_interaction == interaction


def test_one_contact_completes_every_task_it_carries_out(run):
    c = customer_new()
    score_create(run, c, lifecycle_stage="decline", foundation_health="at_risk")
    playbooks_run(run=run, today=TODAY)
    assert Task.objects.filter(customer=c, status="open").count() == 2
    log(c, "follow_up")
    assert Task.objects.filter(customer=c, status="done").count() == 2


def test_completion_shares_the_interactions_transaction(run):
    task = _issued(run, actual_level="proactive")
    with pytest.raises(RuntimeError), transaction.atomic():
        log(task.customer, "advice")
        raise RuntimeError("roll back")
    task.refresh_from_db()
    assert task.status == "open" and not Interaction.objects.exists()


def test_tasks_complete_from_interactions_takes_several(run):
    a = _issued(run, actual_level="proactive")
    b = _issued(run, lifecycle_stage="decline")
    now = timezone.now()
    rows = Interaction.objects.bulk_create(
        [
            Interaction(
                customer=a.customer,
                external_id="X-1",
                occurred_at=now,
                channel="email",
                direction="outbound",
                service_phase="after_sale",
                purpose="advice",
            ),
            Interaction(
                customer=b.customer,
                external_id="X-2",
                occurred_at=now,
                channel="phone",
                direction="outbound",
                service_phase="after_sale",
                purpose="follow_up",
            ),
        ]
    )
    done = tasks_complete_from_interactions(rows)
    assert {t.pk for t in done} == {a.pk, b.pk}
    assert tasks_complete_from_interactions([]) == []


# -- completion after a bulk load ---------------------------------------------------------------


def test_tasks_complete_since_after_a_bulk_load(run):
    proactive = _issued(run, actual_level="proactive")
    declining = _issued(run, lifecycle_stage="decline")
    untouched = _issued(run, actual_level="partnership")
    old_contact = Interaction.objects.create(
        customer=untouched.customer,
        external_id="OLD",
        occurred_at=timezone.now(),
        channel="meeting",
        direction="outbound",
        service_phase="after_sale",
        purpose="joint_work",
    )
    # Written before the load began (as by an earlier import), so not this load's business.
    since = timezone.now()
    Interaction.objects.filter(pk=old_contact.pk).update(updated_at=since - dt.timedelta(hours=1))
    when = timezone.now()
    Interaction.objects.bulk_create(  # what an import writes: rows without services
        Interaction(
            customer=t.customer,
            external_id=f"BULK-{i}",
            occurred_at=when,
            channel="phone",
            direction="outbound",
            service_phase="after_sale",
            purpose=purpose,
        )
        for i, (t, purpose) in enumerate(
            [(proactive, "advice"), (declining, "follow_up"), (untouched, "advice")]
        )
    )
    assert Task.objects.filter(status="done").count() == 0

    assert tasks_complete_since(since) == 2

    statuses = dict(Task.objects.values_list("pk", "status"))
    assert statuses == {proactive.pk: "done", declining.pk: "done", untouched.pk: "open"}
    event = Event.objects.get(kind="tasks.completed")
    assert event.data["completed"] == 2
    assert tasks_complete_since(since) == 0
    assert Event.objects.filter(kind="tasks.completed").count() == 1


def test_tasks_complete_since_works_through_the_load_in_chunks(run):
    tasks = [_issued(run, lifecycle_stage="decline") for _ in range(5)]
    since = timezone.now()
    Interaction.objects.bulk_create(
        Interaction(
            customer=t.customer,
            external_id=f"CHUNK-{i}",
            occurred_at=timezone.now(),
            channel="phone",
            direction="outbound",
            service_phase="after_sale",
            purpose="follow_up",
        )
        for i, t in enumerate(tasks)
    )
    assert tasks_complete_since(since, chunk_size=2) == 5
    assert not Task.objects.filter(status="open").exists()


# -- one task at a time -------------------------------------------------------------------------


def test_the_database_refuses_a_second_open_task_for_a_reason(owner):
    c = customer_new()
    fields = {
        "customer": c,
        "custom_title": "Call",
        "reason_key": "x:1",
        "purpose": "advice",
        "due_on": TODAY,
    }
    first = Task.objects.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.create(**fields)
    Task.objects.filter(pk=first.pk).update(status="done", completed_at=timezone.now())
    Task.objects.create(**fields)  # a done task does not block a new open one
    assert Task.objects.filter(reason_key="x:1").count() == 2
    with pytest.raises(IntegrityError), transaction.atomic():  # a task needs a title
        Task.objects.create(**{**fields, "custom_title": "", "reason_key": "x:2"})


def test_manual_tasks(owner):
    c = customer_new(owner=owner, marketing_consent=True)
    with translation.override("zh-hans"):
        task = task_create(
            customer=c, title="寄送样品", due_on=TODAY + DAY, purpose="offer", owner=owner
        )
    assert task.reason_key.startswith("manual:") and task.action is None
    assert (task.custom_title, task.wording) == ("寄送样品", None)
    with translation.override("en"):
        assert task.title == "寄送样品"  # as written, in either language
    assert Event.objects.filter(kind="task.created", customer=c).exists()

    keyed = task_create(
        customer=c, title="Call", due_on=TODAY, purpose="follow_up", reason_key="manual:call"
    )
    with pytest.raises(GuanxiError) as err:
        task_create(
            customer=c, title="Call", due_on=TODAY, purpose="follow_up", reason_key="manual:call"
        )
    assert err.value.code == ErrorCode.CONFLICT
    with pytest.raises(GuanxiError):
        task_create(customer=c, title=" ", due_on=TODAY, purpose="follow_up")
    assert keyed.is_open


def test_complete_cancel_and_assign(owner, other_user):
    c = customer_new(owner=owner, marketing_consent=True)
    task = task_create(customer=c, title="Visit", due_on=TODAY, purpose="advice", owner=owner)
    task = task_assign(task=task, owner=other_user, actor=owner)
    assert task.owner == other_user
    assert Event.objects.get(kind="task.assigned").data == {"from": owner.pk, "to": other_user.pk}

    task = task_complete(task=task, actor=other_user)
    assert task.status == "done" and task.completed_at is not None
    with pytest.raises(GuanxiError) as err:
        task_cancel(task=task)
    assert err.value.code == ErrorCode.INVALID_TRANSITION

    other = task_create(customer=c, title="Offer", due_on=TODAY, purpose="offer")
    other = task_cancel(task=other, actor=owner)
    assert other.status == "cancelled" and other.cancelled_at is not None
    with pytest.raises(GuanxiError):
        task_complete(task=other)

    stranger = log(customer_new(), "offer")
    third = task_create(customer=c, title="Offer", due_on=TODAY, purpose="offer")
    with pytest.raises(GuanxiError):
        task_complete(task=third, interaction=stranger)


def test_selectors(owner):
    c = customer_new(owner=owner)
    late = task_create(customer=c, title="Late", due_on=TODAY - DAY, purpose="advice", owner=owner)
    task_create(customer=c, title="Soon", due_on=TODAY + DAY, purpose="advice", owner=owner)
    done = task_create(customer=c, title="Done", due_on=TODAY, purpose="advice")
    task_complete(task=done)
    assert [t.title for t in tasks_open(owner=owner)] == ["Late", "Soon"]
    assert list(tasks_overdue(today=TODAY)) == [late]
    assert task_counts_by_status(customer=c) == {"open": 2, "done": 1, "cancelled": 0}


# -- the command --------------------------------------------------------------------------------


def test_command_runs_and_prints_the_counts(run, owner):
    c = customer_new()
    score_create(run, c, lifecycle_stage="decline")
    out = StringIO()
    call_command("playbooks", "run", "--dry-run", "--today", TODAY.isoformat(), stdout=out)
    text = out.getvalue()
    assert "Dry run" in text and "retention-call" in text
    assert not Task.objects.exists()

    out = StringIO()
    call_command("playbooks", "run", "--run", str(run.pk), "--user", "mei", stdout=out)
    assert Task.objects.count() == 1
    assert Event.objects.get(kind="playbooks.ran").actor == owner
    out = StringIO()
    call_command("playbooks", "run", stdout=out)
    assert Task.objects.count() == 1
    assert "retention-call" in out.getvalue()


def test_command_errors_and_listing():
    with pytest.raises(CommandError, match="no successful scoring run"):
        call_command("playbooks", "run", stdout=StringIO())
    run_create()
    with pytest.raises(CommandError, match="no user"):
        call_command("playbooks", "run", "--user", "nobody", stdout=StringIO())
    out = StringIO()
    call_command("playbooks", "list", "--language", "zh-hans", stdout=out)
    assert "退化期挽留回访" in out.getvalue()
