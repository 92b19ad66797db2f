"""REST API of scoring: the customers' score snapshots and the scoring runs, mounted by
guanxi.api_urls.

- ``/scores/``: one row per customer and run, of the latest successful run unless ``?run=`` asks
  for another (``?run=all``: every run, e.g. with ``?customer=`` for one customer's history, so no
  separate history endpoint is needed). Only the customers the caller may see; no personal data.
  Keyset-paginated on the (run, customer) index, never counted.
- ``/scoring-runs/``: the history, one run's progress and diagnostics (as stored), and ``POST`` to
  queue a run (admin, manager, analyst; 202 with the queued request — the worker creates the run
  when it takes it, listed until then at ``/scoring-runs/queued/``).
"""

from __future__ import annotations

import math
import re
from typing import Any

import django_filters
from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from guanxi.core.api_base import IdCursorPagination
from guanxi.core.api_fields import MAX_ID, IdFilter, username_field
from guanxi.core.requests import client_ip
from guanxi.hierarchy.choices import FoundationHealth, LevelGap, PartnershipStage, RelationshipLevel
from guanxi.scoring.choices import LifecycleStage, RunStatus, ValueClass
from guanxi.scoring.models import CustomerScore, ScoringRun
from guanxi.scoring.selectors import (
    RUN_STARTERS,
    QueuedRun,
    run_latest_succeeded_id,
    runs_list,
    runs_queued,
    scores_visible,
)
from guanxi.scoring.services import scoring_run_request
from guanxi.scoring.views import STEP_LABELS

# The value of ``partnership_stage`` that selects the relationships nobody assessed.
NOT_ASSESSED = "none"


def finite(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by None (JSON has neither)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


class FiniteFloatField(serializers.FloatField):
    """A float, null where the stored value is not a finite number."""

    def to_representation(self, value: Any) -> float | None:
        value = super().to_representation(value)
        return value if math.isfinite(value) else None


@extend_schema_field(OpenApiTypes.OBJECT)
class StoredJSONField(serializers.JSONField):
    """A JSON object as stored, with non-finite numbers as null."""

    def to_representation(self, value: Any) -> Any:
        return finite(value or {})


# -- filters -----------------------------------------------------------------------------------


class RunField(forms.CharField):
    def clean(self, value: Any) -> str:
        value = (super().clean(value) or "").strip()
        if not value or value in {"latest", "all"}:
            return value
        if not re.fullmatch(r"[1-9][0-9]{0,18}", value) or int(value) > MAX_ID:
            raise forms.ValidationError(
                _("Give a scoring run id, “latest” or “all”."), code="invalid"
            )
        return value


class RunFilter(django_filters.CharFilter):
    """Which run's scores: an id, ``latest`` (the default) or ``all``; applied by the filterset."""

    field_class = RunField

    def filter(self, qs: models.QuerySet, value: Any) -> models.QuerySet:
        return qs


def _choice_filter(choices: Any, help_text: Any) -> django_filters.ChoiceFilter:
    return django_filters.ChoiceFilter(choices=choices.choices, help_text=help_text)


class ScoreFilterSet(django_filters.FilterSet):
    run = RunFilter(
        max_length=20,
        help_text=_(
            "Which scoring run: its id, “latest” (the default: the most recent successful run) "
            "or “all” (every run, e.g. one customer's history)."
        ),
    )
    customer = IdFilter(
        field_name="customer_id", help_text=_("The customer's id."), schema=OpenApiTypes.INT
    )
    customer_external_id = django_filters.CharFilter(
        field_name="customer__external_id",
        max_length=64,
        help_text=_("The customer's external id (from the system of record)."),
    )
    actual_level = _choice_filter(RelationshipLevel, _("The relationship level practised."))
    recommended_level = _choice_filter(
        RelationshipLevel, _("The relationship level the segment calls for.")
    )
    level_gap = _choice_filter(LevelGap, _("Actual against recommended level."))
    abc_class = _choice_filter(ValueClass, _("The value class (ABC by cumulative profit)."))
    lifecycle_stage = _choice_filter(LifecycleStage, _("The lifecycle stage."))
    partnership_stage = django_filters.ChoiceFilter(
        choices=[*PartnershipStage.choices, (NOT_ASSESSED, _("not assessed"))],
        method="filter_partnership_stage",
        help_text=_("The B2B stage in the company's view; “none” for relationships not assessed."),
    )
    perception_gap = django_filters.BooleanFilter(
        help_text=_("The company and the customer see the relationship at different stages.")
    )
    foundation_health = _choice_filter(FoundationHealth, _("The health of the basics."))
    health_alert = django_filters.BooleanFilter(
        help_text=_("Failing basics at a high level or stage.")
    )
    segment = django_filters.CharFilter(max_length=100, help_text=_("The segment, exactly."))

    class Meta:
        model = CustomerScore
        fields: list[str] = []

    def filter_partnership_stage(
        self, queryset: models.QuerySet, name: str, value: str
    ) -> models.QuerySet:
        return queryset.filter(partnership_stage="" if value == NOT_ASSESSED else value)

    def filter_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        queryset = super().filter_queryset(queryset)
        run = self.form.cleaned_data.get("run") or "latest"
        if run == "all":
            return queryset
        if run == "latest":
            latest = run_latest_succeeded_id()
            return queryset.none() if latest is None else queryset.filter(run_id=latest)
        return queryset.filter(run_id=int(run))


class RunFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=RunStatus.choices, help_text=_("Only runs in this state.")
    )

    class Meta:
        model = ScoringRun
        fields: list[str] = []


