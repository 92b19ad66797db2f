"""Writes for playbooks and tasks: running the playbooks over a scoring run, and completing,
cancelling, assigning and creating tasks.

Running is set-based: for each active playbook, a single query streams the candidates (the run's
matching scores, or the matching recent purchases) together with, per action, whether an open task
for the same reason exists and whether the action was carried out within its cadence (``EXISTS``
subqueries); new tasks are bulk-inserted a chunk at a time. Nothing is queried per customer.
``docs/playbooks.md`` describes the rules.
"""

import datetime as dt
import itertools
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.errors import ErrorCode, GuanxiError
from guanxi.core.models import Event
from guanxi.core.services import event_record
from guanxi.engagement.choices import Purpose
from guanxi.engagement.models import Interaction
from guanxi.hierarchy.selectors import latest_run
from guanxi.parties.models import Customer
from guanxi.playbooks import selectors
from guanxi.playbooks.choices import (
    COMPLETING_DIRECTION,
    EITHER_DIRECTION_PURPOSES,
    OwnerRule,
    TaskPriority,
    TaskStatus,
    TriggerKind,
)
from guanxi.playbooks.models import Playbook, PlaybookAction, Task, TaskWording
from guanxi.sales.models import Order
from guanxi.scoring.choices import RunStatus
from guanxi.scoring.models import CustomerScore, ScoringRun

# Candidates read per query, and rows per INSERT / UPDATE statement.
CHUNK_SIZE = 2000
BATCH_SIZE = 1000

# Tasks for these purposes contact the customer with offers: they are issued, or made by hand,
# only for customers who agreed to marketing (``Customer.marketing_consent``).
CONSENT_PURPOSES = frozenset({Purpose.OFFER})


@dataclass
class PlaybookCounts:
    """What one playbook did in a run."""

    code: str
    name: str
    trigger: str
    candidates: int = 0  # customers (standing) or purchases (per purchase) the conditions matched
    created: int = 0
    skipped_open: int = 0  # an open task for the same customer and reason already exists
    skipped_recent: int = 0  # carried out within the cadence (or, per purchase, since the order)
    skipped_no_consent: int = 0  # an offer for a customer who did not agree to marketing

    def as_data(self) -> dict[str, int]:
        return {
            "candidates": self.candidates,
            "created": self.created,
            "skipped_open": self.skipped_open,
            "skipped_recent": self.skipped_recent,
            "skipped_no_consent": self.skipped_no_consent,
        }


@dataclass
class PlaybooksRunSummary:
    run_id: int
    as_of: dt.date
    today: dt.date
    dry_run: bool
    playbooks: list[PlaybookCounts] = field(default_factory=list)

    @property
    def created(self) -> int:
        return sum(p.created for p in self.playbooks)

    @property
    def skipped_open(self) -> int:
        return sum(p.skipped_open for p in self.playbooks)

    @property
    def skipped_recent(self) -> int:
        return sum(p.skipped_recent for p in self.playbooks)

    @property
    def skipped_no_consent(self) -> int:
        return sum(p.skipped_no_consent for p in self.playbooks)

    def by_code(self) -> dict[str, PlaybookCounts]:
        return {p.code: p for p in self.playbooks}


# -- running playbooks -------------------------------------------------------------------------


def _day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day`` in the current time zone."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _run_resolve(run: ScoringRun | int | None) -> ScoringRun:
    if run is None:
        run = latest_run()
        if run is None:
            raise GuanxiError(
                _("There is no successful scoring run yet; run `guanxi score` first."),
                code=ErrorCode.NOT_FOUND,
                field="run",
            )
    elif not isinstance(run, ScoringRun):
        found = ScoringRun.objects.filter(pk=run).first()
        if found is None:
            raise GuanxiError(
                _("There is no scoring run #%(id)s.") % {"id": run},
                code=ErrorCode.NOT_FOUND,
                field="run",
            )
        run = found
    if run.status != RunStatus.SUCCEEDED:
        raise GuanxiError(
            _("Scoring run #%(id)s is %(status)s; playbooks act only on a successful run.")
            % {"id": run.pk, "status": run.get_status_display()},
            code=ErrorCode.INVALID,
            field="run",
        )
    return run


