"""REST API of engagement: interactions (one at a time, or an idempotent bulk load), cases with
the actions of the case page, and survey answers. Mounted by ``guanxi.api_urls``.

Every list and every record starts from the customers the caller may see
(``engagement.selectors``): a record of another customer is 404, never 403. Writes go through
``engagement.services``. Responses name the customer by id, external id and name only — no
personal data, so nothing here needs masking or a ``customer.personal_data_viewed`` event.

The fields and filters several apps share are in ``guanxi.core.api_fields``; the reference
look-ups at the top (``References``, ``assignable_user``) are shared with ``playbooks.api``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

import django_filters
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from guanxi.core.api_fields import (
    ID_SCHEMA,
    MAX_TEXT,
    CustomerFieldsMixin,
    CustomerFilterMixin,
    FlagFilter,
    IdFilter,
    MomentField,
    MomentFilter,
    id_field,
    username_field,
)
from guanxi.core.errors import ErrorCode, GuanxiError
from guanxi.core.requests import client_ip
from guanxi.engagement.choices import (
    CASE_TRANSITIONS,
    CaseKind,
    CaseStatus,
    Direction,
    InteractionChannel,
    Purpose,
    Satisfaction,
    ServicePhase,
    Severity,
)
from guanxi.engagement.forms import CLOCK_SLACK
from guanxi.engagement.models import Case, Interaction, SurveyResponse
from guanxi.engagement.selectors import (
    cases_overdue_q,
    cases_visible,
    contacts_by_reference,
    interactions_by_external_id,
    interactions_visible,
    orders_by_reference,
    survey_responses_visible,
)
from guanxi.engagement.services import (
    case_assign,
    case_classify,
    case_open,
    case_respond,
    case_transition,
    interaction_log,
    interactions_log_bulk,
    survey_record,
)
from guanxi.parties.api import NOT_VISIBLE as CUSTOMER_NOT_VISIBLE
from guanxi.parties.api import CustomerReferenceField
from guanxi.parties.models import Customer
from guanxi.parties.selectors import customers_by_reference, users_assignable
from guanxi.playbooks.models import Task

# Interactions one bulk request may carry.
BULK_MAX = 1000

NOT_VISIBLE = _("Not found, or not visible to you.")


# -- fields and filters ------------------------------------------------------------------------


def external_id_field(**kwargs: Any) -> serializers.CharField:
    return serializers.CharField(max_length=64, **kwargs)


def not_in_future(value: dt.datetime) -> dt.datetime:
    if value > timezone.now() + CLOCK_SLACK:
        raise serializers.ValidationError(
            _("This cannot be in the future; give the time it happened.")
        )
    return value


@extend_schema_field(
    {
        "oneOf": [ID_SCHEMA, {"type": "string", "minLength": 1, "maxLength": 64}],
        "description": "An id (a number) or an external id (a string).",
    }
)
class ReferenceField(CustomerReferenceField):
    """A contact person or an order by id (a JSON number) or by external id (a JSON string)."""

    default_error_messages = {
        "invalid": _("Give an id (a number) or an external id (a string)."),
    }


# -- looking up what a request names -----------------------------------------------------------


class References:
    """What the items of a request name by id or external id, looked up in a few queries (not one
    per item): the customers the caller may see, and contacts and orders (which must belong to
    the item's customer). ``customer`` and ``relation`` take one item's reference out of it and
    return the object, adding what is wrong to ``errors`` by field."""

    def __init__(
        self,
        items: list[dict[str, Any]],
        *,
        user: Any,
        relations: Iterable[str] = ("contact", "order"),
    ) -> None:
        self.customers = customers_by_reference(
            user=user, refs=[item["customer"] for item in items if "customer" in item]
        )
        lookups = {"contact": contacts_by_reference, "order": orders_by_reference}
        self.related = {
            name: lookups[name]([item[name] for item in items if item.get(name) is not None])
            for name in relations
        }

    def customer(self, item: dict[str, Any], errors: dict[str, list[str]]) -> Customer | None:
        found = self.customers.get(item.pop("customer"))
        if found is None:
            errors["customer"] = [str(CUSTOMER_NOT_VISIBLE)]
        return found

    def relation(
        self,
        name: str,
        item: dict[str, Any],
        customer: Customer | None,
        errors: dict[str, list[str]],
    ) -> Any:
        ref = item.pop(name, None)
        if ref is None:
            return None
        found = self.related[name].get(ref)
        if found is None or (customer is not None and found.customer_id != customer.pk):
            errors[name] = [_("Not found for this customer.")]
            return None
        return found


def assignable_user(user: Any, pk: int | None, *, field: str = "owner") -> Any:
    """The user ``pk`` if ``user`` may hand work to them (``users_assignable``), else a 400."""
    if pk is None:
        return None
    found = users_assignable(user=user).filter(pk=pk).first()
    if found is None:
        raise serializers.ValidationError(
            {field: [_("You may not give work to this user (or there is no such user).")]}
        )
    return found


# -- interactions ------------------------------------------------------------------------------


class CompletedTaskSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)
    reason_key = serializers.CharField(read_only=True)


class InteractionSerializer(CustomerFieldsMixin, serializers.ModelSerializer):
    contact = serializers.IntegerField(source="contact_id", read_only=True, allow_null=True)
    order = serializers.IntegerField(source="order_id", read_only=True, allow_null=True)
    staff = serializers.IntegerField(source="staff_id", read_only=True, allow_null=True)
    staff_username = username_field("staff")
    completed_tasks = CompletedTaskSerializer(
        many=True,
        read_only=True,
        help_text=_("The open tasks this interaction carried out (they are now done)."),
    )

    class Meta:
        model = Interaction
        fields = [
            "id",
            "external_id",
            "customer",
            "customer_external_id",
            "customer_name",
            "contact",
            "order",
            "occurred_at",
            "channel",
            "direction",
            "service_phase",
            "purpose",
            "staff",
            "staff_username",
            "notes",
            "completed_tasks",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class InteractionWriteSerializer(serializers.Serializer):
    """One interaction to log. The customer, the contact person and the order are named by id (a
    number) or external id (a string); the contact person and the order are optional, and must be
    the customer's."""

    customer = CustomerReferenceField()
    external_id = external_id_field(
        required=False,
        help_text=_("Your id of the interaction; one is made up if you leave it out."),
    )
    occurred_at = MomentField(
        required=False,
        validators=[not_in_future],
        help_text=_("When it happened; leave it out for now."),
    )
    channel = serializers.ChoiceField(choices=InteractionChannel.choices)
    direction = serializers.ChoiceField(choices=Direction.choices)
    service_phase = serializers.ChoiceField(choices=ServicePhase.choices)
    purpose = serializers.ChoiceField(
        choices=Purpose.choices,
        help_text=_("An open task with this purpose is completed by a contact the company makes."),
    )
    contact = ReferenceField(required=False, allow_null=True)
    order = ReferenceField(required=False, allow_null=True)
    staff = id_field(
        required=False,
        allow_null=True,
        help_text=_("Who made the contact: you (the default) or someone you may give work to."),
    )
    notes = serializers.CharField(required=False, allow_blank=True, max_length=MAX_TEXT)


class InteractionBulkItemSerializer(InteractionWriteSerializer):
    external_id = external_id_field(
        help_text=_("Your id of the interaction: an id already stored is not created again.")
    )


def _interactions_resolve(
    items: dict[int, dict[str, Any]], *, user: Any
) -> tuple[dict[int, dict[str, Any]], dict[int, dict[str, list[str]]]]:
    """The items (by their place in the request) with what they name looked up — a few queries
    for all of them — ready for the services, and what is wrong with each, by field: a customer
    the caller may not see, a contact or order of another customer, a staff member the caller may
    not name, an external id given twice or already used for another customer's interaction."""
    values = list(items.values())
    refs = References(values, user=user)
    staff_ids = {item["staff"] for item in values if item.get("staff") is not None}
    staff = {u.pk: u for u in users_assignable(user=user).filter(pk__in=staff_ids)}
    stored = interactions_by_external_id(v["external_id"] for v in values if "external_id" in v)
    now = timezone.now()
    resolved: dict[int, dict[str, Any]] = {}
    errors: dict[int, dict[str, list[str]]] = {}
    first_of: dict[str, int] = {}
    for index, item in items.items():
        item = dict(item)
        item_errors: dict[str, list[str]] = {}
        customer = refs.customer(item, item_errors)
        item["contact"] = refs.relation("contact", item, customer, item_errors)
        item["order"] = refs.relation("order", item, customer, item_errors)
        external_id = item.get("external_id")
        if external_id and first_of.setdefault(external_id, index) != index:
            item_errors["external_id"] = [
                _("The external id %(id)s is given twice in this request (items %(a)s and %(b)s).")
                % {"id": external_id, "a": first_of[external_id], "b": index}
            ]
        elif customer is not None and stored.get(external_id, (0, customer.pk))[1] != customer.pk:
            item_errors["external_id"] = [
                _("The external id %(id)s is already used by an interaction with another customer.")
                % {"id": external_id}
            ]
        if "staff" not in item:
            item["staff"] = user
        elif item["staff"] is not None:
            item["staff"] = staff.get(item["staff"])
            if item["staff"] is None:
                item_errors["staff"] = [
                    _("You may not log an interaction for this user (or there is no such user).")
                ]
        item["customer"] = customer
        item.setdefault("occurred_at", now)
        item.setdefault("notes", "")
        if item_errors:
            errors[index] = item_errors
        else:
            resolved[index] = item
    return resolved, errors


class InteractionBulkSerializer(serializers.Serializer):
    interactions = InteractionBulkItemSerializer(many=True, allow_empty=False, max_length=BULK_MAX)


class _InteractionBulkEnvelope(serializers.Serializer):
    """``InteractionBulkSerializer`` as read: the items are then validated one by one, so the
    errors of every item come back together."""

    interactions = serializers.ListField(
        child=serializers.DictField(), allow_empty=False, max_length=BULK_MAX
    )


class InteractionBulkResultItemSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text=_("The interaction's place in the request."))
    external_id = serializers.CharField()
    id = serializers.IntegerField()
    status = serializers.ChoiceField(
        choices=[
            ("created", _("created")),
            ("existing", _("existing")),
        ],
        help_text=_("created: logged now; existing: stored already (left as it was)."),
    )
    completed_tasks = serializers.ListField(
        child=serializers.IntegerField(),
        help_text=_("Ids of the open tasks this new interaction carried out."),
    )


class InteractionBulkCountsSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    existing = serializers.IntegerField()
    completed_tasks = serializers.IntegerField(help_text=_("Open tasks now done."))


class InteractionBulkResultSerializer(serializers.Serializer):
    counts = InteractionBulkCountsSerializer()
    results = InteractionBulkResultItemSerializer(
        many=True, help_text=_("One per interaction sent, in the order sent.")
    )


class InteractionFilter(CustomerFilterMixin):
    channel = django_filters.ChoiceFilter(choices=InteractionChannel.choices)
    direction = django_filters.ChoiceFilter(choices=Direction.choices)
    service_phase = django_filters.ChoiceFilter(choices=ServicePhase.choices)
    purpose = django_filters.ChoiceFilter(choices=Purpose.choices)
    staff = IdFilter(field_name="staff", label=_("Staff member's user id"))
    occurred_after = MomentFilter(
        field_name="occurred_at", lookup_expr="gte", label=_("Happened at or after")
    )
    occurred_before = MomentFilter(
        field_name="occurred_at", lookup_expr="lt", label=_("Happened before")
    )

    class Meta:
        model = Interaction
        fields: list[str] = []


class InteractionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Interactions (接触记录) with the customers you may see. Logging one completes the open
    tasks it carries out; they are listed in ``completed_tasks``."""

    serializer_class = InteractionSerializer
    filterset_class = InteractionFilter
    queryset = Interaction.objects.none()

    def get_queryset(self) -> QuerySet[Interaction]:
        return (
            interactions_visible(user=self.request.user)
            .select_related("customer", "staff")
            .prefetch_related(
                Prefetch(
                    "completed_tasks",
                    queryset=Task.objects.select_related("wording").order_by("pk"),
                )
            )
        )

    def get_serializer_class(self) -> type[serializers.Serializer]:
        if self.action == "create":
            return InteractionWriteSerializer
        if self.action == "bulk":
            return InteractionBulkSerializer
        return InteractionSerializer

    @extend_schema(
        summary="Log an interaction",
        request=InteractionWriteSerializer,
        responses={201: InteractionSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        resolved, errors = _interactions_resolve({0: serializer.validated_data}, user=request.user)
        if errors:
            raise serializers.ValidationError(errors[0])
        item = resolved[0]
        interaction = interaction_log(
            customer=item.pop("customer"),
            external_id=item.pop("external_id", None) or f"API-I-{uuid.uuid4().hex[:16].upper()}",
            occurred_at=item.pop("occurred_at"),
            channel=item.pop("channel"),
            direction=item.pop("direction"),
            service_phase=item.pop("service_phase"),
            purpose=item.pop("purpose"),
            actor=request.user,
            **item,
        )
        data = InteractionSerializer(self.get_queryset().get(pk=interaction.pk)).data
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Log up to 1000 interactions at once, idempotently by external id",
        description=(
            "All or nothing: if any item is not valid nothing is stored, and every error is "
            "named by its path (`interactions.3.channel`). An item whose `external_id` is "
            "stored already is reported `existing` and not changed, so sending the same batch "
            "again creates nothing."
        ),
        request=InteractionBulkSerializer,
        responses={
            201: OpenApiResponse(
                InteractionBulkResultSerializer, description="Some interactions logged."
            ),
            200: OpenApiResponse(
                InteractionBulkResultSerializer, description="No interaction logged."
            ),
        },
    )
    @action(detail=False, methods=["post"], url_path="bulk")
    def bulk(self, request: Request) -> Response:
        envelope = _InteractionBulkEnvelope(data=request.data)
        envelope.is_valid(raise_exception=True)
        valid: dict[int, dict[str, Any]] = {}
        errors: dict[int, Any] = {}
        for index, data in enumerate(envelope.validated_data["interactions"]):
            item = InteractionBulkItemSerializer(data=data)
            if item.is_valid():
                valid[index] = item.validated_data
            else:
                errors[index] = item.errors
        resolved, lookup_errors = _interactions_resolve(valid, user=request.user)
        errors.update(lookup_errors)
        if errors:
            raise serializers.ValidationError({"interactions": dict(sorted(errors.items()))})
        result = interactions_log_bulk(
            interactions=[resolved[index] for index in sorted(resolved)],
            actor=request.user,
            ip_address=client_ip(request),
        )
        body = {
            "counts": {
                "created": result.created,
                "existing": result.existing,
                "completed_tasks": result.tasks_completed,
            },
            "results": [
                {
                    "index": index,
                    "external_id": interaction.external_id,
                    "id": interaction.pk,
                    "status": item_status,
                    "completed_tasks": tasks,
                }
                for index, (interaction, item_status, tasks) in enumerate(
                    zip(result.interactions, result.statuses, result.completed_tasks, strict=True)
                )
            ],
        }
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(InteractionBulkResultSerializer(body).data, status=code)


# -- cases -------------------------------------------------------------------------------------


class CaseSerializer(CustomerFieldsMixin, serializers.ModelSerializer):
    contact = serializers.IntegerField(source="contact_id", read_only=True, allow_null=True)
    order = serializers.IntegerField(source="order_id", read_only=True, allow_null=True)
    owner = serializers.IntegerField(source="owner_id", read_only=True, allow_null=True)
    owner_username = username_field("owner")
    # Declared, not generated: a generated read-only field loses allow_blank, and the schema with
    # it the empty value an unclassified case has.
    satisfaction = serializers.ChoiceField(
        choices=Satisfaction.choices,
        allow_blank=True,
        read_only=True,
        help_text=_("Empty while the case is not classified."),
    )
    overdue = serializers.SerializerMethodField(
        help_text=_("Open or in progress, and past its deadline.")
    )
    allowed_transitions = serializers.SerializerMethodField(
        help_text=_("The statuses the case may move to next (see the transition action).")
    )

    class Meta:
        model = Case
        fields = [
            "id",
            "external_id",
            "customer",
            "customer_external_id",
            "customer_name",
            "contact",
            "order",
            "kind",
            "category",
            "subject",
            "description",
            "satisfaction",
            "severity",
            "status",
            "allowed_transitions",
            "opened_at",
            "first_response_at",
            "resolved_at",
            "closed_at",
            "due_at",
            "overdue",
            "owner",
            "owner_username",
            "resolution",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_overdue(self, obj: Case) -> bool:
        return obj.status in (CaseStatus.OPEN, CaseStatus.IN_PROGRESS) and (
            obj.due_at < self.context.get("now", timezone.now())
        )

    def get_allowed_transitions(self, obj: Case) -> list[str]:
        return list(CASE_TRANSITIONS[CaseStatus(obj.status)])


class CaseOpenSerializer(serializers.Serializer):
    """A new case (feedback, complaint or question). The customer, the contact person and the
    order are named by id (a number) or external id (a string)."""

    customer = CustomerReferenceField()
    external_id = external_id_field(
        required=False, help_text=_("Your id of the case; one is made up if you leave it out.")
    )
    kind = serializers.ChoiceField(choices=CaseKind.choices)
    subject = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=MAX_TEXT)
    category = serializers.CharField(required=False, allow_blank=True, max_length=64)
    severity = serializers.ChoiceField(choices=Severity.choices, default=Severity.MEDIUM)
    satisfaction = serializers.ChoiceField(
        choices=Satisfaction.choices,
        required=False,
        allow_blank=True,
        help_text=_("How the customer feels, if they said so."),
    )
    opened_at = MomentField(
        required=False, validators=[not_in_future], help_text=_("Leave it out for now.")
    )
    due_at = MomentField(
        required=False,
        help_text=_("The deadline; leave it out for the default of the severity (critical: 24 h)."),
    )
    owner = id_field(
        required=False, allow_null=True, help_text=_("Someone you may give work to, or null.")
    )
    contact = ReferenceField(required=False, allow_null=True)
    order = ReferenceField(required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        user = self.context["request"].user
        attrs = dict(attrs)
        refs = References([attrs], user=user)
        errors: dict[str, list[str]] = {}
        attrs["customer"] = refs.customer(attrs, errors)
        for name in ("contact", "order"):
            attrs[name] = refs.relation(name, attrs, attrs["customer"], errors)
        opened_at = attrs.get("opened_at") or timezone.now()
        if attrs.get("due_at") is not None and attrs["due_at"] <= opened_at:
            errors["due_at"] = [_("The deadline must be later than when the case was opened.")]
        if errors:
            raise serializers.ValidationError(errors)
        attrs["owner"] = assignable_user(user, attrs.get("owner"))
        attrs["opened_at"] = opened_at
        return attrs


class CaseAssignSerializer(serializers.Serializer):
    owner = id_field(help_text=_("Someone you may give work to."))


class CaseTransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[(s, CaseStatus(s).label) for s in CaseStatus if s != CaseStatus.OPEN],
        help_text=_(
            "open → in progress or resolved; in progress → resolved; resolved → closed, or back "
            "to in progress when the answer did not help."
        ),
    )
    resolution = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=MAX_TEXT,
        help_text=_("What was done for the customer; needed to resolve the case."),
    )
    satisfaction = serializers.ChoiceField(choices=Satisfaction.choices, required=False)


class CaseClassifySerializer(serializers.Serializer):
    satisfaction = serializers.ChoiceField(choices=Satisfaction.choices)


class CaseFilter(CustomerFilterMixin):
    status = django_filters.ChoiceFilter(choices=CaseStatus.choices)
    kind = django_filters.ChoiceFilter(choices=CaseKind.choices)
    severity = django_filters.ChoiceFilter(choices=Severity.choices)
    satisfaction = django_filters.ChoiceFilter(choices=Satisfaction.choices)
    category = django_filters.CharFilter(max_length=64)
    owner = IdFilter(field_name="owner", label=_("Owner's user id"))
    overdue = FlagFilter(
        method="filter_overdue", label=_("Open or in progress and past the deadline")
    )

    class Meta:
        model = Case
        fields: list[str] = []

    def filter_overdue(self, queryset: QuerySet[Case], name: str, value: bool) -> QuerySet[Case]:
        if value is None:
            return queryset
        q = cases_overdue_q()
        return queryset.filter(q) if value else queryset.exclude(q)


_CASE_RESPONSE = {200: CaseSerializer}


class CaseViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Cases (feedback, complaints, questions) of the customers you may see — service staff: of
    every customer. Analysts read only. The actions mirror the case page."""

    serializer_class = CaseSerializer
    filterset_class = CaseFilter
    queryset = Case.objects.none()

    def get_queryset(self) -> QuerySet[Case]:
        return cases_visible(user=self.request.user).select_related("customer", "owner")

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "now": timezone.now()}

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return {
            "create": CaseOpenSerializer,
            "assign": CaseAssignSerializer,
            "transition": CaseTransitionSerializer,
            "classify": CaseClassifySerializer,
        }.get(self.action, CaseSerializer)

    def _answer(self, case: Case, code: int = status.HTTP_200_OK) -> Response:
        case = self.get_queryset().get(pk=case.pk)
        return Response(CaseSerializer(case, context=self.get_serializer_context()).data, code)

    def _valid(self, request: Request) -> dict[str, Any]:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(
        summary="Open a case", request=CaseOpenSerializer, responses={201: CaseSerializer}
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = dict(self._valid(request))
        case = case_open(
            customer=data.pop("customer"),
            external_id=data.pop("external_id", None) or f"API-K-{uuid.uuid4().hex[:16].upper()}",
            kind=data.pop("kind"),
            subject=data.pop("subject"),
            actor=request.user,
            **data,
        )
        return self._answer(case, status.HTTP_201_CREATED)

    @extend_schema(summary="Record the first response to the customer", request=None)
    @action(detail=True, methods=["post"])
    def respond(self, request: Request, pk: str | None = None) -> Response:
        case = self.get_object()
        if case.first_response_at is not None:
            raise GuanxiError(
                str(_("The first response is already recorded.")), code=ErrorCode.CONFLICT
            )
        return self._answer(case_respond(case=case, actor=request.user))

    @extend_schema(summary="Give the case to someone", responses=_CASE_RESPONSE)
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str | None = None) -> Response:
        case = self.get_object()
        owner = assignable_user(request.user, self._valid(request)["owner"])
        return self._answer(case_assign(case=case, owner=owner, actor=request.user))

    @extend_schema(
        summary="Move the case to another status",
        description="A move the case's status does not allow is a 409 `invalid_transition`.",
        responses=_CASE_RESPONSE,
    )
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str | None = None) -> Response:
        case = self.get_object()
        data = self._valid(request)
        case = case_transition(
            case=case,
            status=data["status"],
            actor=request.user,
            resolution=(data.get("resolution") or "").strip() or None,
            satisfaction=data.get("satisfaction") or None,
        )
        return self._answer(case)

    @extend_schema(
        summary="Classify how the customer feels about it",
        description="dissatisfied, satisfied or very satisfied; at any status.",
        responses=_CASE_RESPONSE,
    )
    @action(detail=True, methods=["post"])
    def classify(self, request: Request, pk: str | None = None) -> Response:
        case = self.get_object()
        satisfaction = self._valid(request)["satisfaction"]
        return self._answer(case_classify(case=case, satisfaction=satisfaction, actor=request.user))


