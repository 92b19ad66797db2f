"""Scoring runs: extract purchases, run the analytics engine, store one snapshot per customer."""

import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.analytics.config import ScoringConfig
from guanxi.analytics.relationship import RelationshipPolicy
from guanxi.core.errors import ErrorCode, GuanxiError
from guanxi.core.services import event_record
from guanxi.hierarchy.models import HierarchyPolicy
from guanxi.playbooks.services import playbooks_run
from guanxi.scoring.choices import RunStatus
from guanxi.scoring.extract import customers_extract, transactions_extract
from guanxi.scoring.models import ScoringRun
from guanxi.scoring.selectors import QueuedRun, runs_queued, runs_startable
from guanxi.scoring.standing import standing_add
from guanxi.scoring.tasks import score_customers

ProgressCallback = Callable[[str, float], None]
logger = logging.getLogger(__name__)


# The analytics engine (scipy, ibis) takes seconds to import; it is loaded on the first run, so the
# web process, which only queues runs (``scoring_run_request``), never pays for it.


def score(*args: Any, **kwargs: Any) -> Any:
    """``guanxi.analytics.pipeline.score``, imported on first use."""
    from guanxi.analytics.pipeline import score as engine_score

    return engine_score(*args, **kwargs)


def scores_store(*, run_id: int, table: Any) -> int:
    """``guanxi.scoring.store.scores_store``, imported on first use."""
    from guanxi.scoring.store import scores_store as store

    return store(run_id=run_id, table=table)


def score_changes_record(run: ScoringRun) -> Any:
    """``guanxi.scoring.store.score_changes_record``, imported on first use."""
    from guanxi.scoring.store import score_changes_record as record

    return record(run)


# pg_advisory_xact_lock key serialising "is a run waiting?" and the enqueue ("gx" 2; the nightly
# schedule holds "gx" 1).
_REQUEST_LOCK = 0x67780002


