"""Scoring runs: the history, starting a run, and one run's progress and model diagnostics.

Starting a run enqueues ``scoring.tasks.score_customers`` on Django's Tasks framework; a worker
(``guanxi db_worker --queue-name default,scoring``) creates the ``ScoringRun`` when it takes the
task, so until then the request is listed as queued. Anyone signed in may read the history and
the diagnostics (they hold no customer data); only admin, manager and analyst may start a run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.tasks import TaskResultStatus
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django_tasks_db.models import DBTaskResult

from guanxi.core.choices import Role
from guanxi.core.services import event_record
from guanxi.parties.selectors import user_roles
from guanxi.scoring.choices import LifecycleStage, Measure, RunStatus, ValueClass
from guanxi.scoring.forms import RunStartForm
from guanxi.scoring.models import ScoringRun
from guanxi.scoring.tasks import score_customers

PAGE_SIZE = 25
RUN_STARTERS = frozenset({Role.ADMIN, Role.MANAGER, Role.ANALYST})

# What each step of a run does, for its progress and its timings (keys of metadata timings_s).
STEP_LABELS = {
    "extract": gettext_lazy("reading orders from the store"),
    "connect": gettext_lazy("starting the analytics engine"),
    "validate": gettext_lazy("checking the transactions"),
    "features": gettext_lazy("purchase features per customer"),
    "segments": gettext_lazy("RFM scores and value classes"),
    "fit": gettext_lazy("fitting the models"),
    "fit_bgnbd": gettext_lazy("fitting BG/NBD"),
    "fit_gamma_gamma": gettext_lazy("fitting Gamma-Gamma"),
    "predict": gettext_lazy("purchases ahead and probability alive"),
    "clv": gettext_lazy("customer lifetime value"),
    "lifecycle": gettext_lazy("lifecycle stages"),
    "assemble": gettext_lazy("assembling the scores"),
    "total": gettext_lazy("analytics engine in all"),
    "standing": gettext_lazy("relationship levels, stages and foundation health"),
    "standing_extract": gettext_lazy("reading interactions, cases, bonds and assessments"),
    "standing_rules": gettext_lazy("applying the hierarchy rules"),
    "store": gettext_lazy("storing the scores"),
    "changes": gettext_lazy("recording changes since the previous run"),
    "done": gettext_lazy("finishing"),
}

MODEL_LABELS = {
    "bgnbd": gettext_lazy("BG/NBD: how often customers buy and when they drop out"),
    "gamma_gamma": gettext_lazy("Gamma-Gamma: how much customers spend per purchase"),
}

ROW_LABELS = {
    "transactions": gettext_lazy("Purchases read"),
    "customers": gettext_lazy("Customers scored"),
    "purchasers": gettext_lazy("Customers who bought"),
    "prospects": gettext_lazy("Prospects (no purchase yet)"),
    "repeat_buyers": gettext_lazy("Repeat buyers"),
}


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


def _list_context(request: HttpRequest, form: RunStartForm | None) -> dict[str, Any]:
    runs = (
        ScoringRun.objects.select_related("started_by")
        .defer("metadata", "config", "policy")
        .order_by("-started_at", "-id")
    )
    page = Paginator(runs, PAGE_SIZE).get_page(request.GET.get("page"))
    queued = runs_queued()
    can_start = runs_startable(user=request.user)
    return {
        "page": page,
        "queued": queued,
        "can_start": can_start,
        "form": form if form is not None else (RunStartForm() if can_start else None),
        # Watch the list while something is waiting or running.
        "polling": bool(queued) or any(r.status == RunStatus.RUNNING for r in page.object_list),
    }


@login_required
@require_GET
def run_list(request: HttpRequest) -> HttpResponse:
    context = _list_context(request, None)
    template = "scoring/run_list.html#runs" if request.htmx else "scoring/run_list.html"
    return render(request, template, context)


@login_required
@require_POST
def run_start(request: HttpRequest) -> HttpResponse:
    """Queue a scoring run as of the day asked for (default today) for a worker to take."""
    if not runs_startable(user=request.user):
        raise PermissionDenied(_("Only administrators, managers and analysts may start a run."))
    form = RunStartForm(request.POST)
    if not form.is_valid():
        return render(request, "scoring/run_list.html", _list_context(request, form), status=400)
    if runs_queued():
        messages.warning(
            request,
            _("A scoring run is already waiting for a worker; it will score every customer."),
        )
        return redirect("scoring:run_list")
    as_of = form.cleaned_data["as_of"]
    with transaction.atomic():
        result = score_customers.enqueue(
            as_of=as_of.isoformat() if as_of else None, started_by_id=request.user.pk
        )
        event_record(
            kind="scoring_run.queued",
            actor=request.user,
            data={"task_id": str(result.id), "as_of": as_of.isoformat() if as_of else None},
        )
    if as_of:
        notice = _("Scoring run as of %(day)s queued: it starts when a worker takes it.") % {
            "day": date_format(as_of, "DATE_FORMAT")
        }
    else:
        notice = _("Scoring run as of today queued: it starts when a worker takes it.")
    messages.success(request, notice)
    return redirect("scoring:run_list")


def diagnostics(run: ScoringRun) -> dict[str, Any]:
    """A run's metadata shaped for its page: models, rows, counts, timings, changes, playbooks."""
    meta = run.metadata or {}
    models = []
    for key, label in MODEL_LABELS.items():
        fitted = (meta.get("models") or {}).get(key)
        if not fitted:
            continue
        stderr = fitted.get("stderr") or {}
        models.append(
            {
                "key": key,
                "label": label,
                "params": [
                    {"name": name, "value": value, "stderr": stderr.get(name)}
                    for name, value in (fitted.get("params") or {}).items()
                ],
                "loglik": fitted.get("loglik"),
                "n_iter": fitted.get("n_iter"),
                "converged": fitted.get("converged"),
                "penalizer": fitted.get("penalizer"),
                "fallback": fitted.get("fallback_penalizer_used"),
                "n_customers": fitted.get("n_customers"),
            }
        )
    timings = meta.get("timings_s") or {}
    slowest = max((v for v in timings.values() if isinstance(v, int | float)), default=0)
    measures = dict(Measure.choices)
    counts = meta.get("counts") or {}
    stage_labels = dict(LifecycleStage.choices)
    class_labels = dict(ValueClass.choices)
    return {
        "models": models,
        "rows": [
            {"label": ROW_LABELS.get(k, k), "value": v} for k, v in (meta.get("rows") or {}).items()
        ],
        "timings": [
            {"key": k, "label": STEP_LABELS.get(k, k), "seconds": v, "max": slowest}
            for k, v in timings.items()
            if isinstance(v, int | float)
        ],
        "changes": [
            {"label": measures.get(k, k), "count": v}
            for k, v in (meta.get("changes") or {}).items()
        ],
        "lifecycle_counts": [
            {"label": stage_labels.get(k, k), "count": counts.get("lifecycle_stage", {}).get(k, 0)}
            for k in LifecycleStage.values
        ],
        "class_counts": [
            {"label": class_labels.get(k, k), "count": counts.get("abc_class", {}).get(k, 0)}
            for k in ValueClass.values
        ],
        "playbooks": meta.get("playbooks"),
        "playbooks_today": parse_date((meta.get("playbooks") or {}).get("today") or ""),
        "engine": meta.get("engine"),
        "versions": meta.get("versions") or {},
        "created_at": parse_datetime(meta.get("created_at") or ""),
        "config": sorted((run.config or {}).items()),
        "policy": sorted((run.policy or {}).items()),
    }


@login_required
@require_GET
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A run: its progress while it runs (the page polls its body), then its diagnostics."""
    run = get_object_or_404(ScoringRun.objects.select_related("started_by"), pk=pk)
    context = {
        "run": run,
        "step_label": STEP_LABELS.get(run.step, run.step),
        "diagnostics": diagnostics(run) if run.status == RunStatus.SUCCEEDED else None,
    }
    template = "scoring/run_detail.html#run-body" if request.htmx else "scoring/run_detail.html"
    return render(request, template, context)