def _recent_annotations(
    action: PlaybookAction, key: str, *, since: dt.datetime
) -> dict[str, Exists]:
    """Whether the action was carried out since ``since``: a completing interaction, or a task for
    the same reason that was done or cancelled (the outer query has a ``customer_id``)."""
    return {
        f"contacted_{action.pk}": Exists(
            Interaction.objects.filter(
                selectors.interactions_completing_q(action.purpose),
                customer_id=OuterRef("customer_id"),
                occurred_at__gte=since,
            )
        ),
        f"closed_{action.pk}": Exists(
            Task.objects.filter(
                Q(reason_key=key) | Q(reason_key__startswith=f"{key}:order:"),
                customer_id=OuterRef("customer_id"),
            ).filter(
                Q(status=TaskStatus.DONE, completed_at__gte=since)
                | Q(status=TaskStatus.CANCELLED, cancelled_at__gte=since)
            )
        ),
    }


def _consent_missing(action: PlaybookAction, consent: bool) -> bool:
    """Whether the action would make an offer to a customer who did not agree to marketing."""
    return action.purpose in CONSENT_PURPOSES and not consent


def _is_recent(action: PlaybookAction, flags: dict[str, bool]) -> bool:
    return bool(flags.get(f"contacted_{action.pk}") or flags.get(f"closed_{action.pk}"))


def _owner_id(action: PlaybookAction, account_owner_id: int | None) -> int | None:
    if action.owner_rule == OwnerRule.ACCOUNT_OWNER:
        return account_owner_id
    if action.owner_rule == OwnerRule.OWNER_ELSE_FALLBACK:
        return account_owner_id or action.fallback_owner_id
    return None


def _task_new(
    action: PlaybookAction,
    *,
    key: str,
    customer_id: int,
    account_owner_id: int | None,
    base_day: dt.date,
    alert: bool,
    run: ScoringRun,
    order_id: int | None,
    now: dt.datetime,
    completes_from: dt.datetime,
    wordings: dict[int, int],
) -> Task:
    if alert and action.alert_due_offset_days is not None:
        due_on = base_day + dt.timedelta(days=action.alert_due_offset_days)
        priority = TaskPriority.HIGH
    else:
        due_on = base_day + dt.timedelta(days=action.due_offset_days)
        priority = TaskPriority.NORMAL
    return Task(
        customer_id=customer_id,
        wording_id=wordings.get(action.pk),
        reason_key=key,
        purpose=action.purpose,
        channel=action.channel,
        priority=priority,
        due_on=due_on,
        owner_id=_owner_id(action, account_owner_id),
        status=TaskStatus.OPEN,
        action_id=action.pk,
        run_id=run.pk,
        order_id=order_id,
        created_at=now,
        completes_from=completes_from,
    )


def _wordings_current(actions: list[PlaybookAction]) -> dict[int, int]:
    """The id of each action's current wording: its latest one if the action still says the same,
    else a new one (two queries, plus one INSERT per reworded action)."""
    latest: dict[int, TaskWording] = {}
    for wording in TaskWording.objects.filter(action__in=actions).order_by("action_id", "-id"):
        latest.setdefault(wording.action_id, wording)
    ids = {}
    for action in actions:
        wording = latest.get(action.pk)
        if wording is None or not wording.matches(action):
            wording = TaskWording.objects.create(
                action=action,
                title_en=action.title_en,
                title_zh=action.title_zh,
                reason_en=action.reason_en,
                reason_zh=action.reason_zh,
            )
        ids[action.pk] = wording.pk
    return ids


def _chunks(qs: QuerySet, fields: list[str], chunk_size: int) -> Iterable[tuple[tuple, ...]]:
    """``qs`` as value tuples, ``chunk_size`` at a time, from a single query (streamed through a
    server-side cursor on PostgreSQL, fetched in batches on SQLite): one scan of the run's scores
    however many chunks it yields. Writing tasks meanwhile is safe: the rows of one query are
    distinct customers (or orders), and each only looks at its own tasks."""
    rows = qs.order_by().values_list(*fields).iterator(chunk_size=chunk_size)
    yield from itertools.batched(rows, chunk_size)