def _lock_requests() -> None:
    """Serialise concurrent run requests until the end of the transaction.

    PostgreSQL: an advisory lock. SQLite: the transaction itself (Guanxi opens them IMMEDIATE,
    which takes the database's write lock at BEGIN).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_REQUEST_LOCK])


@transaction.atomic
def scoring_run_request(
    *, actor: Any, as_of: dt.date | None = None, ip_address: str | None = None
) -> QueuedRun:
    """Queue a scoring run as of ``as_of`` (None: the day a worker takes it) for a worker.

    Only admin, manager and analyst may (``runs_startable``). Refused with ``conflict`` while a
    requested run still waits for a worker: that one will score every customer too. A run in
    progress does not refuse a request: the new run waits for the worker and then scores what has
    changed meanwhile, and a run whose worker was killed stays "running" for ever
    (docs/operations.md) and must not block every later run. The worker creates the
    ``ScoringRun`` when it takes the task (``scoring.tasks.score_customers``); until then the
    request is listed by ``runs_queued``.
    """
    if not runs_startable(user=actor):
        raise GuanxiError(
            _("Only administrators, managers and analysts may start a run."),
            code=ErrorCode.NOT_ALLOWED,
        )
    if as_of is not None and as_of > timezone.localdate():
        raise GuanxiError(
            _("A scoring run cannot look ahead: choose today or an earlier day."),
            code=ErrorCode.INVALID,
            field="as_of",
        )
    _lock_requests()
    if runs_queued():
        raise GuanxiError(
            _("A scoring run is already waiting for a worker; it will score every customer."),
            code=ErrorCode.CONFLICT,
        )
    day = as_of.isoformat() if as_of else None
    result = score_customers.enqueue(as_of=day, started_by_id=actor.pk)
    event_record(
        kind="scoring_run.queued",
        actor=actor,
        data={"task_id": str(result.id), "as_of": day},
        ip_address=ip_address,
    )
    return QueuedRun(
        task_id=str(result.id), as_of=as_of, requested_by=actor, enqueued_at=result.enqueued_at
    )


def scoring_run_execute(
    *,
    as_of: dt.date | None = None,
    config: ScoringConfig | None = None,
    policy: RelationshipPolicy | None = None,
    actor: Any = None,
    progress: ProgressCallback | None = None,
    run_playbooks: bool = True,
) -> ScoringRun:
    """Score every customer and keep the run.

    The run row is committed first (so its progress can be watched); the scores and the final
    status are written in one transaction, so a failed run keeps no partial scores and its
    ``error`` says why. Errors are re-raised after they are recorded.
    """
    as_of = as_of or timezone.localdate()
    config = config or ScoringConfig()
    policy = policy or HierarchyPolicy.current().to_policy()
    run = ScoringRun.objects.create(
        as_of=as_of,
        config=config.to_dict(),
        policy=policy.to_dict(),
        started_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    started = time.perf_counter()

    def report(step: str, fraction: float) -> None:
        ScoringRun.objects.filter(pk=run.pk).update(step=step[:32], progress=fraction)
        if progress is not None:
            progress(step, fraction)

    try:
        report("extract", 0.0)
        extract_started = time.perf_counter()
        transactions = transactions_extract(as_of=as_of)
        customers = customers_extract().select(["customer_id"])
        extracted = time.perf_counter() - extract_started
        result = score(transactions, as_of, config, customers=customers, progress=report)
        report("standing", 0.9)
        timings = result.metadata.setdefault("timings_s", {})
        timings["extract"] = round(extracted, 3)
        table = standing_add(
            result.table, purchases=transactions, as_of=as_of, policy=policy, timings=timings
        )
        report("store", 0.95)
        with transaction.atomic():
            store_started = time.perf_counter()
            n = scores_store(run_id=run.pk, table=table)
            stored = time.perf_counter()
            timings["store"] = round(stored - store_started, 3)
            changes = score_changes_record(run)
            timings["changes"] = round(time.perf_counter() - stored, 3)
            run.status = RunStatus.SUCCEEDED
            run.metadata = result.metadata | {"changes": changes}
            run.n_transactions = transactions.num_rows
            run.n_customers = n
            run.progress = 1.0
            run.step = "done"
            run.finished_at = timezone.now()
            run.duration_s = round(time.perf_counter() - started, 3)
            run.save()
            event_record(
                kind="scoring_run.succeeded",
                actor=actor,
                subject=run,
                data={"as_of": as_of.isoformat(), "customers": n},
            )
    except Exception as exc:
        run.status = RunStatus.FAILED
        run.error = f"{type(exc).__name__}: {exc}"
        run.finished_at = timezone.now()
        run.duration_s = round(time.perf_counter() - started, 3)
        run.save()
        event_record(
            kind="scoring_run.failed", actor=actor, subject=run, data={"error": run.error[:500]}
        )
        raise
    if run_playbooks:
        _playbooks_after(run, actor)
    return run


def _playbooks_after(run: ScoringRun, actor: Any) -> None:
    """Issue the playbooks' tasks for the new standing; a failure here does not undo the run.

    Tasks are dated from the day after the run's as-of date, or today if that is earlier (a
    run over an old as-of date, such as the demo's, dates them as the company would have).
    """
    today = min(timezone.localdate(), run.as_of + dt.timedelta(days=1))
    try:
        summary = playbooks_run(run=run, actor=actor, today=today)
        outcome: dict[str, Any] = {"today": today.isoformat(), "created": summary.created}
    except Exception as exc:  # recorded on the run; the scores stand
        logger.exception("playbooks after scoring run %s failed", run.pk)
        outcome = {"today": today.isoformat(), "error": f"{type(exc).__name__}: {exc}"}
    run.metadata = run.metadata | {"playbooks": outcome}
    ScoringRun.objects.filter(pk=run.pk).update(metadata=run.metadata)
