"""REST API of parties: customers (with their standing in the latest scoring run) and contacts.

Record-level rules come from the selectors: a customer the caller may not see is 404, and contacts
are seen through their customer. Phone, email, WeChat id and address are masked for roles without
``personal_data_visible``; a response that shows them unmasked records one
``customer.personal_data_viewed`` event per customer shown.

The customer list takes the customer page's filters (``CustomerFilterSet``) with the same query
parameters, except ``sort``: the API pages with a cursor in id order, which stays stable while
customers are added (``sort`` is answered with 400, not silently ignored).
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from guanxi.core.api_fields import ID_SCHEMA, MAX_ID, IdFilter
from guanxi.core.choices import Role
from guanxi.core.errors import ErrorCode, GuanxiError
from guanxi.core.requests import client_ip
from guanxi.hierarchy.selectors import latest_run
from guanxi.parties.choices import PERSONAL_DATA_FIELDS, CustomerType
from guanxi.parties.filtersets import CustomerFilterSet
from guanxi.parties.models import Contact, Customer
from guanxi.parties.selectors import (
    customers_by_reference,
    customers_standing_annotate,
    customers_with_standing,
    personal_data_masked,
    personal_data_visible,
    user_roles,
    users_assignable,
    visible_through_customer,
)
from guanxi.parties.services import (
    contact_create,
    contact_update,
    customer_create,
    customer_update,
    customers_reassign,
    personal_data_viewed_record,
)
from guanxi.scoring.models import CustomerScore, ScoringRun

# Customers and contacts are changed by the roles that own customer relationships; service and
# analysts read them here.
CUSTOMER_WRITE_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.SALES})
# The most customers one reassignment moves.
MAX_REASSIGN = 10_000

NOT_VISIBLE = gettext_lazy("No such customer, or not one you may see.")


# -- shared fields -----------------------------------------------------------------------------


@extend_schema_field(
    {
        "oneOf": [
            ID_SCHEMA,
            {"type": "string", "minLength": 1, "maxLength": 64},
        ],
        "description": "A customer: its id (a number) or its external id (a string).",
    }
)
class CustomerReferenceField(serializers.Field):
    """A customer by id (a JSON number) or by external id (a JSON string)."""

    default_error_messages = {
        "invalid": gettext_lazy(
            "Give a customer id (a number) or a customer external id (a string)."
        ),
    }

    def to_internal_value(self, data: Any) -> int | str:
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, int):
            if not 1 <= data <= MAX_ID:
                self.fail("invalid")
            return data
        if isinstance(data, str):
            return serializers.CharField(max_length=64).run_validation(data)
        self.fail("invalid")

    def to_representation(self, value: Any) -> Any:
        return value


@extend_schema_field(OpenApiTypes.STR)
class OwnerField(serializers.Field):
    """A user by username (null: nobody, the unassigned pool); written out as the username."""

    default_error_messages = {
        "invalid": gettext_lazy("Give the owner's username, or null for the unassigned pool."),
        "unknown": gettext_lazy("No active user has the username “{username}”."),
    }

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid")
        username = serializers.CharField(max_length=150).run_validation(data)
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            self.fail("unknown", username=username)
        return user

    def to_representation(self, value: Any) -> str:
        return value.get_username()


class MaskedSerializer(serializers.Serializer):
    """Masks the personal data fields it has unless the context says ``masked`` is False."""

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        if self.context.get("masked", True):
            for field in PERSONAL_DATA_FIELDS:
                if field in data:
                    data[field] = personal_data_masked(data[field] or "", field=field)
        return data


class PersonalDataViewMixin:
    """For viewsets that show personal data: the ``masked`` serializer context and the audit
    events of unmasked views."""

    request: Request

    def unmasked(self) -> bool:
        return personal_data_visible(user=self.request.user)

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()  # type: ignore[misc]
        context["masked"] = not self.unmasked()
        return context

    def record_views(self, views: dict[int, dict[str, Any]]) -> None:
        """One ``customer.personal_data_viewed`` event per customer in ``views`` (customer id →
        data) — only when the caller saw the data unmasked."""
        if self.unmasked() and views:
            personal_data_viewed_record(
                actor=self.request.user, views=views, ip_address=client_ip(self.request)
            )


def _customer_views(customers: list[Customer]) -> dict[int, dict[str, Any]]:
    views = {}
    for customer in customers:
        fields = [f for f in PERSONAL_DATA_FIELDS if getattr(customer, f)]
        if fields:
            views[customer.pk] = {"fields": fields, "via": "api"}
    return views


# -- customers ---------------------------------------------------------------------------------


class CustomerStandingSerializer(serializers.Serializer):
    scoring_run = serializers.IntegerField(
        help_text=gettext_lazy("The scoring run these measures come from (the latest one).")
    )
    as_of = serializers.DateField(help_text=gettext_lazy("The day the scoring run judged."))
    actual_level = serializers.ChoiceField(
        choices=CustomerScore._meta.get_field("actual_level").choices
    )
    recommended_level = serializers.ChoiceField(
        choices=CustomerScore._meta.get_field("recommended_level").choices
    )
    level_gap = serializers.ChoiceField(choices=CustomerScore._meta.get_field("level_gap").choices)
    partnership_stage = serializers.ChoiceField(
        choices=CustomerScore._meta.get_field("partnership_stage").choices,
        allow_blank=True,
        help_text=gettext_lazy("Empty for customers that are not businesses."),
    )
    abc_class = serializers.ChoiceField(choices=CustomerScore._meta.get_field("abc_class").choices)
    lifecycle_stage = serializers.ChoiceField(
        choices=CustomerScore._meta.get_field("lifecycle_stage").choices
    )
    clv_cents = serializers.FloatField(
        allow_null=True,
        help_text=gettext_lazy("Customer lifetime value in cents; null when not estimable."),
    )
    last_purchase = serializers.DateField(allow_null=True)


def _finite(value: float | None) -> float | None:
    if value is None or value != value or value in (float("inf"), float("-inf")):
        return None
    return value


class CustomerSerializer(MaskedSerializer):
    """A customer as the API shows it; personal data masked for roles that do not see it."""

    id = serializers.IntegerField(read_only=True)
    external_id = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    customer_type = serializers.ChoiceField(choices=CustomerType.choices, read_only=True)
    owner = OwnerField(
        read_only=True,
        allow_null=True,
        help_text=gettext_lazy("The account owner's username; null: the unassigned pool."),
    )
    region = serializers.CharField(read_only=True)
    tags = serializers.SerializerMethodField()
    phone = serializers.CharField(read_only=True)
    email = serializers.CharField(read_only=True)
    wechat_id = serializers.CharField(read_only=True)
    address = serializers.CharField(read_only=True)
    marketing_consent = serializers.BooleanField(read_only=True)
    is_active = serializers.BooleanField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    standing = serializers.SerializerMethodField(
        help_text=gettext_lazy(
            "The customer's measures in the latest scoring run; null when no run scored them."
        )
    )

    def get_tags(self, obj: Customer) -> list[str]:
        return [tag.name for tag in obj.tags.all()]

    @extend_schema_field(CustomerStandingSerializer(allow_null=True))
    def get_standing(self, obj: Customer) -> dict[str, Any] | None:
        run: ScoringRun | None = self.context.get("run")
        level = getattr(obj, "standing_actual_level", None)
        if run is None or level is None:
            return None
        return {
            "scoring_run": run.pk,
            "as_of": run.as_of.isoformat(),
            "actual_level": level,
            "recommended_level": obj.standing_recommended_level,
            "level_gap": obj.standing_level_gap,
            "partnership_stage": obj.standing_partnership_stage,
            "abc_class": obj.standing_abc_class,
            "lifecycle_stage": obj.standing_lifecycle_stage,
            "clv_cents": _finite(obj.standing_clv_cents),
            "last_purchase": (
                obj.standing_last_purchase.isoformat() if obj.standing_last_purchase else None
            ),
        }


class CustomerUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    customer_type = serializers.ChoiceField(choices=CustomerType.choices)
    owner = OwnerField(
        allow_null=True,
        help_text=gettext_lazy(
            "The account owner's username, or null for the unassigned pool. Sales may name only "
            "themselves; managers the members of their team."
        ),
    )
    region = serializers.CharField(max_length=64, allow_blank=True)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50),
        max_length=50,
        help_text=gettext_lazy("Tag names; they replace the customer's tags."),
    )
    phone = serializers.CharField(max_length=32, allow_blank=True)
    email = serializers.EmailField(max_length=254, allow_blank=True)
    wechat_id = serializers.CharField(max_length=64, allow_blank=True)
    address = serializers.CharField(max_length=300, allow_blank=True)
    marketing_consent = serializers.BooleanField()
    is_active = serializers.BooleanField()


class CustomerCreateSerializer(CustomerUpdateSerializer):
    external_id = serializers.CharField(
        max_length=64,
        help_text=gettext_lazy("The customer's id in the system it came from; unique."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if name not in ("external_id", "name", "customer_type"):
                field.required = False


class CustomerReassignSerializer(serializers.Serializer):
    customers = serializers.ListField(
        child=CustomerReferenceField(),
        min_length=1,
        max_length=MAX_REASSIGN,
        help_text=gettext_lazy("The customers, by id (numbers) or external id (strings)."),
    )
    owner = OwnerField(
        allow_null=True,
        help_text=gettext_lazy("The new owner's username, or null for the unassigned pool."),
    )


class CustomerReassignedSerializer(serializers.Serializer):
    customers = serializers.IntegerField(help_text=gettext_lazy("Customers named."))
    changed = serializers.IntegerField(
        help_text=gettext_lazy("Customers whose owner changed (the others had it already).")
    )
    owner = serializers.CharField(allow_null=True)


class CustomerApiFilterSet(CustomerFilterSet):
    """The customer page's filters without ``sort`` (the API pages in id order)."""

    sort = None


