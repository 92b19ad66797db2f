"""The customer 360 page: profile, every measure of the latest score with its reason, the score
history, one timeline, and quick actions (log an interaction, open a case, add a task).

Every view starts from ``customers_visible`` (404 for a customer the user may not see). Quick
actions answer an htmx request with the form fragment (plus out-of-band updates of the open tasks
and the timeline); without htmx they redirect back to the page, or re-render it with the errors.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from guanxi.analytics.config import ConfigError, ScoringConfig
from guanxi.analytics.relationship import RelationshipPolicy
from guanxi.core.errors import GuanxiError
from guanxi.core.requests import client_ip
from guanxi.core.services import event_record
from guanxi.core.templatetags.guanxi import currency_symbol
from guanxi.engagement.forms import CaseOpenForm, InteractionLogForm
from guanxi.engagement.services import case_open, interaction_log
from guanxi.hierarchy.choices import RelationshipLevel
from guanxi.hierarchy.selectors import latest_run, level_evidence
from guanxi.parties.choices import CONTACT_CUSTOMER_TYPES, PERSONAL_DATA_FIELDS
from guanxi.parties.models import Customer
from guanxi.parties.selectors import (
    TimelineCursor,
    customer_score_history,
    customer_timeline,
    customer_work_allowed,
    customers_visible,
    personal_data_masked,
    personal_data_visible,
    users_assignable,
)
from guanxi.playbooks.forms import TaskAddForm
from guanxi.playbooks.models import Task
from guanxi.playbooks.selectors import tasks_open
from guanxi.playbooks.services import task_create
from guanxi.scoring.models import CustomerScore

TIMELINE_PAGE = 20
OPEN_TASKS_SHOWN = 10
EVIDENCE_SHOWN = 10

RFM_SEGMENT_LABELS = {
    "champions": gettext_lazy("champions"),
    "loyal": gettext_lazy("loyal"),
    "potential_loyalist": gettext_lazy("potential loyalists"),
    "new": gettext_lazy("new customers"),
    "promising": gettext_lazy("promising"),
    "need_attention": gettext_lazy("need attention"),
    "about_to_sleep": gettext_lazy("about to sleep"),
    "at_risk": gettext_lazy("at risk of leaving"),
    "cannot_lose": gettext_lazy("cannot lose them"),
    "hibernating": gettext_lazy("hibernating"),
    "lost": gettext_lazy("lost"),
}

PERSONAL_DATA_LABELS = {
    "phone": gettext_lazy("Phone"),
    "email": gettext_lazy("Email"),
    "wechat_id": gettext_lazy("WeChat id"),
    "address": gettext_lazy("Address"),
}


def _customer_or_404(request: HttpRequest, pk: int) -> Customer:
    return get_object_or_404(customers_visible(user=request.user).select_related("owner"), pk=pk)


def _require_work(request: HttpRequest) -> None:
    if not customer_work_allowed(user=request.user):
        raise PermissionDenied(_("Your role may look at customers but not change them."))


def _contacts(customer: Customer):
    if customer.customer_type in CONTACT_CUSTOMER_TYPES:
        return customer.contacts.all()
    return customer.contacts.none()


# -- page parts ----------------------------------------------------------------------------------


def _personal_data(
    request: HttpRequest, customer: Customer, contacts: list
) -> tuple[list[dict], list[dict], bool]:
    """The profile's personal data and the contacts, masked unless the user's role may see them.

    Showing them unmasked is an access to personal data: it is recorded as an event.
    """
    visible = personal_data_visible(user=request.user)

    def shown(value: str, field: str) -> str:
        return value if visible else personal_data_masked(value, field=field)

    profile = [
        {"label": PERSONAL_DATA_LABELS[f], "value": shown(getattr(customer, f), f)}
        for f in PERSONAL_DATA_FIELDS
    ]
    people = [
        {
            "contact": c,
            "phone": shown(c.phone, "phone"),
            "email": shown(c.email, "email"),
            "wechat_id": shown(c.wechat_id, "wechat_id"),
        }
        for c in contacts
    ]
    fields = [f for f in PERSONAL_DATA_FIELDS if getattr(customer, f)]
    contacts_with_data = sum(1 for c in contacts if c.phone or c.email or c.wechat_id)
    if visible and (fields or contacts_with_data):
        event_record(
            kind="customer.personal_data_viewed",
            actor=request.user,
            customer=customer,
            subject=customer,
            data={"fields": fields, "contacts": contacts_with_data, "page": "customer_detail"},
            ip_address=client_ip(request),
        )
    return profile, people, visible


def _rules_of(score: CustomerScore) -> tuple[RelationshipPolicy, ScoringConfig]:
    """The thresholds the score's run judged by (the defaults for a config stored by an older
    version that no longer reads back)."""
    try:
        policy = RelationshipPolicy.from_dict(score.run.policy or {})
    except (ConfigError, TypeError, ValueError):
        policy = RelationshipPolicy()
    try:
        config = ScoringConfig.from_dict(score.run.config or {})
    except (ConfigError, TypeError, ValueError):
        config = ScoringConfig()
    return policy, config


def _history_chart(customer: Customer) -> dict[str, Any]:
    """The data of the score history chart (drawn by ``static/guanxi/customer.js``)."""
    rows = customer_score_history(customer=customer)
    rank = {value: i for i, value in enumerate(RelationshipLevel.values)}

    def money(cents: float | None) -> float | None:
        return None if cents is None else round(cents / 100, 2)

    return {
        "dates": [r["run__as_of"].isoformat() for r in rows],
        "clv": [money(r["clv_cents"]) for r in rows],
        "p_alive": [r["p_alive"] for r in rows],
        "actual": [rank.get(r["actual_level"]) for r in rows],
        "recommended": [rank.get(r["recommended_level"]) for r in rows],
        "levels": [str(label) for label in RelationshipLevel.labels],
        "labels": {
            "clv": _("Customer lifetime value (%(currency)s)") % {"currency": currency_symbol()},
            "p_alive": _("Probability alive"),
            "actual": _("Actual level"),
            "recommended": _("Recommended level"),
            "run": _("Scoring run"),
        },
    }


def _score_context(customer: Customer) -> dict[str, Any]:
    run = latest_run()
    score = None
    if run is not None:
        score = (
            CustomerScore.objects.select_related("run").filter(run=run, customer=customer).first()
        )
    if score is None:
        return {"run": run, "score": None}
    policy, config = _rules_of(score)
    return {
        "run": run,
        "score": score,
        "policy": policy,
        "config": config,
        "evidence": list(level_evidence(score)[:EVIDENCE_SHOWN]),
        "rfm_segment": RFM_SEGMENT_LABELS.get(score.rfm_segment, score.rfm_segment),
        "health_reasons": [r for r in score.health_reasons.split(",") if r],
        "clv_horizon_days": round(config.clv_horizon_periods * config.clv_period_days),
    }


def _forms(
    request: HttpRequest, customer: Customer, contacts, *, task: Task | None = None, **bound: Any
) -> dict[str, Any]:
    """The three quick-action forms; ``bound`` replaces any of them (a form with errors)."""
    owners = users_assignable(user=request.user)
    initial = {}
    if task is not None:
        initial = {"purpose": task.purpose, "channel": task.channel or None}
    forms = {
        "log_form": InteractionLogForm(customer=customer, contacts=contacts, initial=initial),
        "case_form": CaseOpenForm(owners=owners),
        "task_form": TaskAddForm(owners=owners, default_owner=customer.owner or request.user),
    }
    forms.update(bound)
    return forms


def _prefill_task(request: HttpRequest, customer: Customer) -> Task | None:
    """The open task named by ``?task=`` (the task inbox's "log the interaction" link)."""
    raw = request.GET.get("task", "")
    if not raw.isdigit():
        return None
    return tasks_open(customer=customer).filter(pk=int(raw)).first()


def _page(
    request: HttpRequest, customer: Customer, *, status: int = 200, **bound: Any
) -> HttpResponse:
    raw_before = request.GET.get("before")
    try:
        before = TimelineCursor.parse(raw_before) if raw_before else None
    except ValueError:
        return HttpResponseBadRequest(_("That timeline position is not valid."))
    contacts = list(_contacts(customer))
    profile, people, unmasked = _personal_data(request, customer, contacts)
    can_work = customer_work_allowed(user=request.user)
    task = _prefill_task(request, customer) if can_work else None
    context = {
        "customer": customer,
        "tags": list(customer.tags.all()),
        "profile": profile,
        "contacts": people,
        "personal_data_unmasked": unmasked,
        "timeline": customer_timeline(customer=customer, before=before, limit=TIMELINE_PAGE),
        "open_tasks": list(tasks_open(customer=customer)[:OPEN_TASKS_SHOWN]),
        "history": _history_chart(customer),
        "can_work": can_work,
        "today": timezone.localdate(),
        "prefill_task": task,
        **_score_context(customer),
    }
    if can_work:
        context.update(_forms(request, customer, _contacts(customer), task=task, **bound))
    return render(request, "parties/customer_detail.html", context, status=status)


@login_required
@require_GET
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, _customer_or_404(request, pk))