def _run_standing(
    playbook: Playbook,
    actions: list[PlaybookAction],
    run: ScoringRun,
    counts: PlaybookCounts,
    *,
    today: dt.date,
    now: dt.datetime,
    dry_run: bool,
    chunk_size: int,
    wordings: dict[int, int],
) -> None:
    annotations: dict[str, Exists] = {}
    for action in actions:
        key = action.reason_key()
        annotations[f"open_{action.pk}"] = Exists(
            Task.objects.open().filter(customer_id=OuterRef("customer_id"), reason_key=key)
        )
        if action.cadence_days:
            since = _day_start(today - dt.timedelta(days=action.cadence_days))
            annotations |= _recent_annotations(action, key, since=since)
    names = list(annotations)
    qs = selectors.scores_matching(playbook, run).annotate(**annotations)
    fields = ["customer_id", "customer__owner_id", "customer__marketing_consent", "health_alert"]
    for rows in _chunks(qs, [*fields, *names], chunk_size):
        new: list[Task] = []
        for customer_id, owner_id, consent, alert, *values in rows:
            flags = dict(zip(names, values, strict=True))
            counts.candidates += 1
            for action in actions:
                if _consent_missing(action, consent):
                    counts.skipped_no_consent += 1
                elif flags[f"open_{action.pk}"]:
                    counts.skipped_open += 1
                elif _is_recent(action, flags):
                    counts.skipped_recent += 1
                else:
                    new.append(
                        _task_new(
                            action,
                            key=action.reason_key(),
                            customer_id=customer_id,
                            account_owner_id=owner_id,
                            base_day=today,
                            alert=alert,
                            run=run,
                            order_id=None,
                            now=now,
                            completes_from=now,
                            wordings=wordings,
                        )
                    )
        if not dry_run:
            Task.objects.bulk_create(new, batch_size=BATCH_SIZE)
        counts.created += len(new)


def _run_per_purchase(
    playbook: Playbook,
    actions: list[PlaybookAction],
    run: ScoringRun,
    counts: PlaybookCounts,
    *,
    today: dt.date,
    now: dt.datetime,
    dry_run: bool,
    chunk_size: int,
    wordings: dict[int, int],
) -> None:
    start = _day_start(today - dt.timedelta(days=playbook.window_days))
    end = _day_start(today + dt.timedelta(days=1))
    matching = selectors.scores_matching(playbook, run).filter(customer_id=OuterRef("customer_id"))
    annotations: dict[str, Any] = {}
    if any(a.alert_due_offset_days is not None for a in actions):
        annotations["score_alert"] = Subquery(
            CustomerScore.objects.filter(run=run, customer_id=OuterRef("customer_id")).values(
                "health_alert"
            )[:1]
        )
    for action in actions:
        key = action.reason_key()
        annotations[f"open_{action.pk}"] = Exists(
            Task.objects.open().filter(
                customer_id=OuterRef("customer_id"),
                reason_key=Concat(
                    Value(f"{key}:order:"),
                    Cast(OuterRef("pk"), output_field=CharField()),
                    output_field=CharField(),
                ),
            )
        )
        # Carried out already: a completing interaction since the purchase.
        annotations[f"followed_{action.pk}"] = Exists(
            Interaction.objects.filter(
                selectors.interactions_completing_q(action.purpose),
                customer_id=OuterRef("customer_id"),
                occurred_at__gte=OuterRef("placed_at"),
            )
        )
        if action.cadence_days:
            since = _day_start(today - dt.timedelta(days=action.cadence_days))
            annotations |= _recent_annotations(action, key, since=since)
    names = list(annotations)
    qs = (
        Order.objects.purchases()
        .filter(placed_at__gte=start, placed_at__lt=end)
        .filter(Exists(matching))
        .annotate(**annotations)
    )
    fields = ["id", "customer_id", "customer__owner_id", "customer__marketing_consent", "placed_at"]
    for rows in _chunks(qs, [*fields, *names], chunk_size):
        new: list[Task] = []
        for order_id, customer_id, owner_id, consent, placed_at, *values in rows:
            flags = dict(zip(names, values, strict=True))
            counts.candidates += 1
            for action in actions:
                if _consent_missing(action, consent):
                    counts.skipped_no_consent += 1
                elif flags[f"open_{action.pk}"]:
                    counts.skipped_open += 1
                elif flags[f"followed_{action.pk}"] or _is_recent(action, flags):
                    counts.skipped_recent += 1
                else:
                    new.append(
                        _task_new(
                            action,
                            key=action.reason_key(order_id),
                            customer_id=customer_id,
                            account_owner_id=owner_id,
                            base_day=timezone.localdate(placed_at),
                            alert=bool(flags.get("score_alert")),
                            run=run,
                            order_id=order_id,
                            now=now,
                            completes_from=placed_at,
                            wordings=wordings,
                        )
                    )
        if not dry_run:
            Task.objects.bulk_create(new, batch_size=BATCH_SIZE)
        counts.created += len(new)


