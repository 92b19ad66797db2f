"""The case queue and the case page: deadline countdown, filters, classification (dissatisfied /
satisfied / very satisfied), assignment, first response, resolution, and the times they took.

Cases are listed for the customers the user may see (service staff: all of them, with personal
data masked); changing a case needs a role that works with customers. Each change goes through
``guanxi.engagement.services``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from guanxi.core.errors import GuanxiError
from guanxi.core.models import Event
from guanxi.core.requests import client_ip
from guanxi.core.services import event_record
from guanxi.engagement.choices import OPEN_CASE_STATUSES
from guanxi.engagement.forms import (
    CaseAssignForm,
    CaseClassifyForm,
    CaseFilterForm,
    CaseTransitionForm,
)
from guanxi.engagement.models import Case
from guanxi.engagement.services import (
    case_assign,
    case_classify,
    case_respond,
    case_transition,
)
from guanxi.parties.selectors import (
    customer_work_allowed,
    personal_data_masked,
    personal_data_visible,
    users_assignable,
    visible_through_customer,
)

PAGE_SIZE = 25
CATEGORIES_LISTED = 200
HISTORY_SHOWN = 50
# The personal data a case page shows: how to reach the customer (not where they live).
REACH_FIELDS = ("phone", "email", "wechat_id")


def _cases_visible(user: Any) -> QuerySet[Case]:
    return visible_through_customer(Case.objects.all(), user=user)


def _categories() -> list[str]:
    return list(
        Case.objects.exclude(category="")
        .order_by("category")
        .values_list("category", flat=True)
        .distinct()[:CATEGORIES_LISTED]
    )


def _filtered(cases: QuerySet[Case], data: dict[str, Any], *, user: Any) -> QuerySet[Case]:
    status = data.get("status") or CaseFilterForm.ACTIVE
    if status == CaseFilterForm.ACTIVE:
        cases = cases.filter(status__in=OPEN_CASE_STATUSES)
    elif status != CaseFilterForm.ALL:
        cases = cases.filter(status=status)
    for field in ("severity", "kind", "category"):
        if data.get(field):
            cases = cases.filter(**{field: data[field]})
    satisfaction = data.get("satisfaction")
    if satisfaction == "unclassified":
        cases = cases.filter(satisfaction="")
    elif satisfaction:
        cases = cases.filter(satisfaction=satisfaction)
    owner = data.get("owner")
    if owner == CaseFilterForm.MINE:
        cases = cases.filter(owner=user)
    elif owner == CaseFilterForm.NOBODY:
        cases = cases.filter(owner__isnull=True)
    elif owner:
        cases = cases.filter(owner_id=int(owner))
    if data.get("overdue"):
        cases = cases.filter(status__in=OPEN_CASE_STATUSES, due_at__lt=timezone.now())
    # Soonest deadline first: the queue is worked from the top.
    return cases.select_related("customer", "owner").order_by("due_at", "id")


@login_required
@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    owners = users_assignable(user=user)
    form = CaseFilterForm(request.GET or None, categories=_categories(), owners=owners)
    context: dict[str, Any] = {"form": form, "page": None, "now": timezone.now()}
    if request.GET and not form.is_valid():
        return render(request, "engagement/case_list.html", context, status=400)
    data = form.cleaned_data if request.GET else {}
    visible = _cases_visible(user)
    page = Paginator(_filtered(visible, data, user=user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    summary = visible.filter(status__in=OPEN_CASE_STATUSES).aggregate(
        open=Count("id"), overdue=Count("id", filter=Q(due_at__lt=context["now"]))
    )
    query = request.GET.copy()
    query.pop("page", None)
    context.update(page=page, summary=summary, query=query.urlencode())
    template = "engagement/_case_results.html" if request.htmx else "engagement/case_list.html"
    return render(request, template, context)


def _case_or_404(request: HttpRequest, pk: int) -> Case:
    return get_object_or_404(
        _cases_visible(request.user).select_related("customer", "owner", "contact", "order"),
        pk=pk,
    )


def _customer_data(request: HttpRequest, case: Case) -> list[dict[str, Any]]:
    """How to reach the customer, masked unless the user's role sees personal data (an unmasked
    view is recorded as an access)."""
    visible = personal_data_visible(user=request.user)
    customer = case.customer
    shown = [
        {
            "field": f,
            "value": getattr(customer, f)
            if visible
            else personal_data_masked(getattr(customer, f), field=f),
        }
        for f in REACH_FIELDS
        if getattr(customer, f)
    ]
    if visible and shown:
        event_record(
            kind="customer.personal_data_viewed",
            actor=request.user,
            customer=customer,
            subject=customer,
            data={"fields": [s["field"] for s in shown], "page": "case_detail", "case": case.pk},
            ip_address=client_ip(request),
        )
    return shown


def _panel_context(request: HttpRequest, case: Case, **bound: Any) -> dict[str, Any]:
    can_work = customer_work_allowed(user=request.user)
    context: dict[str, Any] = {"case": case, "now": timezone.now(), "can_work": can_work}
    if can_work:
        owners = users_assignable(user=request.user)
        context.update(
            assign_form=CaseAssignForm(owners=owners, initial={"owner": case.owner_id}),
            transition_form=CaseTransitionForm(case=case),
            classify_form=CaseClassifyForm(initial={"satisfaction": case.satisfaction}),
        )
    context.update(bound)
    return context


@login_required
@require_GET
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_or_404(request, pk)
    history = (
        Event.objects.filter(
            subject_type=ContentType.objects.get_for_model(Case), subject_id=case.pk
        )
        .select_related("actor")
        .order_by("occurred_at", "id")[:HISTORY_SHOWN]
    )
    context = _panel_context(request, case)
    context.update(customer_data=_customer_data(request, case), history=list(history))
    return render(request, "engagement/case_detail.html", context)


def _case_to_change(request: HttpRequest, pk: int) -> Case:
    case = _case_or_404(request, pk)
    if not customer_work_allowed(user=request.user):
        raise PermissionDenied(_("Your role may look at cases but not change them."))
    return case


def _panel_response(
    request: HttpRequest, case: Case, *, notice: str = "", error: str = "", **bound: Any
) -> HttpResponse:
    """The case panel again (htmx), or back to the case page with a message."""
    if not request.htmx:
        if error:
            messages.error(request, error)
        elif notice:
            messages.success(request, notice)
        return redirect(reverse("engagement:case_detail", args=[case.pk]))
    case = _case_or_404(request, case.pk)
    context = _panel_context(request, case, **bound)
    context.update(notice=notice, error=error)
    return render(request, "engagement/_case_panel.html", context)


@login_required
@require_POST
def case_assign_view(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_to_change(request, pk)
    form = CaseAssignForm(request.POST, owners=users_assignable(user=request.user))
    if not form.is_valid():
        return _panel_response(request, case, error=" ".join(form.errors.get("owner", [])))
    owner = form.cleaned_data["owner"]
    case_assign(case=case, owner=owner, actor=request.user)
    name = owner.get_full_name() or owner.get_username()
    return _panel_response(request, case, notice=_("Assigned to %(name)s.") % {"name": name})


@login_required
@require_POST
def case_respond_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Record that the customer got a first answer (the clock of the first-response time)."""
    case = _case_to_change(request, pk)
    if case.first_response_at is not None:
        return _panel_response(request, case, error=_("The first response is already recorded."))
    case_respond(case=case, actor=request.user)
    return _panel_response(request, case, notice=_("First response recorded."))


