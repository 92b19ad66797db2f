"""The dashboard: where the customers of the latest scoring run stand on the relationship
hierarchy, and how they moved since the run before.

Three views share one filter form (customer type, account owner, segment): the page (answering
an htmx request with its filters and panels only), the migration panel (loaded after the page,
and again when its measure changes: it joins two runs, the dearest query of the page) and the
work list's pages. Aggregates cover every customer for admin, manager and analyst and the
customers ``customers_visible`` allows for anyone else; the work list, which names customers,
always follows that rule (``hierarchy.selectors.dashboard_scopes``).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from guanxi.core.selectors import home_counts
from guanxi.hierarchy import charts
from guanxi.hierarchy.choices import FoundationHealth, LevelGap, PartnershipStage, RelationshipLevel
from guanxi.hierarchy.forms import DashboardFilterForm, MigrationForm
from guanxi.hierarchy.selectors import (
    MEASURE_VALUES,
    Standing,
    clv_histogram,
    customers_at_risk,
    dashboard_owners,
    dashboard_scopes,
    latest_runs,
    migration_matrix,
    pareto_curve,
    standing_summary,
)
from guanxi.parties.choices import CustomerType
from guanxi.scoring.choices import LifecycleStage, Measure, RunStatus, ValueClass
from guanxi.scoring.models import ScoringRun
from guanxi.scoring.views import runs_startable

AT_RISK_PAGE_SIZE = 20
TEMPLATE = "hierarchy/dashboard.html"

# Why a foundation is at risk, by the reason codes of ``CustomerScore.health_reasons``.
HEALTH_REASONS = {
    "late_delivery": gettext_lazy("late deliveries"),
    "returns": gettext_lazy("returns"),
    "late_complaints": gettext_lazy("complaints resolved late"),
}


def _value_labels(measure: str) -> dict[str, str]:
    choices = {
        Measure.LIFECYCLE_STAGE: LifecycleStage,
        Measure.ABC_CLASS: ValueClass,
        Measure.ACTUAL_LEVEL: RelationshipLevel,
        Measure.RECOMMENDED_LEVEL: RelationshipLevel,
        Measure.LEVEL_GAP: LevelGap,
        Measure.PARTNERSHIP_STAGE: PartnershipStage,
        Measure.FOUNDATION_HEALTH: FoundationHealth,
    }[measure]
    labels = {value: str(label) for value, label in choices.choices}
    if measure == Measure.PARTNERSHIP_STAGE:
        labels[""] = _("not assessed")
    return labels


def _form(request: HttpRequest, form_class: type[DashboardFilterForm]) -> DashboardFilterForm:
    owners = list(dashboard_owners(user=request.user))
    return form_class(request.GET, owners=owners)


def _bad_filters(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    # htmx swaps only successful responses: give it the errors with a 200 so they are shown.
    return render(request, template, context, status=200 if request.htmx else 400)


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    runs = latest_runs(2)
    running = (
        ScoringRun.objects.filter(status=RunStatus.RUNNING)
        .only("pk", "as_of", "progress", "step")
        .order_by("-started_at", "-id")
        .first()
    )
    context: dict[str, Any] = {
        "run": runs[0] if runs else None,
        "previous": runs[1] if len(runs) > 1 else None,
        "running": running,
        "can_start": runs_startable(user=request.user),
    }
    if not runs:
        # Nothing scored yet: show that there is something to score.
        context["counts"] = home_counts()
        return render(request, TEMPLATE, context)
    form = _form(request, DashboardFilterForm)
    context["form"] = form
    template = f"{TEMPLATE}#body" if request.htmx else TEMPLATE
    if not form.is_valid():
        return _bad_filters(request, template, context)
    context.update(_panels(request, runs[0], form))
    return render(request, template, context)


def _panels(request: HttpRequest, run: ScoringRun, form: DashboardFilterForm) -> dict[str, Any]:
    scope, rows_scope = dashboard_scopes(user=request.user, **form.scope_filters())
    standing = standing_summary(run, scope=scope)
    points = pareto_curve(run, scope=scope, top_profit_cents=standing.max_profit_cents)
    bins = clv_histogram(run, scope=scope, top_clv_cents=standing.max_clv_cents)
    level_labels = _value_labels(Measure.ACTUAL_LEVEL)
    levels = list(MEASURE_VALUES[Measure.ACTUAL_LEVEL])
    actual = standing.distribution(Measure.ACTUAL_LEVEL)
    recommended = standing.distribution(Measure.RECOMMENDED_LEVEL)
    lifecycle = standing.distribution(Measure.LIFECYCLE_STAGE)
    classes = standing.distribution(Measure.ABC_CLASS)
    stage_labels = _value_labels(Measure.LIFECYCLE_STAGE)
    return {
        "standing": standing,
        "segments": _segment_choices(standing, form.scope_filters()["segment"]),
        "query": form.querystring(),
        "pyramid_rows": _pyramid_rows(standing, levels, level_labels, actual, recommended),
        "pyramid_chart": charts.pyramid_figure(
            labels=[level_labels[v] for v in levels],
            actual=[actual[v] for v in levels],
            recommended=[recommended[v] for v in levels],
        ),
        "lifecycle_rows": [
            {"label": stage_labels[v], "cell": lifecycle[v]}
            for v in MEASURE_VALUES[Measure.LIFECYCLE_STAGE]
        ],
        "funnel_chart": charts.funnel_figure(
            labels=[stage_labels[v] for v in MEASURE_VALUES[Measure.LIFECYCLE_STAGE]],
            cells=[lifecycle[v] for v in MEASURE_VALUES[Measure.LIFECYCLE_STAGE]],
        ),
        "classes": _class_rows(standing, classes),
        "pareto_chart": charts.pareto_figure(points=points, a_class=_a_class_point(standing)),
        "has_pareto": bool(points),
        "gap": _gap_context(standing, levels, level_labels),
        "histogram_bins": [{"label": charts.bin_label(b), "customers": b.customers} for b in bins],
        "histogram_chart": charts.histogram_figure(bins=bins),
        "no_estimate": standing.customers - standing.with_clv,
        "at_risk_page": _at_risk_page(
            request,
            run,
            rows_scope,
            count=standing.at_risk().customers if rows_scope is scope else None,
        ),
    }


def _segment_choices(standing: Standing, selected: str) -> list[str]:
    """The run's segments in scope, and the selected one even if it has no customers now."""
    segments = list(standing.segments)
    if selected and selected not in segments:
        segments.append(selected)
    return segments


