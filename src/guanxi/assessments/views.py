"""Pages for partnership stage assessments: who stands where, one relationship, the form."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.assessments.choices import ASSESSABLE_CUSTOMER_TYPES, DEFAULT_QUESTIONNAIRE_CODE
from guanxi.assessments.forms import AssessmentForm
from guanxi.assessments.models import Assessment, Questionnaire
from guanxi.assessments.selectors import (
    dimension_scores,
    partnership_stages,
    relationship_assessment,
    validity_window,
)
from guanxi.assessments.services import assessment_record
from guanxi.core.choices import Role
from guanxi.core.errors import GuanxiError
from guanxi.hierarchy.choices import PartnershipStage
from guanxi.parties.selectors import customers_visible, user_roles

PAGE_SIZE = 50
# Raters are the people who deal with the customer; service and analysts read only.
RECORDING_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.SALES})


def can_record(user: Any) -> bool:
    return bool(user_roles(user) & RECORDING_ROLES)


def _assessable(user: Any):
    return customers_visible(user=user).filter(customer_type__in=ASSESSABLE_CUSTOMER_TYPES)


@login_required
def assessment_index(request: HttpRequest) -> HttpResponse:
    """Business and channel customers with a stage assessment that still counts, filterable."""
    today = timezone.localdate()
    start, end = validity_window(today)
    stages = {row.pop("customer_id"): row for row in partnership_stages(as_of=today).to_pylist()}
    search = request.GET.get("q", "").strip()
    stage = request.GET.get("stage", "")
    gap_only = request.GET.get("gap") == "1"

    customers = _assessable(request.user)
    if stage in PartnershipStage.values or gap_only:
        ids = [
            pk
            for pk, row in stages.items()
            if (not gap_only or row["perception_gap"])
            and (stage not in PartnershipStage.values or row["partnership_stage"] == stage)
        ]
        customers = customers.filter(pk__in=ids)
    else:
        answered = Assessment.objects.filter(
            customer=OuterRef("pk"), answered_on__gte=start, answered_on__lte=end
        )
        customers = customers.filter(Exists(answered))
    if search:
        customers = customers.filter(Q(name__icontains=search) | Q(external_id__icontains=search))
    page = Paginator(
        customers.order_by("name", "pk").only("pk", "name", "external_id", "customer_type"),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    labels = dict(PartnershipStage.choices)
    rows = []
    for customer in page:
        row = stages.get(customer.pk, {})
        rows.append(
            {
                "customer": customer,
                "company_stage": labels.get(row.get("partnership_stage"), ""),
                "customer_stage": labels.get(row.get("partnership_stage_customer"), ""),
                "perception_gap": bool(row.get("perception_gap")),
            }
        )
    context = {
        "page": page,
        "rows": rows,
        "search": search,
        "stage": stage,
        "gap_only": gap_only,
        "stage_choices": PartnershipStage.choices,
        "window_start": start,
        "can_record": can_record(request.user),
    }
    template = "assessments/index.html#results" if request.htmx else "assessments/index.html"
    return render(request, template, context)


@login_required
def assessment_customer(request: HttpRequest, pk: int) -> HttpResponse:
    """One relationship: each side's stage, the perception gap, the dimensions and the history."""
    customer = get_object_or_404(_assessable(request.user), pk=pk)
    standing = relationship_assessment(customer)
    history = (
        Assessment.objects.filter(customer=customer)
        .select_related("questionnaire", "rater")
        .order_by("-answered_on", "-pk")[:50]
    )
    dimensions = dimension_scores(standing)
    labels = dict(PartnershipStage.choices)
    chart = {
        "labels": [d.label for d in dimensions],
        "company": [d.company for d in dimensions],
        "customer": [d.customer for d in dimensions],
        "names": {"company": _("Company raters"), "customer": _("Customer")},
        "axis": _("Mean score (1–5)"),
    }
    return render(
        request,
        "assessments/customer.html",
        {
            "customer": customer,
            "standing": standing,
            "history": history,
            "dimensions": dimensions,
            "chart": chart,
            "company_stage": labels.get(standing.company_stage, ""),
            "customer_stage": labels.get(standing.customer_stage, ""),
            "can_record": can_record(request.user),
        },
    )


@login_required
def assessment_new(request: HttpRequest, pk: int) -> HttpResponse:
    """The rater form on the active questionnaire; recording checks everything again server-side."""
    if not can_record(request.user):
        raise PermissionDenied(_("Your role reads assessments but does not record them."))
    customer = get_object_or_404(_assessable(request.user), pk=pk)
    questionnaire = Questionnaire.objects.filter(
        code=DEFAULT_QUESTIONNAIRE_CODE, is_active=True
    ).first()
    if questionnaire is None:
        messages.error(
            request, _("No questionnaire is active; an administrator must activate one.")
        )
        return redirect("assessments:customer", pk=customer.pk)
    form = AssessmentForm(request.POST or None, questionnaire=questionnaire)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        customer_answer = data["rater_role"] == "customer"
        try:
            assessment = assessment_record(
                customer=customer,
                questionnaire=questionnaire,
                rater_role=data["rater_role"],
                answers=form.answers(),
                answered_on=data["answered_on"],
                rater=None if customer_answer else request.user,
                rater_name=data["rater_name"] if customer_answer else "",
                notes=data["notes"],
                actor=request.user,
            )
        except GuanxiError as error:
            field = error.field if error.field in form.fields else None
            form.add_error(field, error.message)
        else:
            messages.success(
                request,
                _("Recorded: mean score %(score).2f, stage %(stage)s.")
                % {
                    "score": assessment.mean_score,
                    "stage": PartnershipStage(assessment.stage).label,
                },
            )
            return redirect("assessments:customer", pk=customer.pk)
    return render(
        request,
        "assessments/new.html",
        {"customer": customer, "questionnaire": questionnaire, "form": form},
        status=400 if request.method == "POST" else 200,
    )