# -- surveys -----------------------------------------------------------------------------------


class SurveyResponseSerializer(CustomerFieldsMixin, serializers.ModelSerializer):
    case = serializers.IntegerField(source="case_id", read_only=True, allow_null=True)
    csat = serializers.IntegerField(read_only=True, allow_null=True, min_value=1, max_value=5)
    nps = serializers.IntegerField(read_only=True, allow_null=True, min_value=0, max_value=10)

    class Meta:
        model = SurveyResponse
        fields = [
            "id",
            "customer",
            "customer_external_id",
            "customer_name",
            "case",
            "answered_at",
            "csat",
            "nps",
            "comment",
            "created_at",
        ]
        read_only_fields = fields


class SurveyRecordSerializer(serializers.Serializer):
    """A survey answer: a CSAT score (1–5), an NPS score (0–10), or both."""

    customer = CustomerReferenceField()
    case = id_field(
        required=False, allow_null=True, help_text=_("The customer's case it is about, if any.")
    )
    answered_at = MomentField(
        required=False, validators=[not_in_future], help_text=_("Leave it out for now.")
    )
    csat = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=5)
    nps = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=10)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=MAX_TEXT)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        user = self.context["request"].user
        attrs = dict(attrs)
        errors: dict[str, list[str]] = {}
        attrs["customer"] = References([attrs], user=user, relations=()).customer(attrs, errors)
        if attrs.get("csat") is None and attrs.get("nps") is None:
            errors["csat"] = [_("A survey response needs a CSAT or an NPS score.")]
        case_id = attrs.get("case")
        if case_id is not None and attrs["customer"] is not None:
            attrs["case"] = (
                cases_visible(user=user).filter(pk=case_id, customer=attrs["customer"]).first()
            )
            if attrs["case"] is None:
                errors["case"] = [_("Not found for this customer.")]
        if errors:
            raise serializers.ValidationError(errors)
        attrs.setdefault("answered_at", timezone.now())
        return attrs