def _pyramid_rows(
    standing: Standing,
    levels: list[str],
    labels: dict[str, str],
    actual: dict,
    recommended: dict,
) -> list[dict[str, Any]]:
    """The pyramid as a table, partnership at the top as drawn."""
    customers, profit = standing.customers, standing.profit_cents
    rows = []
    for level in reversed(levels):
        a, r = actual[level], recommended[level]
        rows.append(
            {
                "label": labels[level],
                "actual": a,
                "actual_share": a.customers / customers if customers else 0.0,
                "actual_profit_share": a.profit_cents / profit if profit else 0.0,
                "recommended": r,
                "recommended_share": r.customers / customers if customers else 0.0,
                "recommended_profit_share": r.profit_cents / profit if profit else 0.0,
            }
        )
    return rows


def _class_rows(standing: Standing, classes: dict) -> list[dict[str, Any]]:
    labels = _value_labels(Measure.ABC_CLASS)
    customers, profit = standing.customers, standing.profit_cents
    return [
        {
            "value": value,
            "label": labels[value],
            "cell": classes[value],
            "share": classes[value].customers / customers if customers else 0.0,
            "profit_share": classes[value].profit_cents / profit if profit else 0.0,
        }
        for value in MEASURE_VALUES[Measure.ABC_CLASS]
    ]


def _a_class_point(standing: Standing) -> tuple[float, float] | None:
    """Where class A ends on the Pareto curve: its share of the customers and of the profit."""
    a = standing.distribution(Measure.ABC_CLASS)[ValueClass.A]
    if not standing.customers or standing.profit_cents <= 0 or not a.customers:
        return None
    return a.customers / standing.customers, a.profit_cents / standing.profit_cents


def _gap_context(standing: Standing, levels: list[str], labels: dict[str, str]) -> dict[str, Any]:
    """The gap matrix — recommended levels as rows, highest first; actual levels as columns —
    and what is at stake in each gap."""
    matrix = standing.gap_matrix()
    order = {level: i for i, level in enumerate(levels)}
    rows = []
    for rec in reversed(levels):
        cells = []
        for act in levels:
            cell = matrix.get((rec, act))
            gap = (
                LevelGap.UNDER_SERVED
                if order[rec] > order[act]
                else LevelGap.OVER_SERVED
                if order[rec] < order[act]
                else LevelGap.ON_TARGET
            )
            cells.append({"cell": cell, "gap": gap})
        rows.append({"label": labels[rec], "cells": cells})
    gap_labels = _value_labels(Measure.LEVEL_GAP)
    stake = standing.gap_at_stake()
    return {
        "columns": [labels[level] for level in levels],
        "rows": rows,
        "stake": [{"gap": g, "label": gap_labels[g], **stake[g]} for g in LevelGap.values],
    }


