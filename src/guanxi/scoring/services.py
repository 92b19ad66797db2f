"""Scoring runs: extract purchases, run the analytics engine, store one snapshot per customer."""

import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from guanxi.analytics.config import ScoringConfig
from guanxi.analytics.pipeline import score
from guanxi.analytics.relationship import RelationshipPolicy
from guanxi.core.services import event_record
from guanxi.hierarchy.models import HierarchyPolicy
from guanxi.playbooks.services import playbooks_run
from guanxi.scoring.choices import RunStatus
from guanxi.scoring.extract import customers_extract, transactions_extract
from guanxi.scoring.models import ScoringRun
from guanxi.scoring.standing import standing_add
from guanxi.scoring.store import score_changes_record, scores_store

ProgressCallback = Callable[[str, float], None]
logger = logging.getLogger(__name__)


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