@login_required
@require_GET
def customer_timeline_more(request: HttpRequest, pk: int) -> HttpResponse:
    """The next page of the timeline (the "load more" button's htmx request)."""
    customer = _customer_or_404(request, pk)
    try:
        before = TimelineCursor.parse(request.GET.get("before", ""))
    except ValueError:
        return HttpResponseBadRequest(_("That timeline position is not valid."))
    page = customer_timeline(customer=customer, before=before, limit=TIMELINE_PAGE)
    return render(
        request, "parties/detail/_timeline_items.html", {"customer": customer, "timeline": page}
    )


# -- quick actions -------------------------------------------------------------------------------


def _action_response(
    request: HttpRequest,
    customer: Customer,
    *,
    template: str,
    form_name: str,
    form: Any,
    ok: bool,
    notice: str = "",
    completed: list[Task] | None = None,
) -> HttpResponse:
    """The htmx fragment of a quick action (or, without htmx, a redirect or the whole page)."""
    if not request.htmx:
        if ok:
            messages.success(request, notice)
            return redirect(reverse("parties:customer_detail", args=[customer.pk]))
        return _page(request, customer, status=400, **{form_name: form})
    context: dict[str, Any] = {
        "customer": customer,
        form_name: form,
        "notice": notice,
        "completed": completed or [],
        "oob": ok,
        "can_work": True,
        "today": timezone.localdate(),
    }
    if ok:
        context["timeline"] = customer_timeline(customer=customer, limit=TIMELINE_PAGE)
        context["open_tasks"] = list(tasks_open(customer=customer)[:OPEN_TASKS_SHOWN])
    # htmx swaps only 2xx answers by default, so a form with errors comes back as 200.
    return render(request, template, context)


