"""Scoring runs: extract purchases, run the analytics engine, store one snapshot per customer."""

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from guanxi.analytics.config import ScoringConfig
from guanxi.analytics.pipeline import score
from guanxi.core.services import event_record
from guanxi.scoring.choices import RunStatus
from guanxi.scoring.extract import customer_ids_extract, transactions_extract
from guanxi.scoring.models import ScoringRun
from guanxi.scoring.store import scores_store

ProgressCallback = Callable[[str, float], None]


def scoring_run_execute(
    *,
    as_of: dt.date | None = None,
    config: ScoringConfig | None = None,
    actor: Any = None,
    progress: ProgressCallback | None = None,
) -> ScoringRun:
    """Score every customer and keep the run.

    The run row is committed first (so its progress can be watched); the scores and the final
    status are written in one transaction, so a failed run keeps no partial scores and its
    ``error`` says why. Errors are re-raised after they are recorded.
    """
    as_of = as_of or timezone.localdate()
    config = config or ScoringConfig()
    run = ScoringRun.objects.create(
        as_of=as_of,
        config=config.to_dict(),
        started_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    started = time.perf_counter()

    def report(step: str, fraction: float) -> None:
        ScoringRun.objects.filter(pk=run.pk).update(step=step[:32], progress=fraction)
        if progress is not None:
            progress(step, fraction)

    try:
        report("extract", 0.0)
        transactions = transactions_extract(as_of=as_of)
        customers = customer_ids_extract()
        result = score(transactions, as_of, config, customers=customers, progress=report)
        with transaction.atomic():
            n = scores_store(run_id=run.pk, table=result.table)
            run.status = RunStatus.SUCCEEDED
            run.metadata = result.metadata
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
    return run
