"""Scoring runs: the history, starting a run, and one run's progress and model diagnostics.

Starting a run enqueues ``scoring.tasks.score_customers`` on Django's Tasks framework; a worker
(``guanxi db_worker --queue-name default,scoring``) creates the ``ScoringRun`` when it takes the
task, so until then the request is listed as queued. Anyone signed in may read the history and
the diagnostics (they hold no customer data); only admin, manager and analyst may start a run.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from guanxi.core.errors import ErrorCode, GuanxiError
from guanxi.core.requests import client_ip
from guanxi.scoring.choices import LifecycleStage, Measure, RunStatus, ValueClass
from guanxi.scoring.forms import RunStartForm
from guanxi.scoring.models import ScoringRun
from guanxi.scoring.selectors import runs_list, runs_queued, runs_startable
from guanxi.scoring.services import scoring_run_request

PAGE_SIZE = 25

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


def _list_context(request: HttpRequest, form: RunStartForm | None) -> dict[str, Any]:
    runs = runs_list().order_by("-started_at", "-id")
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
    as_of = form.cleaned_data["as_of"]
    try:
        scoring_run_request(actor=request.user, as_of=as_of, ip_address=client_ip(request))
    except GuanxiError as error:
        if error.code != ErrorCode.CONFLICT:
            raise
        # Already waiting: that run will score every customer, so this one is not needed.
        messages.warning(request, error.message)
        return redirect("scoring:run_list")
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