# -- pagination --------------------------------------------------------------------------------


class ScoreCursorPagination(IdCursorPagination):
    """One run's scores in customer order (the (run, customer) index: any page is a short index
    range); every run's (``?run=all``) in id order."""

    def get_ordering(self, request: Request, queryset: Any, view: Any) -> tuple[str, ...]:
        if request.query_params.get("run", "").strip() == "all":
            return ("id",)
        return ("customer_id",)


class RunCursorPagination(IdCursorPagination):
    """Newest run first."""

    ordering = "-id"


# -- serializers -------------------------------------------------------------------------------

# The score's own columns, in model order (all of them: measures, evidence and explanations).
SCORE_MEASURES = [
    f.name for f in CustomerScore._meta.concrete_fields if f.name not in {"id", "run", "customer"}
]


class BlankAsNullChoiceField(serializers.ChoiceField):
    def to_representation(self, value: Any) -> Any:
        return None if value in ("", None) else super().to_representation(value)


class ScoreSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.FloatField: FiniteFloatField,
    }

    as_of = serializers.DateField(
        source="run.as_of", read_only=True, help_text=_("The as-of date of the scoring run.")
    )
    customer_external_id = serializers.CharField(
        source="customer.external_id", read_only=True, help_text=_("The customer's external id.")
    )
    customer_name = serializers.CharField(
        source="customer.name", read_only=True, help_text=_("The customer's name.")
    )
    # Stored as "" when nobody assessed the relationship; null in the API.
    partnership_stage = BlankAsNullChoiceField(
        choices=PartnershipStage.choices,
        read_only=True,
        allow_null=True,
        help_text=_("The B2B partnership stage from the company's raters; null if not assessed."),
    )
    partnership_stage_customer = BlankAsNullChoiceField(
        choices=PartnershipStage.choices,
        read_only=True,
        allow_null=True,
        help_text=_("The partnership stage in the customer's own view; null if not assessed."),
    )

    class Meta:
        model = CustomerScore
        fields = [
            "id",
            "run",
            "as_of",
            "customer",
            "customer_external_id",
            "customer_name",
            *SCORE_MEASURES,
        ]
        read_only_fields = fields


class ScoringRunSerializer(serializers.ModelSerializer):
    step_label = serializers.SerializerMethodField(help_text=_("What the current step does."))
    started_by_username = username_field(
        "started_by",
        help_text=_("Who started the run; null for the schedule or the command line."),
    )

    class Meta:
        model = ScoringRun
        fields = [
            "id",
            "as_of",
            "status",
            "progress",
            "step",
            "step_label",
            "started_by",
            "started_by_username",
            "started_at",
            "finished_at",
            "duration_s",
            "n_transactions",
            "n_customers",
            "error",
        ]
        read_only_fields = fields

    def get_step_label(self, run: ScoringRun) -> str:
        return str(STEP_LABELS.get(run.step, run.step))


