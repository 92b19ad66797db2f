"""REST API of the relationship hierarchy ("levels"), mounted by guanxi.api_urls.

- ``/hierarchy/policy/``: the thresholds of the level, segment and foundation rules.
- ``/hierarchy/pyramid/``: customers and profit per relationship level, actual against
  recommended, in the latest successful scoring run (or ``?run=``), under the dashboard's filters
  and scope: admin, manager and analyst aggregate over every customer, anyone else over the
  customers they may see (``hierarchy.selectors.dashboard_scopes``), as on the dashboard.
- ``/bonds/``: the financial, social and structural bonds of the customers the caller may see;
  the roles that work with customers record them and end them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from guanxi.core.api_base import IdCursorPagination
from guanxi.core.api_fields import IdFilter, IdRelatedField, id_field, username_field
from guanxi.hierarchy.choices import BondInstrument, BondKind, LevelGap, RelationshipLevel
from guanxi.hierarchy.forms import DashboardFilterForm
from guanxi.hierarchy.models import Bond, HierarchyPolicy
from guanxi.hierarchy.selectors import (
    bonds_visible,
    dashboard_owners,
    hierarchy_policy,
    latest_runs,
    pyramid_summary,
    run_succeeded,
)
from guanxi.hierarchy.services import bond_end, bond_record
from guanxi.parties.choices import CustomerType
from guanxi.parties.selectors import customers_visible

# -- policy ------------------------------------------------------------------------------------


class HierarchyPolicySerializer(serializers.ModelSerializer):
    class Meta:
        model = HierarchyPolicy
        exclude = ["id"]
        read_only_fields = [f.name for f in HierarchyPolicy._meta.concrete_fields]


# -- pyramid -----------------------------------------------------------------------------------


class PyramidRunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    as_of = serializers.DateField()


class PyramidLevelSerializer(serializers.Serializer):
    level = serializers.ChoiceField(choices=RelationshipLevel.choices)
    label = serializers.CharField()
    actual_customers = serializers.IntegerField(help_text=_("Customers at this level now."))
    actual_profit_cents = serializers.IntegerField(help_text=_("Their profit."))
    actual_customer_share = serializers.FloatField(help_text=_("Their share of the customers."))
    actual_profit_share = serializers.FloatField(help_text=_("Their share of the profit."))
    recommended_customers = serializers.IntegerField(
        help_text=_("Customers whose segment calls for this level.")
    )
    recommended_profit_cents = serializers.IntegerField()
    recommended_customer_share = serializers.FloatField()
    recommended_profit_share = serializers.FloatField()


class PyramidGapSerializer(serializers.Serializer):
    gap = serializers.ChoiceField(choices=LevelGap.choices)
    label = serializers.CharField()
    customers = serializers.IntegerField()
    profit_cents = serializers.IntegerField()
    clv_cents = serializers.FloatField(help_text=_("Their customer lifetime value, summed."))


class PyramidSerializer(serializers.Serializer):
    run = PyramidRunSerializer(
        allow_null=True, help_text=_("The scoring run; null before the first successful one.")
    )
    whole_base = serializers.BooleanField(
        help_text=_(
            "The sums cover every customer (admin, manager, analyst); otherwise only the "
            "customers you may see."
        )
    )
    customers = serializers.IntegerField()
    profit_cents = serializers.IntegerField()
    levels = PyramidLevelSerializer(many=True, help_text=_("Lowest level first."))
    gaps = PyramidGapSerializer(many=True)


class PyramidQuerySerializer(serializers.Serializer):
    run = id_field(required=False)


PYRAMID_PARAMETERS = [
    OpenApiParameter(
        "run",
        OpenApiTypes.INT,
        description=_("A successful scoring run's id; the latest one when left out."),
    ),
    OpenApiParameter(
        "customer_type",
        OpenApiTypes.STR,
        enum=CustomerType.values,
        description=_("Only customers of this type."),
    ),
    OpenApiParameter(
        "owner",
        OpenApiTypes.STR,
        pattern=r"^(none|[1-9][0-9]{0,18})$",
        description=_(
            "Only the customers of this account owner (a user id), or “none” for the unassigned."
        ),
    ),
    OpenApiParameter("segment", OpenApiTypes.STR, description=_("Only this segment of the run.")),
]


class HierarchyViewSet(viewsets.GenericViewSet):
    """The hierarchy's policy and pyramid: every role reads them (aggregates, no customer)."""

    queryset = HierarchyPolicy.objects.none()
    serializer_class = HierarchyPolicySerializer
    pagination_class = None
    filter_backends: list = []

    @extend_schema(summary="The hierarchy policy in force", responses=HierarchyPolicySerializer)
    @action(detail=False, methods=["get"])
    def policy(self, request: Request) -> Response:
        return Response(HierarchyPolicySerializer(hierarchy_policy()).data)

    @extend_schema(
        summary="The level pyramid: customers and profit per level, actual against recommended",
        parameters=PYRAMID_PARAMETERS,
        responses=PyramidSerializer,
    )
    @action(detail=False, methods=["get"], serializer_class=PyramidSerializer)
    def pyramid(self, request: Request) -> Response:
        params = PyramidQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        form = DashboardFilterForm(
            request.query_params, owners=list(dashboard_owners(user=request.user))
        )
        if not form.is_valid():
            raise serializers.ValidationError(
                {
                    name: [e["message"] for e in errors]
                    for name, errors in form.errors.get_json_data().items()
                }
            )
        run_id = params.validated_data.get("run")
        if run_id is None:
            runs = latest_runs(1)
            run = runs[0] if runs else None
        else:
            run = run_succeeded(run_id)
            if run is None:
                raise NotFound(_("No successful scoring run has this id."))
        data = pyramid_summary(user=request.user, run=run, filters=form.scope_filters())
        return Response(PyramidSerializer(data).data)


