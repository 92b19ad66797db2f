"""Reads for playbooks and tasks: the scores a playbook matches, the run to act on, task lists."""

import datetime as dt
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from guanxi.core.choices import Role
from guanxi.parties.selectors import user_roles, visible_through_customer
from guanxi.playbooks.choices import (
    COMPLETING_DIRECTION,
    CONDITION_LOOKUPS,
    EITHER_DIRECTION_PURPOSES,
    TaskStatus,
)
from guanxi.playbooks.models import Playbook, PlaybookAction, Task
from guanxi.scoring.models import CustomerScore, ScoringRun


def playbook_conditions_q(playbook: Playbook) -> Q:
    """The playbook's conditions as a filter on ``CustomerScore`` (empty lists allow any value)."""
    q = Q(customer__is_active=True)
    for name, values in playbook.conditions().items():
        q &= Q(**{f"{CONDITION_LOOKUPS[name]}__in": values})
    return q


def scores_matching(playbook: Playbook, run: ScoringRun | int) -> QuerySet[CustomerScore]:
    """The score snapshots of ``run`` whose customer the playbook applies to."""
    return CustomerScore.objects.filter(playbook_conditions_q(playbook), run=run)


def interactions_completing_q(purpose: str, *, prefix: str = "") -> Q:
    """Interactions that carry out a task of ``purpose``: the same purpose, made by the company
    (outbound) — or in either direction for joint work."""
    q = Q(**{f"{prefix}purpose": purpose})
    if purpose not in EITHER_DIRECTION_PURPOSES:
        q &= Q(**{f"{prefix}direction": COMPLETING_DIRECTION})
    return q


def playbooks_active() -> list[tuple[Playbook, list[PlaybookAction]]]:
    """Each active playbook with its actions in position order (two queries)."""
    playbooks = list(Playbook.objects.filter(is_active=True).order_by("code"))
    actions: dict[int, list[PlaybookAction]] = {p.pk: [] for p in playbooks}
    for action in (
        PlaybookAction.objects.filter(playbook__in=playbooks)
        .select_related("playbook")
        .order_by("playbook_id", "position")
    ):
        actions[action.playbook_id].append(action)
    return [(p, actions[p.pk]) for p in playbooks]


def tasks_visible(*, user: Any) -> QuerySet[Task]:
    """The tasks of customers ``user`` may see (whoever owns them)."""
    return visible_through_customer(Task.objects.all(), user=user)


def task_change_allowed(*, user: Any, task: Task, assign: bool = False) -> bool:
    """Whether ``user`` (a role that works with customers) may complete or cancel ``task`` — its
    owner or a manager — or, with ``assign``, hand it over: also anyone, if nobody owns it."""
    if user_roles(user) & {Role.MANAGER, Role.ADMIN}:
        return True
    allowed = {user.pk, None} if assign else {user.pk}
    return task.owner_id in allowed


def playbooks_with_actions() -> QuerySet[Playbook]:
    """Every playbook, active or not, with its actions in position order (two queries)."""
    return Playbook.objects.prefetch_related(
        Prefetch("actions", queryset=PlaybookAction.objects.order_by("position"))
    ).order_by("code")


def tasks_open(*, owner: Any = None, customer: Any = None) -> QuerySet[Task]:
    """Open tasks, soonest due first, optionally of one owner or one customer."""
    qs = Task.objects.open().select_related("customer", "owner", "order", "wording")
    if owner is not None:
        qs = qs.filter(owner=owner)
    if customer is not None:
        qs = qs.filter(customer=customer)
    return qs.order_by("due_on", "id")


def tasks_overdue(*, today: dt.date, owner: Any = None) -> QuerySet[Task]:
    """Open tasks whose due date has passed."""
    return tasks_open(owner=owner).filter(due_on__lt=today)


def task_counts_by_status(*, customer: Any = None) -> dict[str, int]:
    qs = Task.objects.all() if customer is None else Task.objects.filter(customer=customer)
    counts = dict.fromkeys(TaskStatus.values, 0)
    for status, n in qs.order_by().values_list("status").annotate(n=Count("id")):
        counts[status] = n
    return counts
