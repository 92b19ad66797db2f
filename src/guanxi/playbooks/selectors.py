"""Reads for playbooks and tasks: the scores a playbook matches, the run to act on, task lists."""

import datetime as dt
from typing import Any

from django.db.models import Count, Q, QuerySet

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