@login_required
@require_POST
def case_transition_view(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_to_change(request, pk)
    form = CaseTransitionForm(request.POST, case=case)
    if form.is_valid():
        data = form.cleaned_data
        try:
            case = case_transition(
                case=case,
                status=data["status"],
                actor=request.user,
                resolution=data["resolution"].strip() or None,
                satisfaction=data["satisfaction"] or None,
            )
        except (GuanxiError, ValidationError) as exc:
            form.add_service_error(exc)
        else:
            notice = _("The case is now %(status)s.") % {"status": case.get_status_display()}
            return _panel_response(request, case, notice=notice)
    if request.htmx and form.fields["status"].choices:
        return _panel_response(request, case, transition_form=form)  # the errors by their fields
    # No form to show them in (a closed case, or no htmx): say what was wrong in words.
    errors = [str(e) for errors in form.errors.values() for e in errors]
    return _panel_response(request, case, error=" ".join(errors))


@login_required
@require_POST
def case_classify_view(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_to_change(request, pk)
    form = CaseClassifyForm(request.POST)
    if not form.is_valid():
        return _panel_response(request, case, error=" ".join(form.errors.get("satisfaction", [])))
    case = case_classify(
        case=case, satisfaction=form.cleaned_data["satisfaction"], actor=request.user
    )
    notice = _("Classified as %(label)s.") % {"label": case.get_satisfaction_display()}
    return _panel_response(request, case, notice=notice)
