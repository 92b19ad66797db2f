"""Reads over scoring: who may start a run, the requests waiting for a worker, runs and scores.

The pages (``scoring.views``) and the REST API (``scoring.api``) both read through these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.tasks import TaskResultStatus
from django.utils.dateparse import parse_date
from django_tasks_db.models import DBTaskResult

from guanxi.core.choices import Role
from guanxi.parties.selectors import user_roles, visible_through_customer
from guanxi.scoring.choices import RunStatus
from guanxi.scoring.models import CustomerScore, ScoringRun
from guanxi.scoring.tasks import score_customers

# Who may start a scoring run: it reads every customer but shows none, and takes a while.
RUN_STARTERS = frozenset({Role.ADMIN, Role.MANAGER, Role.ANALYST})


def runs_startable(*, user: Any) -> bool:
    """Whether ``user`` may start a scoring run (admin, manager, analyst)."""
    return bool(user_roles(user) & RUN_STARTERS)


@dataclass(frozen=True)
class QueuedRun:
    """A requested run no worker has taken yet."""

    task_id: str
    as_of: Any
    requested_by: Any
    enqueued_at: Any


def runs_queued() -> list[QueuedRun]:
    """The ``score_customers`` tasks waiting for a worker, oldest first (two queries)."""
    tasks = list(
        DBTaskResult.objects.filter(
            status=TaskResultStatus.READY,
            task_path=score_customers.module_path,
            backend_name=score_customers.backend,
        )
        .only("id", "args_kwargs", "enqueued_at")
        .order_by("enqueued_at")
    )
    kwargs = [(t, (t.args_kwargs or {}).get("kwargs", {})) for t in tasks]
    user_ids = {k.get("started_by_id") for _t, k in kwargs} - {None}
    users = get_user_model().objects.in_bulk(user_ids) if user_ids else {}
    return [
        QueuedRun(
            task_id=str(t.pk),
            as_of=parse_date(k["as_of"]) if k.get("as_of") else None,
            requested_by=users.get(k.get("started_by_id")),
            enqueued_at=t.enqueued_at,
        )
        for t, k in kwargs
    ]


def runs_list() -> QuerySet[ScoringRun]:
    """Every scoring run with who started it, without the bulky JSON columns (for lists)."""
    return ScoringRun.objects.select_related("started_by").defer("metadata", "config", "policy")


def run_latest_succeeded_id() -> int | None:
    """The id of the most recent successful run (by as-of date, then id), as the dashboard
    reads it (``hierarchy.selectors.latest_run``); None before the first one."""
    return (
        ScoringRun.objects.filter(status=RunStatus.SUCCEEDED)
        .order_by("-as_of", "-id")
        .values_list("pk", flat=True)
        .first()
    )


def scores_visible(*, user: Any) -> QuerySet[CustomerScore]:
    """The score snapshots of the customers ``user`` may see, in every run, with the customer's
    id, external id and name (no personal data) joined in."""
    scores = CustomerScore.objects.select_related("customer").defer(
        *(
            f"customer__{f.name}"
            for f in CustomerScore._meta.get_field("customer").related_model._meta.concrete_fields
            if f.name not in {"id", "external_id", "name"}
        )
    )
    return visible_through_customer(scores, user=user)