class SurveyResponseFilter(CustomerFilterMixin):
    case = IdFilter(field_name="case", label=_("Case id"))
    answered_after = MomentFilter(
        field_name="answered_at", lookup_expr="gte", label=_("Answered at or after")
    )
    answered_before = MomentFilter(
        field_name="answered_at", lookup_expr="lt", label=_("Answered before")
    )

    class Meta:
        model = SurveyResponse
        fields: list[str] = []


class SurveyResponseViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Survey answers (CSAT 1–5, NPS 0–10) of the customers you may see."""

    serializer_class = SurveyResponseSerializer
    filterset_class = SurveyResponseFilter
    queryset = SurveyResponse.objects.none()

    def get_queryset(self) -> QuerySet[SurveyResponse]:
        return survey_responses_visible(user=self.request.user).select_related("customer")

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return SurveyRecordSerializer if self.action == "create" else SurveyResponseSerializer

    @extend_schema(
        summary="Record a survey answer",
        request=SurveyRecordSerializer,
        responses={201: SurveyResponseSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        response = survey_record(
            customer=data.pop("customer"),
            answered_at=data.pop("answered_at"),
            csat=data.pop("csat", None),
            nps=data.pop("nps", None),
            actor=request.user,
            **data,
        )
        body = SurveyResponseSerializer(self.get_queryset().get(pk=response.pk)).data
        return Response(body, status=status.HTTP_201_CREATED)


routes = [
    ("interactions", InteractionViewSet, "api-interaction"),
    ("cases", CaseViewSet, "api-case"),
    ("surveys", SurveyResponseViewSet, "api-survey"),
]