def _at_risk_page(request: HttpRequest, run: ScoringRun, scope: Any, *, count: int | None) -> Any:
    paginator = Paginator(customers_at_risk(run, scope=scope), AT_RISK_PAGE_SIZE)
    if count is not None:
        # The standing summary counted these customers already (same scope): skip a COUNT.
        paginator.count = count
    page = paginator.get_page(request.GET.get("page"))
    stage_labels = _value_labels(Measure.LIFECYCLE_STAGE)
    level_labels = _value_labels(Measure.ACTUAL_LEVEL)
    class_labels = _value_labels(Measure.ABC_CLASS)
    types = dict(CustomerType.choices)
    for score in page.object_list:
        reasons = []
        if score.lifecycle_stage in (LifecycleStage.DECLINE, LifecycleStage.CHURNED):
            reasons.append(stage_labels[score.lifecycle_stage])
        if score.foundation_health == FoundationHealth.AT_RISK:
            failing = [
                str(HEALTH_REASONS.get(code, code))
                for code in score.health_reasons.split(",")
                if code
            ]
            reasons.append(
                _("basics at risk: %(reasons)s") % {"reasons": ", ".join(failing)}
                if failing
                else _("basics at risk")
            )
        score.why = reasons
        score.class_label = class_labels.get(score.abc_class, score.abc_class)
        score.level_label = level_labels.get(score.actual_level, score.actual_level)
        score.recommended_label = level_labels.get(score.recommended_level, "")
        score.type_label = types.get(score.customer.customer_type, "")
    return page


@login_required
@require_GET
def dashboard_at_risk(request: HttpRequest) -> HttpResponse:
    """One page of the work list (htmx), under the dashboard's filters."""
    runs = latest_runs(1)
    form = _form(request, DashboardFilterForm)
    context: dict[str, Any] = {"run": runs[0] if runs else None, "form": form}
    template = f"{TEMPLATE}#at-risk"
    if not runs:
        return render(request, template, context)
    if not form.is_valid():
        return _bad_filters(request, template, context)
    _scope, rows_scope = dashboard_scopes(user=request.user, **form.scope_filters())
    context.update(
        query=form.querystring(),
        at_risk_page=_at_risk_page(request, runs[0], rows_scope, count=None),
    )
    return render(request, template, context)


@login_required
@require_GET
def dashboard_migration(request: HttpRequest) -> HttpResponse:
    """The migration panel: how the customers in scope moved on one measure between the last
    two successful runs, as a Sankey diagram and as a matrix."""
    runs = latest_runs(2)
    form = _form(request, MigrationForm)
    context: dict[str, Any] = {
        "run": runs[0] if runs else None,
        "previous": runs[1] if len(runs) > 1 else None,
        "form": form,
    }
    # A browser without JS follows the panel's link and gets it as a page of its own.
    template = f"{TEMPLATE}#migration" if request.htmx else "hierarchy/migration.html"
    if len(runs) < 2:
        return render(request, template, context)
    if not form.is_valid():
        return _bad_filters(request, template, context)
    run, previous = runs
    measure = form.cleaned_data["measure"]
    scope, _rows = dashboard_scopes(user=request.user, **form.scope_filters())
    matrix = migration_matrix(from_run=previous, to_run=run, measure=measure, scope=scope)
    labels = _value_labels(measure)
    values = list(matrix.values)
    context.update(
        measure=measure,
        measure_label=Measure(measure).label,
        matrix=matrix,
        columns=[labels.get(v, v) for v in values],
        rows=[
            {
                "label": labels.get(a, a),
                "cells": [{"cell": matrix.cell(a, b), "stayed": a == b} for b in values],
            }
            for a in values
        ],
        customers_moved=matrix.moved,
        customers_both=sum(c.customers for c in matrix.cells.values()),
        sankey_chart=charts.sankey_figure(
            matrix=matrix,
            labels=labels,
            from_title=date_format(previous.as_of, "DATE_FORMAT"),
            to_title=date_format(run.as_of, "DATE_FORMAT"),
        ),
    )
    return render(request, template, context)