class ScoringRunDetailSerializer(ScoringRunSerializer):
    config = StoredJSONField(read_only=True, help_text=_("The analytics configuration used."))
    policy = StoredJSONField(read_only=True, help_text=_("The hierarchy policy used."))
    metadata = StoredJSONField(
        read_only=True,
        help_text=_(
            "Fitted model parameters, log-likelihoods, standard errors, timings (timings_s), "
            "row counts and changes since the previous run, as stored."
        ),
    )

    class Meta(ScoringRunSerializer.Meta):
        fields = [*ScoringRunSerializer.Meta.fields, "config", "policy", "metadata"]
        read_only_fields = fields


class ScoringRunStartSerializer(serializers.Serializer):
    as_of = serializers.DateField(
        required=False,
        allow_null=True,
        help_text=_("The last day of purchases the run takes into account; empty means today."),
    )


class ScoringRunRequestSerializer(serializers.Serializer):
    """A requested run waiting for a worker (the worker creates the run when it takes it)."""

    task_id = serializers.CharField(help_text=_("The background task that will run it."))
    as_of = serializers.DateField(
        allow_null=True, help_text=_("The day it scores as of; null means the day it runs.")
    )
    requested_by = serializers.IntegerField(
        source="requested_by.pk", allow_null=True, default=None, help_text=_("Who asked for it.")
    )
    requested_by_username = serializers.CharField(
        source="requested_by.username", allow_null=True, default=None
    )
    enqueued_at = serializers.DateTimeField(allow_null=True)


# -- viewsets ----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Customers' score snapshots",
        description=(
            "One row per customer and scoring run: the latest successful run by default, "
            "`?run=<id>` for another, `?run=all` for every run (with `?customer=`, one "
            "customer's history). Only customers visible to you. Ordered by customer id within "
            "a run, by id across runs; cursor-paginated, never counted."
        ),
    ),
    retrieve=extend_schema(summary="One score snapshot"),
)
class ScoreViewSet(viewsets.ReadOnlyModelViewSet):
    """Score snapshots (客户评分快照): every role reads those of the customers it may see."""

    serializer_class = ScoreSerializer
    filterset_class = ScoreFilterSet
    pagination_class = ScoreCursorPagination
    queryset = CustomerScore.objects.none()

    def get_queryset(self) -> models.QuerySet:
        return (
            scores_visible(user=self.request.user)
            .select_related("run")
            .defer("run__metadata", "run__config", "run__policy")
        )

    def filter_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        # A snapshot is fetched by its id whatever its run: the run filter is for lists.
        if self.action == "retrieve":
            return queryset
        return super().filter_queryset(queryset)


@extend_schema_view(
    list=extend_schema(summary="Scoring runs, newest first"),
    retrieve=extend_schema(
        summary="One scoring run: progress, and diagnostics as stored",
        responses=ScoringRunDetailSerializer,
    ),
    create=extend_schema(
        summary="Queue a scoring run (admin, manager, analyst)",
        description=(
            "Queues a run for a background worker and answers 202 with the request; the worker "
            "creates the run when it takes it (it then appears in this list). Refused with 409 "
            "while another requested run still waits for a worker."
        ),
        request=ScoringRunStartSerializer,
        responses={202: ScoringRunRequestSerializer},
    ),
    queued=extend_schema(
        summary="Requested runs waiting for a worker, oldest first",
        responses=ScoringRunRequestSerializer(many=True),
    ),
)
class ScoringRunViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Scoring runs (评分批次): every role reads them (they hold no customer data)."""

    serializer_class = ScoringRunSerializer
    filterset_class = RunFilterSet
    pagination_class = RunCursorPagination
    action_roles = {"create": RUN_STARTERS}
    queryset = ScoringRun.objects.none()

    def get_queryset(self) -> models.QuerySet:
        if self.action == "retrieve":
            return ScoringRun.objects.select_related("started_by")
        return runs_list()

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action == "retrieve":
            return ScoringRunDetailSerializer
        if self.action == "create":
            return ScoringRunStartSerializer
        return ScoringRunSerializer

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = ScoringRunStartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        queued = scoring_run_request(
            actor=request.user,
            as_of=serializer.validated_data.get("as_of"),
            ip_address=client_ip(request),
        )
        return Response(ScoringRunRequestSerializer(queued).data, status=status.HTTP_202_ACCEPTED)

    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def queued(self, request: Request) -> Response:
        waiting: list[QueuedRun] = runs_queued()
        return Response(ScoringRunRequestSerializer(waiting, many=True).data)


routes = [
    ("scores", ScoreViewSet, "api-score"),
    ("scoring-runs", ScoringRunViewSet, "api-scoring-run"),
]
