"""Scoring in the background: the tasks, the nightly schedule and ``guanxi schedule``.

The worker tests run django-tasks-db's own ``db_worker --batch`` in this process against the real
test database. The worker commits as it goes (and closes connections that are inside a
transaction), so those tests are transactional.
"""

import datetime as dt
import io
import os
import signal
import subprocess
import sys
import zoneinfo

import pytest
from django.core.management import call_command
from django.db.models import F
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from guanxi.parties.models import Customer
from guanxi.sales.models import Order
from guanxi.scoring.models import CustomerScore, ScoringRun
from guanxi.scoring.tasks import (
    NightlySchedule,
    next_occurrence,
    nightly_as_of,
    nightly_ensure,
    nightly_pending,
    nightly_scoring,
    score_customers,
)

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
UTC = dt.UTC
TWO_AM = dt.time(2, 0)
AS_OF = dt.date(2025, 6, 30)  # the end of the history _store() writes


def _store(n_customers: int) -> None:
    """The scoring service tests' small store (imported late: it imports the whole engine)."""
    from tests.scoring.test_services import _store as store

    store(n_customers=n_customers)


def _local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def shanghai_2am(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    settings.NIGHTLY_AT = TWO_AM
    return settings


def _work() -> str:
    """Run every task that is due in this process, like ``guanxi db_worker --batch``."""
    signals = [signal.SIGINT, signal.SIGTERM, signal.SIGQUIT]
    handlers = {s: signal.getsignal(s) for s in signals}  # the worker installs its own
    out = io.StringIO()
    try:
        call_command(
            "db_worker",
            "--batch",
            "--queue-name",
            "*",
            "--no-reload",
            "--no-startup-delay",
            "--interval",
            "0",
            verbosity=0,
            stdout=out,
        )
    finally:
        for s, handler in handlers.items():
            signal.signal(s, handler)
    return out.getvalue()


def _schedule(*args: str) -> str:
    out = io.StringIO()
    call_command("schedule", *args, stdout=out)
    return out.getvalue()


# --- the next occurrence of GUANXI_NIGHTLY_AT ---------------------------------------------------


@pytest.mark.parametrize(
    ("now", "at", "expected"),
    [
        # Before the time today: today.
        (_local(2026, 11, 23, 1, 59, 59), TWO_AM, _local(2026, 11, 23, 2, 0)),
        # Exactly at the time: strictly after, so tomorrow (a run never re-schedules itself now).
        (_local(2026, 11, 23, 2, 0), TWO_AM, _local(2026, 11, 24, 2, 0)),
        (_local(2026, 11, 23, 2, 0, 0, 1), TWO_AM, _local(2026, 11, 24, 2, 0)),
        # Around midnight.
        (_local(2026, 11, 23, 23, 59, 59), TWO_AM, _local(2026, 11, 24, 2, 0)),
        (_local(2026, 11, 24, 0, 0), TWO_AM, _local(2026, 11, 24, 2, 0)),
        (_local(2026, 11, 23, 23, 59, 59), dt.time(0, 0), _local(2026, 11, 24, 0, 0)),
        (_local(2026, 11, 24, 0, 0), dt.time(0, 0), _local(2026, 11, 25, 0, 0)),
        (_local(2026, 11, 23, 23, 30), dt.time(23, 45), _local(2026, 11, 23, 23, 45)),
        # Month, year and leap-day boundaries.
        (_local(2026, 12, 31, 23, 30), TWO_AM, _local(2027, 1, 1, 2, 0)),
        (_local(2028, 2, 28, 3, 0), TWO_AM, _local(2028, 2, 29, 2, 0)),
        # `now` in UTC: 17:30 UTC is already 01:30 the next day in Shanghai (UTC+8) ...
        (dt.datetime(2026, 11, 23, 17, 30, tzinfo=UTC), TWO_AM, _local(2026, 11, 24, 2, 0)),
        # ... and 18:30 UTC is 02:30 there, past the time: the night after.
        (dt.datetime(2026, 11, 23, 18, 30, tzinfo=UTC), TWO_AM, _local(2026, 11, 25, 2, 0)),
    ],
)
def test_next_occurrence_is_the_next_local_time_strictly_after_now(now, at, expected):
    got = next_occurrence(at, now=now, time_zone="Asia/Shanghai")
    assert got == expected
    assert got.tzinfo is UTC
    assert now < got <= now + dt.timedelta(days=1)


def test_in_shanghai_nights_are_exactly_a_day_apart_all_year():
    """Asia/Shanghai has no daylight saving: 02:00 local is always 18:00 UTC the day before."""
    when = _local(2026, 1, 1, 0, 0)
    for _ in range(366):
        following = next_occurrence(TWO_AM, now=when, time_zone="Asia/Shanghai")
        assert following.time() == dt.time(18, 0)
        if when.hour == 18:
            assert following - when == dt.timedelta(days=1)
        when = following


def test_a_time_in_a_daylight_saving_gap_or_repeat_runs_once():
    berlin = "Europe/Berlin"
    at = dt.time(2, 30)
    # 2026-03-29: clocks go from 02:00 to 03:00; 02:30 does not exist → 03:30 CEST (01:30 UTC).
    spring = next_occurrence(at, now=dt.datetime(2026, 3, 28, 12, tzinfo=UTC), time_zone=berlin)
    assert spring == dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    # 2026-10-25: 02:30 happens twice; the first (CEST, 00:30 UTC), and not again an hour later.
    autumn = next_occurrence(at, now=dt.datetime(2026, 10, 24, 23, tzinfo=UTC), time_zone=berlin)
    assert autumn == dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    again = next_occurrence(at, now=autumn, time_zone=berlin)
    assert again == dt.datetime(2026, 10, 26, 1, 30, tzinfo=UTC)  # 02:30 CET the next day


def test_next_occurrence_needs_an_aware_now():
    with pytest.raises(ValueError, match="aware"):
        next_occurrence(TWO_AM, now=dt.datetime(2026, 1, 1))


def test_a_nightly_run_scores_the_previous_local_day(shanghai_2am):
    # 17:30 UTC on the 23rd is 01:30 on the 24th in Shanghai: the day just ended is the 23rd.
    assert nightly_as_of(dt.datetime(2026, 11, 23, 17, 30, tzinfo=UTC)) == dt.date(2026, 11, 23)
    assert nightly_as_of(_local(2026, 11, 24, 2, 0)) == dt.date(2026, 11, 23)


def _guanxi_check(nightly_at: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUANXI_")}
    env["GUANXI_DATABASE_URL"] = "sqlite:///:memory:"
    env["GUANXI_NIGHTLY_AT"] = nightly_at
    return subprocess.run(
        [sys.executable, "-m", "guanxi", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("value", ["24:00", "2am", "02:60"])
def test_a_bad_nightly_time_is_named_with_the_fix(value):
    result = _guanxi_check(value)
    assert result.returncode != 0
    assert "GUANXI_NIGHTLY_AT" in result.stderr
    assert "HH:MM" in result.stderr


def test_a_nightly_time_without_a_leading_zero_is_accepted():
    result = _guanxi_check("3:15")
    assert result.returncode == 0, result.stderr


# --- guanxi schedule ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_schedule_is_idempotent(shanghai_2am):
    first = _schedule()
    second = _schedule()

    pending = list(nightly_pending())
    assert len(pending) == 1
    task = pending[0]
    assert task.queue_name == "scoring"
    before = timezone.now()
    assert before < task.run_after <= before + dt.timedelta(days=1)
    assert task.run_after.astimezone(SHANGHAI).time() == TWO_AM
    assert "Nightly scoring scheduled for" in first
    assert "Nightly scoring is scheduled for" in second
    local = task.run_after.astimezone(SHANGHAI)
    assert f"{local:%Y-%m-%d} 02:00 Asia/Shanghai" in second
    assert str(task.pk) in first and str(task.pk) in second
    assert "guanxi db_worker" in second


@pytest.mark.django_db
def test_schedule_moves_a_pending_run_when_the_time_changes(shanghai_2am):
    _schedule()
    shanghai_2am.NIGHTLY_AT = dt.time(3, 15)
    out = _schedule()

    pending = list(nightly_pending())
    assert len(pending) == 1
    assert pending[0].run_after.astimezone(SHANGHAI).time() == dt.time(3, 15)
    assert "rescheduled" in out and "03:15" in out


@pytest.mark.django_db
def test_schedule_cancel_removes_the_pending_nightly_run_only(shanghai_2am):
    _schedule("--now")
    assert nightly_pending().count() == 1

    out = _schedule("--cancel")
    assert "Removed 1 pending nightly scoring run." in out
    assert nightly_pending().count() == 0
    # The immediate run --now enqueued is not a nightly one; --cancel leaves it.
    assert DBTaskResult.objects.filter(task_path=score_customers.module_path).count() == 1
    assert "No nightly scoring run was pending." in _schedule("--cancel")


@pytest.mark.django_db
def test_schedule_now_enqueues_a_run_for_the_next_free_worker(shanghai_2am):
    out = _schedule("--now", "--as-of", "2025-06-30")

    now_runs = DBTaskResult.objects.filter(task_path=score_customers.module_path)
    assert now_runs.count() == 1
    queued = now_runs.get()
    assert queued.status == TaskResultStatus.READY
    assert queued.run_after == get_date_max()  # not deferred
    assert queued.args_kwargs == {"args": [], "kwargs": {"as_of": "2025-06-30"}}
    assert str(queued.pk) in out
    assert nightly_pending().count() == 1  # --now keeps the nightly schedule too


@pytest.mark.django_db
def test_extra_pending_nightly_runs_are_collapsed_and_an_overdue_one_is_kept(shanghai_2am):
    now = timezone.now()
    overdue = next_occurrence(TWO_AM, now=now - dt.timedelta(days=2))
    nightly_scoring.using(run_after=overdue).enqueue()
    nightly_scoring.using(run_after=overdue + dt.timedelta(days=1)).enqueue()

    schedule = nightly_ensure()
    assert isinstance(schedule, NightlySchedule)
    assert schedule.action == "kept"
    assert [t.run_after for t in nightly_pending()] == [overdue]
    assert "overdue" in _schedule()


# --- the worker -----------------------------------------------------------------------------------

# The worker commits, so these tests are transactional: the tables are emptied after each one.
# pytest-django runs them after every test that rolls back, so only other transactional tests
# could miss the rows data migrations write (role groups); serialized_rollback would restore those
# at the price of serialising the whole test database at set-up for every run.
worker_db = pytest.mark.django_db(transaction=True)


def _shift_history_to_end_on(day: dt.date) -> None:
    """Move every order so the history _store() wrote ends on ``day`` instead of AS_OF."""
    shift = day - AS_OF
    Order.objects.update(placed_at=F("placed_at") + shift, delivered_on=F("delivered_on") + shift)


@worker_db
def test_the_worker_runs_an_enqueued_scoring_run(user):
    _store(n_customers=120)
    result = score_customers.enqueue(as_of=AS_OF.isoformat(), started_by_id=user.pk)
    assert result.status == TaskResultStatus.READY

    _work()
    result.refresh()
    run = ScoringRun.objects.get()
    assert result.status == TaskResultStatus.SUCCESSFUL, result.errors
    assert result.return_value == run.pk
    assert run.status == "succeeded"
    assert run.as_of == AS_OF
    assert run.started_by == user
    scored = set(CustomerScore.objects.filter(run=run).values_list("customer_id", flat=True))
    assert scored == set(Customer.objects.values_list("pk", flat=True))
    assert len(scored) == 120


@worker_db
def test_the_nightly_run_scores_yesterday_and_schedules_the_next_night(settings):
    settings.NIGHTLY_AT = TWO_AM
    _store(n_customers=120)
    started = timezone.now()
    _shift_history_to_end_on(nightly_as_of(started))  # a store that was busy until yesterday
    result = nightly_scoring.enqueue()  # due now, as if its night had come

    _work()
    result.refresh()
    run = ScoringRun.objects.get()
    assert run.as_of in {nightly_as_of(started), nightly_as_of()}
    pending = list(nightly_pending())
    assert len(pending) == 1
    assert pending[0].pk != result.id
    assert pending[0].run_after in {next_occurrence(TWO_AM, now=started), next_occurrence(TWO_AM)}
    assert result.status == TaskResultStatus.SUCCESSFUL, result.errors
    assert result.return_value == run.pk
    assert run.status == "succeeded"
    assert CustomerScore.objects.filter(run=run).count() == 120


@worker_db
def test_a_failed_nightly_run_is_recorded_and_still_schedules_the_next_night(settings, monkeypatch):
    settings.NIGHTLY_AT = TWO_AM
    _store(n_customers=20)

    def lost_connection(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("guanxi.scoring.services.transactions_extract", lost_connection)
    result = nightly_scoring.enqueue()

    _work()
    result.refresh()
    assert result.status == TaskResultStatus.FAILED
    assert result.errors[0].exception_class_path == "builtins.RuntimeError"
    assert len(list(nightly_pending())) == 1  # the next night is still on
    run = ScoringRun.objects.get()
    assert run.status == "failed"
    assert run.error == "RuntimeError: the database went away"
    assert CustomerScore.objects.count() == 0
