"""Scoring in the background: Django's Tasks framework with the database worker of django-tasks-db.

* ``score_customers`` is one scoring run (``guanxi schedule --now``, or a page that starts a run).
* ``nightly_scoring`` scores every customer as of **yesterday** (the last complete business day in
  ``settings.TIME_ZONE``) and then enqueues itself for the next ``settings.NIGHTLY_AT``
  (``GUANXI_NIGHTLY_AT``). Yesterday rather than today, so a run that starts late (a worker was
  down) or is repeated scores exactly the same purchases as a run on time.

Both run on the ``scoring`` queue: ``guanxi db_worker --queue-name default,scoring`` runs them
(docs/operations.md). There is at most one pending nightly task: ``nightly_ensure`` checks the task
table for a READY one under a lock before it enqueues another. A failed run is recorded on its
``ScoringRun`` by ``scoring_run_execute`` and on the task result by the worker, and still schedules
the next night.
"""

import dataclasses
import datetime as dt
import zoneinfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections, router, transaction
from django.tasks import TaskResultStatus, task
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

QUEUE = "scoring"
# pg_advisory_xact_lock key serialising the "is a nightly task pending?" check and the enqueue.
_SCHEDULE_LOCK = 0x67780001  # "gx" 1


@task(queue_name=QUEUE)
def score_customers(as_of: str | None = None, started_by_id: int | None = None) -> int:
    """Score every customer as of ``as_of`` (ISO date; default today) and return the run's id."""
    from guanxi.scoring.services import scoring_run_execute  # the engine: heavy, import late

    day = dt.date.fromisoformat(as_of) if as_of else None
    actor = None
    if started_by_id is not None:
        actor = get_user_model().objects.filter(pk=started_by_id).first()
    return scoring_run_execute(as_of=day, actor=actor).pk


@task(queue_name=QUEUE)
def nightly_scoring() -> int:
    """Score every customer as of yesterday, then schedule the next night (even on failure)."""
    try:
        from guanxi.scoring.services import scoring_run_execute

        return scoring_run_execute(as_of=nightly_as_of()).pk
    finally:
        nightly_ensure()


def nightly_as_of(now: dt.datetime | None = None) -> dt.date:
    """The business day a nightly run started at ``now`` scores: the day before, locally."""
    return timezone.localdate(now or timezone.now()) - dt.timedelta(days=1)


def next_occurrence(
    at: dt.time, *, now: dt.datetime | None = None, time_zone: str | None = None
) -> dt.datetime:
    """The first instant strictly after ``now`` at which the clock in ``time_zone`` shows ``at``.

    Returned in UTC. On a day whose ``at`` falls in a daylight-saving gap the run starts as the
    clocks go forward (02:30 in a gap from 02:00 to 03:00 becomes 03:30); in a repeated hour it
    starts at the first of the two. ``time_zone`` defaults to ``settings.TIME_ZONE``.
    """
    now = now or timezone.now()
    if timezone.is_naive(now):
        raise ValueError("now must be an aware datetime")
    tz = zoneinfo.ZoneInfo(time_zone or settings.TIME_ZONE)
    today = now.astimezone(tz).date()
    for day in (today, today + dt.timedelta(days=1)):
        # Via UTC, so a wall time in a gap is resolved and comparisons are between instants.
        candidate = dt.datetime.combine(day, at, tzinfo=tz).astimezone(dt.UTC)
        if candidate > now:
            return candidate
    raise AssertionError("unreachable: tomorrow's occurrence is always after now")


@dataclasses.dataclass(frozen=True)
class NightlySchedule:
    """Where the nightly task stands after ``nightly_ensure``."""

    task_id: str
    run_after: dt.datetime
    # "kept" (one was already pending at the configured time), "scheduled" (none was pending),
    # "rescheduled" (pending ones at another time of day were replaced).
    action: str

    @property
    def as_of(self) -> dt.date:
        return nightly_as_of(self.run_after)


def nightly_pending():
    """The nightly tasks waiting to run (READY, whenever their run_after)."""
    return DBTaskResult.objects.filter(
        status=TaskResultStatus.READY,
        task_path=nightly_scoring.module_path,
        backend_name=nightly_scoring.backend,
    ).order_by("run_after", "enqueued_at")


def _is_occurrence(when: dt.datetime, at: dt.time) -> bool:
    return next_occurrence(at, now=when - dt.timedelta(microseconds=1)) == when


def _lock_schedule(using: str) -> None:
    """Serialise concurrent ``nightly_ensure`` calls until the end of the transaction.

    PostgreSQL: an advisory lock. SQLite: the transaction itself (Guanxi opens them IMMEDIATE,
    which takes the database's write lock at BEGIN).
    """
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_SCHEDULE_LOCK])


def nightly_ensure(*, now: dt.datetime | None = None) -> NightlySchedule:
    """Make sure exactly one nightly task is pending, at the configured time of day.

    A pending task at ``settings.NIGHTLY_AT`` is kept, even if it is overdue (it runs as soon as a
    worker takes it). Pending tasks at another time of day (``GUANXI_NIGHTLY_AT`` was changed) are
    replaced by one at the next occurrence of the configured time.
    """
    at = settings.NIGHTLY_AT
    using = router.db_for_write(DBTaskResult)
    with transaction.atomic(using=using):
        _lock_schedule(using)
        pending = list(nightly_pending().using(using))
        keep = next((p for p in pending if _is_occurrence(p.run_after, at)), None)
        extra = [p.pk for p in pending if p is not keep]
        if extra:
            DBTaskResult.objects.using(using).filter(pk__in=extra).delete()
        if keep is not None:
            return NightlySchedule(task_id=str(keep.pk), run_after=keep.run_after, action="kept")
        when = next_occurrence(at, now=now)
        result = nightly_scoring.using(run_after=when).enqueue()
        return NightlySchedule(
            task_id=str(result.id),
            run_after=when,
            action="rescheduled" if pending else "scheduled",
        )


def nightly_cancel() -> int:
    """Remove every pending nightly task; return how many there were.

    A nightly run already in progress still schedules the next night when it ends.
    """
    using = router.db_for_write(DBTaskResult)
    with transaction.atomic(using=using):
        _lock_schedule(using)
        deleted, _ = nightly_pending().using(using).delete()
    return deleted