@login_required
@require_POST
def customer_interaction_log(request: HttpRequest, pk: int) -> HttpResponse:
    """Log an interaction; any open task it carries out is completed (and listed)."""
    customer = _customer_or_404(request, pk)
    _require_work(request)
    contacts = _contacts(customer)
    form = InteractionLogForm(request.POST, customer=customer, contacts=contacts)
    completed: list[Task] = []
    ok, notice = False, ""
    if form.is_valid():
        data = form.cleaned_data
        before = set(tasks_open(customer=customer).values_list("pk", flat=True))
        try:
            interaction = interaction_log(
                customer=customer,
                external_id=f"WEB-I-{uuid.uuid4().hex[:16].upper()}",
                occurred_at=data["occurred_at"],
                channel=data["channel"],
                direction=data["direction"],
                service_phase=data["service_phase"],
                purpose=data["purpose"],
                contact=data.get("contact"),
                notes=data["notes"],
                staff=request.user,
                actor=request.user,
            )
        except (GuanxiError, ValidationError) as exc:
            form.add_service_error(exc)
        else:
            ok = True
            completed = list(
                Task.objects.filter(pk__in=before, completed_by_interaction=interaction)
                .select_related("wording")
                .order_by("due_on", "pk")
            )
    if ok:
        notice = _("Interaction logged.")
        if completed:
            notice += " " + ngettext(
                "It completed %(n)s task: %(titles)s.",
                "It completed %(n)s tasks: %(titles)s.",
                len(completed),
            ) % {"n": len(completed), "titles": "; ".join(t.title for t in completed)}
        form = InteractionLogForm(customer=customer, contacts=contacts)
    return _action_response(
        request,
        customer,
        template="parties/detail/_log_form.html",
        form_name="log_form",
        form=form,
        ok=ok,
        notice=notice,
        completed=completed,
    )


@login_required
@require_POST
def customer_case_open(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer_or_404(request, pk)
    _require_work(request)
    owners = users_assignable(user=request.user)
    form = CaseOpenForm(request.POST, owners=owners)
    ok, notice = False, ""
    if form.is_valid():
        data = form.cleaned_data
        try:
            case = case_open(
                customer=customer,
                external_id=f"WEB-K-{uuid.uuid4().hex[:16].upper()}",
                kind=data["kind"],
                subject=data["subject"],
                description=data["description"],
                category=data["category"].strip(),
                severity=data["severity"],
                satisfaction=data["satisfaction"],
                due_at=data["due_at"],
                owner=data["owner"],
                actor=request.user,
            )
        except (GuanxiError, ValidationError) as exc:
            form.add_service_error(exc)
        else:
            ok = True
            notice = _("Case %(id)s opened; it is due %(due)s.") % {
                "id": case.external_id,
                "due": _local_text(case.due_at),
            }
            form = CaseOpenForm(owners=owners)
    return _action_response(
        request,
        customer,
        template="parties/detail/_case_form.html",
        form_name="case_form",
        form=form,
        ok=ok,
        notice=notice,
    )


@login_required
@require_POST
def customer_task_add(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer_or_404(request, pk)
    _require_work(request)
    owners = users_assignable(user=request.user)
    default_owner = customer.owner or request.user
    form = TaskAddForm(request.POST, owners=owners, default_owner=default_owner)
    ok, notice = False, ""
    if form.is_valid():
        data = form.cleaned_data
        try:
            task = task_create(
                customer=customer,
                title=data["title"],
                reason=data["reason"],
                due_on=data["due_on"],
                purpose=data["purpose"],
                channel=data["channel"],
                priority=data["priority"],
                owner=data["owner"],
                actor=request.user,
            )
        except (GuanxiError, ValidationError) as exc:
            form.add_service_error(exc)
        else:
            ok = True
            notice = _("Task “%(title)s” added, due %(due)s.") % {
                "title": task.title,
                "due": _local_text(task.due_on),
            }
            form = TaskAddForm(owners=owners, default_owner=default_owner)
    return _action_response(
        request,
        customer,
        template="parties/detail/_task_form.html",
        form_name="task_form",
        form=form,
        ok=ok,
        notice=notice,
    )


def _local_text(value: dt.date | dt.datetime) -> str:
    """A date or a moment as the active locale writes it (local time)."""
    if isinstance(value, dt.datetime):
        return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    return formats.date_format(value, "SHORT_DATE_FORMAT")
