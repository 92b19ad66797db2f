"""REST API of sales: products, and orders with their lines.

Products are read by every role and changed by admins. Orders are seen through their customer
(``customers_visible``) and recorded by admins, managers and sales for customers they see.
Product costs and line costs are readable by every role: they are the company's commercial data,
not personal data, and the profit figures every role sees on the pages are built from them.

``POST /orders/bulk/`` records up to 1,000 orders idempotently by external id: an order whose
external id is stored already is neither recorded again nor changed, and comes back as
``existing`` when what was sent matches it, ``conflict`` (with the fields that differ) when not.
Any invalid order rejects the whole request, with its errors under ``orders.<index>``.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from guanxi.core.api_base import ALL_ROLES
from guanxi.core.api_fields import MomentField, MomentFilter
from guanxi.core.choices import Role
from guanxi.core.requests import client_ip
from guanxi.parties.api import (
    CUSTOMER_WRITE_ROLES,
    NOT_VISIBLE,
    CustomerReferenceField,
    customer_id_filter,
)
from guanxi.parties.selectors import customers_by_reference
from guanxi.sales.choices import OrderChannel, OrderStatus
from guanxi.sales.models import Order, Product
from guanxi.sales.selectors import (
    order_external_ids_hidden,
    orders_visible,
    orders_with_lines,
    products_by_sku,
)
from guanxi.sales.services import (
    LineInput,
    OrderInput,
    order_record,
    order_status_change,
    orders_bulk_record,
    product_create,
    product_update,
)

# Bounds that keep amounts (quantity × price, summed) far inside 64-bit integers.
MAX_CENTS = 10**12
MAX_QUANTITY = 1_000_000
MAX_LINES = 1_000
MAX_BULK = 1_000


def _cents(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=0, max_value=MAX_CENTS, **kwargs)


# -- products ----------------------------------------------------------------------------------


class ProductSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    sku = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    category = serializers.CharField(read_only=True)
    unit_price_cents = serializers.IntegerField(read_only=True)
    unit_cost_cents = serializers.IntegerField(read_only=True)
    is_active = serializers.BooleanField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class ProductUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    category = serializers.CharField(max_length=100, allow_blank=True)
    unit_price_cents = _cents(help_text=gettext_lazy("The current price, in cents."))
    unit_cost_cents = _cents(help_text=gettext_lazy("The current unit cost, in cents."))
    is_active = serializers.BooleanField()


class ProductCreateSerializer(ProductUpdateSerializer):
    sku = serializers.CharField(max_length=64, help_text=gettext_lazy("Unique; cannot change."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].required = False
        self.fields["is_active"].required = False


class ProductFilterSet(django_filters.FilterSet):
    sku = django_filters.CharFilter(max_length=64)
    category = django_filters.CharFilter(max_length=100)
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = Product
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(summary="Products"),
    retrieve=extend_schema(summary="One product"),
    create=extend_schema(
        summary="Create a product (admins)",
        request=ProductCreateSerializer,
        responses={201: ProductSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a product (admins); recorded orders keep their prices",
        request=ProductUpdateSerializer,
        responses={200: ProductSerializer},
    ),
)
class ProductViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ProductSerializer
    filterset_class = ProductFilterSet
    read_roles = ALL_ROLES
    write_roles = frozenset({Role.ADMIN})
    http_method_names = ["get", "post", "patch", "head", "options"]
    queryset = Product.objects.order_by("pk")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = ProductCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = product_create(actor=request.user, **serializer.validated_data)
        return Response(ProductSerializer(product).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        product = self.get_object()
        serializer = ProductUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        product_update(product=product, actor=request.user, **serializer.validated_data)
        return Response(ProductSerializer(product).data)


# -- orders ------------------------------------------------------------------------------------


class OrderLineSerializer(serializers.Serializer):
    line_no = serializers.IntegerField()
    product = serializers.CharField(source="product.sku", help_text=gettext_lazy("The SKU."))
    quantity = serializers.IntegerField()
    unit_price_cents = serializers.IntegerField()
    unit_cost_cents = serializers.IntegerField()
    amount_cents = serializers.IntegerField(help_text=gettext_lazy("Quantity × unit price."))


class OrderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    customer = serializers.IntegerField(source="customer_id")
    customer_external_id = serializers.CharField(source="customer.external_id")
    placed_at = serializers.DateTimeField()
    promised_delivery_on = serializers.DateField(allow_null=True)
    delivered_on = serializers.DateField(allow_null=True)
    channel = serializers.ChoiceField(choices=OrderChannel.choices)
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    amount_cents = serializers.SerializerMethodField()
    lines = OrderLineSerializer(many=True, source="lines.all")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_amount_cents(self, obj: Order) -> int:
        return sum(line.amount_cents for line in obj.lines.all())


class OrderLineInputSerializer(serializers.Serializer):
    product = serializers.CharField(max_length=64, help_text=gettext_lazy("The product's SKU."))
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)
    unit_price_cents = _cents(
        required=False, help_text=gettext_lazy("Defaults to the product's current price.")
    )
    unit_cost_cents = _cents(
        required=False, help_text=gettext_lazy("Defaults to the product's current unit cost.")
    )


class OrderCreateSerializer(serializers.Serializer):
    external_id = serializers.CharField(
        max_length=64, help_text=gettext_lazy("The order's id in the system it came from; unique.")
    )
    customer = CustomerReferenceField()
    placed_at = MomentField()
    promised_delivery_on = serializers.DateField(required=False, allow_null=True)
    delivered_on = serializers.DateField(
        required=False,
        allow_null=True,
        help_text=gettext_lazy("Required when the status is delivered."),
    )
    channel = serializers.ChoiceField(choices=OrderChannel.choices, required=False)
    status = serializers.ChoiceField(choices=OrderStatus.choices, required=False)
    lines = OrderLineInputSerializer(many=True, allow_empty=False, max_length=MAX_LINES)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("status") == OrderStatus.DELIVERED and not attrs.get("delivered_on"):
            raise serializers.ValidationError(
                {"delivered_on": [_("A delivered order needs its delivery date.")]}
            )
        return attrs


class OrderBulkSerializer(serializers.Serializer):
    orders = OrderCreateSerializer(many=True, allow_empty=False, max_length=MAX_BULK)


class _OrderBulkEnvelope(serializers.Serializer):
    """``OrderBulkSerializer`` as read: the orders are validated one by one."""

    orders = serializers.ListField(
        child=serializers.DictField(), allow_empty=False, max_length=MAX_BULK
    )


class OrderBulkItemSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text=gettext_lazy("The order's place in the request."))
    external_id = serializers.CharField()
    id = serializers.IntegerField()
    status = serializers.ChoiceField(
        choices=[
            ("created", gettext_lazy("created")),
            ("existing", gettext_lazy("existing")),
            ("conflict", gettext_lazy("conflict")),
        ],
        help_text=gettext_lazy(
            "created: recorded now; existing: stored already, as sent; conflict: stored already "
            "but different from what was sent (nothing was changed; see differences)."
        ),
    )
    differences = serializers.ListField(
        child=serializers.CharField(),
        help_text=gettext_lazy("For a conflict, the fields that differ from the stored order."),
    )


class OrderBulkCountsSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    existing = serializers.IntegerField()
    conflict = serializers.IntegerField()


class OrderBulkResultSerializer(serializers.Serializer):
    counts = OrderBulkCountsSerializer()
    results = OrderBulkItemSerializer(many=True)


class OrderStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    delivered_on = serializers.DateField(
        required=False,
        help_text=gettext_lazy("For delivered: the delivery date (default: today)."),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "delivered_on" in attrs and attrs["status"] != OrderStatus.DELIVERED:
            raise serializers.ValidationError(
                {"delivered_on": [_("Only a delivered order takes a delivery date.")]}
            )
        return attrs


class OrderFilterSet(django_filters.FilterSet):
    customer = customer_id_filter()
    customer_external_id = django_filters.CharFilter(
        field_name="customer__external_id",
        max_length=64,
        help_text=gettext_lazy("The customer's external id."),
    )
    placed_after = MomentFilter(
        field_name="placed_at",
        lookup_expr="gte",
        help_text=gettext_lazy("Orders placed at or after this moment (ISO 8601)."),
    )
    placed_before = MomentFilter(
        field_name="placed_at",
        lookup_expr="lt",
        help_text=gettext_lazy("Orders placed before this moment (ISO 8601)."),
    )
    status = django_filters.ChoiceFilter(choices=OrderStatus.choices)
    channel = django_filters.ChoiceFilter(choices=OrderChannel.choices)

    class Meta:
        model = Order
        fields: list[str] = []


def _order_inputs(
    items: dict[int, dict[str, Any]], user: Any
) -> tuple[list[OrderInput], dict[int, dict[str, Any]]]:
    """The validated orders (by index) with their customers and products looked up (two queries
    for any number), and the errors by index: a customer the user may not see, an unknown SKU."""
    customers = customers_by_reference(user=user, refs=[i["customer"] for i in items.values()])
    products = products_by_sku(
        skus=[line["product"] for item in items.values() for line in item["lines"]]
    )
    inputs: list[OrderInput] = []
    errors: dict[int, dict[str, Any]] = {}
    for index, item in items.items():
        problems: dict[str, Any] = {}
        customer = customers.get(item["customer"])
        if customer is None:
            problems["customer"] = [str(NOT_VISIBLE)]
        unknown = {
            no: {"product": [_("No product has the SKU “%(sku)s”.") % {"sku": line["product"]}]}
            for no, line in enumerate(item["lines"])
            if line["product"] not in products
        }
        if unknown:
            problems["lines"] = unknown
        if problems:
            errors[index] = problems
            continue
        inputs.append(
            OrderInput(
                customer=customer,
                external_id=item["external_id"],
                placed_at=item["placed_at"],
                lines=tuple(
                    LineInput(
                        product=products[line["product"]],
                        quantity=line["quantity"],
                        unit_price_cents=line.get("unit_price_cents"),
                        unit_cost_cents=line.get("unit_cost_cents"),
                    )
                    for line in item["lines"]
                ),
                fields={
                    f: item[f]
                    for f in ("promised_delivery_on", "delivered_on", "channel", "status")
                    if f in item
                },
            )
        )
    return inputs, errors


@extend_schema_view(
    list=extend_schema(
        summary="Orders of the customers you may see",
        description="With their lines; pages follow the cursor in `next`, in id order.",
    ),
    retrieve=extend_schema(summary="One order with its lines"),
    create=extend_schema(
        summary="Record an order with its lines",
        description=(
            "Products by SKU; a line's price and cost default to the product's current ones. "
            "The customer by id (a number) or external id (a string)."
        ),
        request=OrderCreateSerializer,
        responses={201: OrderSerializer},
    ),
)
class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = OrderSerializer
    filterset_class = OrderFilterSet
    write_roles = CUSTOMER_WRITE_ROLES
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Order]:
        if getattr(self, "swagger_fake_view", False):
            return Order.objects.none()
        return orders_with_lines(orders_visible(user=self.request.user)).order_by("pk")

    def _shown(self, order: Order, status_code: int = status.HTTP_200_OK) -> Response:
        order = orders_with_lines(Order.objects.filter(pk=order.pk)).get()
        return Response(OrderSerializer(order).data, status=status_code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = OrderCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        inputs, errors = _order_inputs({0: serializer.validated_data}, request.user)
        if errors:
            raise exceptions.ValidationError(errors[0])
        item = inputs[0]
        order = order_record(
            customer=item.customer,
            external_id=item.external_id,
            placed_at=item.placed_at,
            lines=list(item.lines),
            actor=request.user,
            **item.fields,
        )
        return self._shown(order, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change an order's status",
        description=(
            "placed → shipped, delivered or cancelled; shipped → delivered or returned; "
            "delivered → returned. Cancelled and returned are final (409 otherwise)."
        ),
        request=OrderStatusSerializer,
        responses={200: OrderSerializer},
    )
    @action(detail=True, methods=["post"], url_path="status")
    def status_change(self, request: Request, pk: str | None = None) -> Response:
        order = self.get_object()
        serializer = OrderStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order_status_change(
            order=order,
            status=serializer.validated_data["status"],
            delivered_on=serializer.validated_data.get("delivered_on"),
            actor=request.user,
        )
        return self._shown(order)

    @extend_schema(
        summary="Record many orders at once, idempotently by external id",
        description=(
            "Up to 1,000 orders. An order whose external id is stored already is not recorded "
            "again nor changed: `existing` when what was sent matches it, `conflict` (with the "
            "fields that differ) when not; only the fields sent are compared. Posting the same "
            "orders again records nothing. If any order is invalid nothing is recorded and the "
            "errors name it: `orders.3.lines.0.quantity`."
        ),
        request=OrderBulkSerializer,
        responses={
            201: OpenApiResponse(OrderBulkResultSerializer, description="Some orders recorded."),
            200: OpenApiResponse(OrderBulkResultSerializer, description="No order recorded."),
        },
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request: Request) -> Response:
        envelope = _OrderBulkEnvelope(data=request.data)
        envelope.is_valid(raise_exception=True)
        # Each order on its own, so the errors of every order come back together.
        items: dict[int, dict[str, Any]] = {}
        errors: dict[int, Any] = {}
        for index, data in enumerate(envelope.validated_data["orders"]):
            serializer = OrderCreateSerializer(data=data)
            if serializer.is_valid():
                items[index] = serializer.validated_data
            else:
                errors[index] = serializer.errors
        inputs, lookup_errors = _order_inputs(items, request.user)
        errors.update(lookup_errors)
        seen: set[str] = set()
        for index, item in items.items():
            if item["external_id"] in seen:
                errors.setdefault(index, {})["external_id"] = [
                    _("This external id appears earlier in the request.")
                ]
            seen.add(item["external_id"])
        hidden = order_external_ids_hidden(user=request.user, external_ids=seen)
        for index, item in items.items():
            if item["external_id"] in hidden:
                errors.setdefault(index, {})["external_id"] = [
                    _("An order with this external id exists for a customer you may not see.")
                ]
        if errors:
            raise exceptions.ValidationError({"orders": errors})
        results = orders_bulk_record(
            orders=inputs, actor=request.user, ip_address=client_ip(request)
        )
        counts = {
            outcome: sum(1 for r in results if r.status == outcome)
            for outcome in ("created", "existing", "conflict")
        }
        body = {
            "counts": counts,
            "results": [
                {
                    "index": r.index,
                    "external_id": r.external_id,
                    "id": r.order_id,
                    "status": r.status,
                    "differences": list(r.differences),
                }
                for r in results
            ],
        }
        code = status.HTTP_201_CREATED if counts["created"] else status.HTTP_200_OK
        return Response(body, status=code)


routes = [
    ("products", ProductViewSet, "api-product"),
    ("orders", OrderViewSet, "api-order"),
]