def _check_assignable(user: Any, owner: Any) -> None:
    """Refuse an owner ``user`` may not hand customers to (null, the pool, is always allowed)."""
    if owner is not None and not users_assignable(user=user).filter(pk=owner.pk).exists():
        raise GuanxiError(
            _("You may not make %(username)s the owner of customers.")
            % {"username": owner.get_username()},
            code=ErrorCode.NOT_ALLOWED,
            field="owner",
        )


_OWNER_PARAMETER = OpenApiParameter(
    "owner",
    OpenApiTypes.STR,
    pattern=r"^(null|[0-9]+)$",
    description="The owner's user id, or `null` for the unassigned pool (as on the customer page).",
)


@extend_schema_view(
    list=extend_schema(
        summary="Customers you may see",
        description=(
            "Filters as on the customer page (same parameters and meaning). Pages follow the "
            "cursor in `next`, in id order; `sort` is for the page only and is refused here. "
            "Personal data is masked for roles that do not see it."
        ),
        parameters=[_OWNER_PARAMETER],
    ),
    retrieve=extend_schema(summary="One customer"),
    create=extend_schema(
        summary="Create a customer",
        description=(
            "A sales user becomes the owner unless they name none (null); admins and managers "
            "may name an owner they can assign to."
        ),
        request=CustomerCreateSerializer,
        responses={201: CustomerSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a customer",
        request=CustomerUpdateSerializer,
        responses={200: CustomerSerializer},
    ),
)
class CustomerViewSet(
    PersonalDataViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Customers. Erasing one is a separate command (``guanxi customer erase``), not an API call."""

    serializer_class = CustomerSerializer
    filterset_class = CustomerApiFilterSet
    write_roles = CUSTOMER_WRITE_ROLES
    action_roles = {"reassign": frozenset({Role.ADMIN, Role.MANAGER})}
    http_method_names = ["get", "post", "patch", "head", "options"]

    def _run(self) -> ScoringRun | None:
        if not hasattr(self, "_latest_run"):
            self._latest_run = latest_run()
        return self._latest_run

    def get_queryset(self) -> QuerySet[Customer]:
        if getattr(self, "swagger_fake_view", False):
            return Customer.objects.none()
        run = self._run()
        customers = customers_with_standing(user=self.request.user, run_id=run.pk if run else None)
        return (
            customers_standing_annotate(customers)
            .select_related("owner")
            .prefetch_related("tags")
            .order_by("pk")
        )

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context["run"] = self._run()
        return context

    def _shown(self, customer: Customer, status_code: int = status.HTTP_200_OK) -> Response:
        customer = self.get_queryset().get(pk=customer.pk)
        data = self.get_serializer(customer).data
        self.record_views(_customer_views([customer]))
        return Response(data, status=status_code)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if "sort" in request.query_params:
            raise exceptions.ValidationError(
                {"sort": [_("The API lists customers in id order; sort is for the pages.")]}
            )
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        data = self.get_serializer(page, many=True).data
        self.record_views(_customer_views(page))
        return self.get_paginated_response(data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._shown(self.get_object())

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = CustomerCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        user = request.user
        if "owner" not in data:
            # Sales reps create their own customers; admins and managers fill the pool.
            data["owner"] = None if user_roles(user) & {Role.ADMIN, Role.MANAGER} else user
        _check_assignable(user, data["owner"])
        customer = customer_create(actor=user, **data)
        return self._shown(customer, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        customer = self.get_object()
        serializer = CustomerUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "owner" in data and data["owner"] != customer.owner:
            _check_assignable(request.user, data["owner"])
        customer_update(customer=customer, actor=request.user, **data)
        return self._shown(customer)

    @extend_schema(
        summary="Give customers a new owner (all or nothing)",
        description=(
            "Admins and managers. Every customer must be one you may see and the owner one you "
            "may assign to; otherwise nothing changes. Customers by id (numbers) or external id "
            "(strings), up to 10,000."
        ),
        request=CustomerReassignSerializer,
        responses={200: CustomerReassignedSerializer},
    )
    @action(detail=False, methods=["post"])
    def reassign(self, request: Request) -> Response:
        serializer = CustomerReassignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        refs = serializer.validated_data["customers"]
        owner = serializer.validated_data["owner"]
        found = customers_by_reference(user=request.user, refs=refs)
        missing = {i: [str(NOT_VISIBLE)] for i, ref in enumerate(refs) if ref not in found}
        if missing:
            raise exceptions.ValidationError({"customers": missing})
        _check_assignable(request.user, owner)
        outcome = customers_reassign(
            customer_ids=[c.pk for c in found.values()],
            owner=owner,
            actor=request.user,
            ip_address=client_ip(request),
        )
        return Response({**outcome, "owner": owner.get_username() if owner else None})


# -- contacts ----------------------------------------------------------------------------------


class ContactSerializer(MaskedSerializer):
    id = serializers.IntegerField(read_only=True)
    external_id = serializers.CharField(read_only=True)
    customer = serializers.IntegerField(source="customer_id", read_only=True)
    customer_external_id = serializers.CharField(source="customer.external_id", read_only=True)
    name = serializers.CharField(read_only=True)
    job_title = serializers.CharField(read_only=True)
    phone = serializers.CharField(read_only=True)
    email = serializers.CharField(read_only=True)
    wechat_id = serializers.CharField(read_only=True)
    is_primary = serializers.BooleanField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class ContactUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    job_title = serializers.CharField(max_length=100, allow_blank=True)
    phone = serializers.CharField(max_length=32, allow_blank=True)
    email = serializers.EmailField(max_length=254, allow_blank=True)
    wechat_id = serializers.CharField(max_length=64, allow_blank=True)
    is_primary = serializers.BooleanField(
        help_text=gettext_lazy("A customer has at most one primary contact.")
    )


class ContactCreateSerializer(ContactUpdateSerializer):
    customer = CustomerReferenceField()
    external_id = serializers.CharField(max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if name not in ("customer", "external_id", "name"):
                field.required = False


def customer_id_filter() -> IdFilter:
    """``?customer=<id>``: rows of one customer."""
    return IdFilter(
        field_name="customer_id", schema={**ID_SCHEMA, "description": "The customer's id."}
    )


class ContactFilterSet(django_filters.FilterSet):
    customer = customer_id_filter()
    customer_external_id = django_filters.CharFilter(
        field_name="customer__external_id",
        max_length=64,
        help_text=gettext_lazy("The customer's external id."),
    )

    class Meta:
        model = Contact
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(summary="Contacts of the customers you may see"),
    retrieve=extend_schema(summary="One contact"),
    create=extend_schema(
        summary="Add a contact to a business or channel customer",
        request=ContactCreateSerializer,
        responses={201: ContactSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a contact",
        request=ContactUpdateSerializer,
        responses={200: ContactSerializer},
    ),
)
class ContactViewSet(
    PersonalDataViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """People at business and channel customers, seen through their customer."""

    serializer_class = ContactSerializer
    filterset_class = ContactFilterSet
    write_roles = CUSTOMER_WRITE_ROLES
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Contact]:
        if getattr(self, "swagger_fake_view", False):
            return Contact.objects.none()
        contacts = Contact.objects.select_related("customer").order_by("pk")
        return visible_through_customer(contacts, user=self.request.user)

    def _views(self, contacts: list[Contact]) -> dict[int, dict[str, Any]]:
        views: dict[int, dict[str, Any]] = {}
        for contact in contacts:
            fields = [f for f in ("phone", "email", "wechat_id") if getattr(contact, f)]
            if not fields:
                continue
            view = views.setdefault(
                contact.customer_id, {"fields": [], "contacts": [], "via": "api"}
            )
            view["fields"] = sorted(set(view["fields"]) | set(fields))
            view["contacts"].append(contact.pk)
        return views

    def _shown(self, contact: Contact, status_code: int = status.HTTP_200_OK) -> Response:
        data = self.get_serializer(contact).data
        self.record_views(self._views([contact]))
        return Response(data, status=status_code)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        data = self.get_serializer(page, many=True).data
        self.record_views(self._views(page))
        return self.get_paginated_response(data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._shown(self.get_object())

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = ContactCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        ref = data.pop("customer")
        customer = customers_by_reference(user=request.user, refs=[ref]).get(ref)
        if customer is None:
            raise exceptions.ValidationError({"customer": [str(NOT_VISIBLE)]})
        contact = contact_create(customer=customer, actor=request.user, **data)
        return self._shown(contact, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        contact = self.get_object()
        serializer = ContactUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        contact_update(contact=contact, actor=request.user, **serializer.validated_data)
        return self._shown(contact)


routes = [
    ("customers", CustomerViewSet, "api-customer"),
    ("contacts", ContactViewSet, "api-contact"),
]