@transaction.atomic
def playbooks_run(
    *,
    run: ScoringRun | int | None = None,
    actor: Any = None,
    today: dt.date | None = None,
    dry_run: bool = False,
    chunk_size: int = CHUNK_SIZE,
    ip_address: str | None = None,
) -> PlaybooksRunSummary:
    """Run every active playbook over a scoring run's scores and issue the tasks they call for.

    ``run`` defaults to the latest successful run; ``today`` (default: today in the current time
    zone) dates the tasks and the purchase windows. Idempotent: a customer never gets a second
    open task for the same reason, and an action carried out within its cadence is not issued
    again. An offer (``CONSENT_PURPOSES``) is issued only to customers who agreed to marketing.
    All in one transaction, with one ``playbooks.ran`` event carrying the counts;
    ``dry_run`` counts without writing anything. ``ip_address`` (the caller's, from the API) goes on
    that event.
    """
    run = _run_resolve(run)
    today = today or timezone.localdate()
    now = timezone.now()
    if not dry_run:
        # Two concurrent runs would both see "no open task"; the second waits here instead.
        list(Playbook.objects.select_for_update().filter(is_active=True).values_list("pk"))
    summary = PlaybooksRunSummary(run_id=run.pk, as_of=run.as_of, today=today, dry_run=dry_run)
    active = selectors.playbooks_active()
    wordings = {} if dry_run else _wordings_current([a for _, actions in active for a in actions])
    for playbook, actions in active:
        counts = PlaybookCounts(code=playbook.code, name=playbook.name, trigger=playbook.trigger)
        summary.playbooks.append(counts)
        if not actions:
            continue
        execute = (
            _run_per_purchase if playbook.trigger == TriggerKind.PER_PURCHASE else _run_standing
        )
        execute(
            playbook,
            actions,
            run,
            counts,
            today=today,
            now=now,
            dry_run=dry_run,
            chunk_size=chunk_size,
            wordings=wordings,
        )
    if not dry_run:
        event_record(
            kind="playbooks.ran",
            actor=actor,
            subject=run,
            data={
                "run": run.pk,
                "today": today.isoformat(),
                "created": summary.created,
                "skipped_open": summary.skipped_open,
                "skipped_recent": summary.skipped_recent,
                "skipped_no_consent": summary.skipped_no_consent,
                "playbooks": {p.code: p.as_data() for p in summary.playbooks},
            },
            ip_address=ip_address,
        )
    return summary


# -- completing tasks from interactions --------------------------------------------------------


def _interactions_completing(interactions: Q) -> QuerySet[Interaction]:
    """The interactions among ``interactions`` that carry out the outer query's task, earliest
    first: the same customer's, with the task's purpose, made by the company (either side for
    joint work), on or after the task's ``completes_from`` — when it was issued, or when the
    order was placed for a task about an order."""
    return (
        Interaction.objects.filter(
            interactions,
            customer_id=OuterRef("customer_id"),
            purpose=OuterRef("purpose"),
            occurred_at__gte=OuterRef("completes_from"),
        )
        .filter(Q(direction=COMPLETING_DIRECTION) | Q(purpose__in=EITHER_DIRECTION_PURPOSES))
        .order_by("occurred_at", "id")
    )