# -- bonds -------------------------------------------------------------------------------------


class VisibleCustomerField(IdRelatedField):
    """A customer id among those the requesting user may see (others read as not existing)."""

    default_error_messages = {
        "does_not_exist": _("No customer with id {pk_value}, or not one visible to you."),
        "incorrect_type": _("Give the customer's id, a whole number."),
    }

    def get_queryset(self) -> QuerySet:
        return customers_visible(user=self.context["request"].user)


class BondSerializer(serializers.ModelSerializer):
    customer = VisibleCustomerField(help_text=_("The customer's id."))
    customer_external_id = serializers.CharField(source="customer.external_id", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    instrument = serializers.ChoiceField(
        choices=BondInstrument.choices,
        help_text=_("What the bond is; its kind (financial, social, structural) follows."),
    )
    kind = serializers.ChoiceField(choices=BondKind.choices, read_only=True)
    ended_on = serializers.DateField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=200)
    recorded_by_username = username_field("recorded_by")

    class Meta:
        model = Bond
        fields = [
            "id",
            "customer",
            "customer_external_id",
            "customer_name",
            "instrument",
            "kind",
            "started_on",
            "ended_on",
            "note",
            "recorded_by",
            "recorded_by_username",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["kind", "recorded_by", "created_at", "updated_at"]


class BondEndSerializer(serializers.Serializer):
    ended_on = serializers.DateField(help_text=_("The last day the bond held."))


class BondFilterSet(django_filters.FilterSet):
    customer = IdFilter(
        field_name="customer_id", help_text=_("The customer's id."), schema=OpenApiTypes.INT
    )
    customer_external_id = django_filters.CharFilter(
        field_name="customer__external_id",
        max_length=64,
        help_text=_("The customer's external id."),
    )
    kind = django_filters.ChoiceFilter(choices=BondKind.choices)
    instrument = django_filters.ChoiceFilter(choices=BondInstrument.choices)
    active = django_filters.BooleanFilter(
        method="filter_active",
        help_text=_("Started and not ended as of today (true), or not (false)."),
    )

    class Meta:
        model = Bond
        fields: list[str] = []

    def filter_active(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        today: dt.date = timezone.localdate()
        holds = Q(started_on__lte=today) & (Q(ended_on__isnull=True) | Q(ended_on__gte=today))
        return queryset.filter(holds) if value else queryset.exclude(holds)


@extend_schema_view(
    list=extend_schema(summary="Bonds of the customers visible to you"),
    retrieve=extend_schema(summary="One bond"),
    create=extend_schema(summary="Record a bond (not analysts)", responses={201: BondSerializer}),
    end=extend_schema(
        summary="End a bond (not analysts)", request=BondEndSerializer, responses=BondSerializer
    ),
)
class BondViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Bonds (联系): every role reads those of the customers it sees; admin, manager, sales and
    service record and end them."""

    serializer_class = BondSerializer
    filterset_class = BondFilterSet
    pagination_class = IdCursorPagination
    queryset = Bond.objects.none()

    def get_queryset(self) -> QuerySet:
        return bonds_visible(user=self.request.user)

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data = serializer.validated_data
        serializer.instance = bond_record(
            customer=data["customer"],
            instrument=data["instrument"],
            started_on=data["started_on"],
            ended_on=data.get("ended_on"),
            note=data.get("note", ""),
            actor=self.request.user,
        )

    @action(detail=True, methods=["post"], filterset_class=None)
    def end(self, request: Request, pk: Any = None) -> Response:
        bond = self.get_object()
        payload = BondEndSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        bond = bond_end(bond=bond, ended_on=payload.validated_data["ended_on"], actor=request.user)
        return Response(BondSerializer(bond, context=self.get_serializer_context()).data)


routes = [
    ("hierarchy", HierarchyViewSet, "api-hierarchy"),
    ("bonds", BondViewSet, "api-bond"),
]