def _tasks_mark_done(interactions: Q, tasks: Q) -> int:
    """One UPDATE: every open task among ``tasks`` that an interaction among ``interactions``
    carries out is done, completed by the earliest such interaction, at its time."""
    matching = _interactions_completing(interactions)
    return (
        Task.objects.open()
        .filter(tasks)
        .filter(Exists(matching))
        .update(
            status=TaskStatus.DONE,
            completed_by_interaction_id=Subquery(matching.values("id")[:1]),
            completed_at=Subquery(matching.values("occurred_at")[:1]),
            updated_at=timezone.now(),
        )
    )


@transaction.atomic
def tasks_complete_from_interactions(
    interactions: Iterable[Interaction], *, actor: Any = None
) -> list[Task]:
    """Mark done the open tasks that these (saved) interactions carry out; one ``task.completed``
    event per task. ``engagement.services.interaction_log`` calls this for each interaction."""
    ids, customers = set(), set()
    for interaction in interactions:
        ids.add(interaction.pk)
        customers.add(interaction.customer_id)
    if not ids:
        return []
    by_these = Q(pk__in=ids)
    candidates = list(
        Task.objects.open()
        .filter(customer_id__in=customers)
        .filter(Exists(_interactions_completing(by_these)))
        .values_list("pk", flat=True)
    )
    if not candidates:
        return []
    _tasks_mark_done(by_these, Q(pk__in=candidates))
    done = list(
        Task.objects.filter(pk__in=candidates, completed_by_interaction_id__in=ids)
        .select_related("customer")
        .order_by("pk")
    )
    # One INSERT for the events, however many tasks (a bulk load of interactions completes many).
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    subject_type = ContentType.objects.get_for_model(Task)
    Event.objects.bulk_create(
        Event(
            kind="task.completed",
            actor=actor_obj,
            customer_id=task.customer_id,
            subject_type=subject_type,
            subject_id=task.pk,
            data={"reason_key": task.reason_key, "interaction": task.completed_by_interaction_id},
        )
        for task in done
    )
    return done


@transaction.atomic
def tasks_complete_since(
    since: dt.datetime, *, actor: Any = None, chunk_size: int = CHUNK_SIZE
) -> int:
    """Mark done every open task carried out by an interaction written (created or changed) at or
    after ``since`` — call it after loading interactions in bulk, with the time the load began.

    Set-based and driven by the new interactions: for each ``chunk_size`` of them (read in id
    order), one UPDATE over their customers' open tasks. Records one ``tasks.completed`` summary
    event when anything was completed; returns the number of tasks completed.
    """
    written = Interaction.objects.filter(updated_at__gte=since).order_by("pk")
    completed, last = 0, 0
    while True:
        rows = list(written.filter(pk__gt=last).values_list("pk", "customer_id")[:chunk_size])
        if rows:
            ids = [pk for pk, _ in rows]
            customers = {customer_id for _, customer_id in rows}
            completed += _tasks_mark_done(Q(pk__in=ids), Q(customer_id__in=customers))
        if len(rows) < chunk_size:
            break
        last = rows[-1][0]
    if completed:
        event_record(
            kind="tasks.completed",
            actor=actor,
            data={"since": since.isoformat(), "completed": completed},
        )
    return completed


# -- one task at a time ------------------------------------------------------------------------


def _task_lock(task: Task) -> Task:
    return Task.objects.select_for_update().select_related("customer").get(pk=task.pk)


def _require_open(task: Task, message: str) -> None:
    """``message`` says what only an open task can undergo; it has a ``%(status)s`` slot."""
    if task.status != TaskStatus.OPEN:
        raise GuanxiError(
            message % {"status": task.get_status_display()},
            code=ErrorCode.INVALID_TRANSITION,
            field="status",
        )


@transaction.atomic
def task_create(
    *,
    customer: Customer,
    title: str,
    due_on: dt.date,
    purpose: str,
    reason: str = "",
    owner: Any = None,
    actor: Any = None,
    reason_key: str | None = None,
    order: Order | None = None,
    channel: str = "",
    priority: str = TaskPriority.NORMAL,
) -> Task:
    """Create a task by hand, with its title and reason as written. Its reason key defaults to a
    fresh ``manual:<uuid>`` (pass one to keep a single open task per reason). An offer is refused
    for a customer who did not agree to marketing."""
    key = reason_key or f"manual:{uuid.uuid4().hex}"
    if purpose in CONSENT_PURPOSES and not customer.marketing_consent:
        raise GuanxiError(
            _(
                "This customer has not agreed to be contacted with offers; choose another "
                "purpose, or record their marketing consent first."
            ),
            code=ErrorCode.NOT_ALLOWED,
            field="purpose",
        )
    if Task.objects.open().filter(customer=customer, reason_key=key).exists():
        raise GuanxiError(
            _("This customer already has an open task for the reason %(key)s.") % {"key": key},
            code=ErrorCode.CONFLICT,
            field="reason_key",
        )
    if not title.strip():
        raise GuanxiError(_("Give the task a title."), field="title")
    task = Task(
        customer=customer,
        reason_key=key,
        purpose=purpose,
        channel=channel,
        priority=priority,
        due_on=due_on,
        owner=owner,
        order=order,
        completes_from=order.placed_at if order is not None else timezone.now(),
        custom_title=title,
        custom_reason=reason,
    )
    task.full_clean()
    task.save()
    event_record(
        kind="task.created",
        actor=actor,
        customer=customer,
        subject=task,
        data={"reason_key": key, "due_on": due_on.isoformat(), "purpose": purpose},
    )
    return task


@transaction.atomic
def task_complete(
    *,
    task: Task,
    actor: Any = None,
    interaction: Interaction | None = None,
    at: dt.datetime | None = None,
) -> Task:
    """Mark an open task done, optionally naming the interaction that carried it out."""
    task = _task_lock(task)
    _require_open(task, _("This task is %(status)s; only an open task can be completed."))
    if interaction is not None and interaction.customer_id != task.customer_id:
        raise GuanxiError(
            _("The interaction is with another customer than the task."), field="interaction"
        )
    task.status = TaskStatus.DONE
    task.completed_at = at or (interaction.occurred_at if interaction else timezone.now())
    task.completed_by_interaction = interaction
    task.save(update_fields=["status", "completed_at", "completed_by_interaction", "updated_at"])
    event_record(
        kind="task.completed",
        actor=actor,
        customer=task.customer,
        subject=task,
        data={"reason_key": task.reason_key, "interaction": getattr(interaction, "pk", None)},
    )
    return task


@transaction.atomic
def task_cancel(*, task: Task, actor: Any = None, at: dt.datetime | None = None) -> Task:
    """Cancel an open task. A playbook does not issue it again within the action's cadence."""
    task = _task_lock(task)
    _require_open(task, _("This task is %(status)s; only an open task can be cancelled."))
    task.status = TaskStatus.CANCELLED
    task.cancelled_at = at or timezone.now()
    task.save(update_fields=["status", "cancelled_at", "updated_at"])
    event_record(
        kind="task.cancelled",
        actor=actor,
        customer=task.customer,
        subject=task,
        data={"reason_key": task.reason_key},
    )
    return task


@transaction.atomic
def task_assign(*, task: Task, owner: Any, actor: Any = None) -> Task:
    """Give an open task to another owner (``None``: back to the unassigned pool)."""
    task = _task_lock(task)
    _require_open(task, _("This task is %(status)s; only an open task can be reassigned."))
    old = task.owner_id
    new = getattr(owner, "pk", None)
    if old == new:
        return task
    task.owner = owner
    task.save(update_fields=["owner", "updated_at"])
    event_record(
        kind="task.assigned",
        actor=actor,
        customer=task.customer,
        subject=task,
        data={"from": old, "to": new},
    )
    return task
