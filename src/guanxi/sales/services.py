"""Writes for products and orders. Each state change leaves an event in the same transaction."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.errors import ErrorCode, GuanxiError
from guanxi.core.models import Event
from guanxi.core.services import event_record
from guanxi.parties.models import Customer
from guanxi.sales.choices import ORDER_TRANSITIONS, OrderStatus
from guanxi.sales.models import Order, OrderLine, Product
from guanxi.sales.selectors import orders_by_external_id

PRODUCT_FIELDS = ("name", "category", "unit_price_cents", "unit_cost_cents", "is_active")


@transaction.atomic
def product_create(
    *,
    sku: str,
    name: str,
    unit_price_cents: int,
    unit_cost_cents: int,
    actor: Any = None,
    **fields: Any,
) -> Product:
    unknown = set(fields) - set(PRODUCT_FIELDS)
    if unknown:
        raise TypeError(f"product_create() got unknown fields: {', '.join(sorted(unknown))}")
    product = Product(
        sku=sku,
        name=name,
        unit_price_cents=unit_price_cents,
        unit_cost_cents=unit_cost_cents,
        **fields,
    )
    product.full_clean()
    product.save()
    event_record(
        kind="product.created",
        actor=actor,
        subject=product,
        data={"sku": sku, "unit_price_cents": unit_price_cents, "unit_cost_cents": unit_cost_cents},
    )
    return product


@transaction.atomic
def product_update(*, product: Product, actor: Any = None, **fields: Any) -> Product:
    """Change some of a product's fields (its SKU stays); an event lists the changes. Orders
    already recorded keep the prices and costs of their lines."""
    unknown = set(fields) - set(PRODUCT_FIELDS)
    if unknown:
        raise TypeError(f"product_update() got unknown fields: {', '.join(sorted(unknown))}")
    changes = {}
    for field, value in fields.items():
        old = getattr(product, field)
        if old != value:
            changes[field] = {"from": old, "to": value}
            setattr(product, field, value)
    if not changes:
        return product
    product.full_clean()
    product.save(update_fields=[*changes, "updated_at"])
    event_record(kind="product.updated", actor=actor, subject=product, data=changes)
    return product


@dataclass(frozen=True)
class LineInput:
    product: Product
    quantity: int
    unit_price_cents: int | None = None  # defaults to the product's current price
    unit_cost_cents: int | None = None  # defaults to the product's current cost


def _line_row(order: Order, no: int, line: LineInput) -> OrderLine:
    """Line ``no`` of ``order``; price and cost default to the product's current ones."""
    product = line.product
    return OrderLine(
        order=order,
        line_no=no,
        product=product,
        quantity=line.quantity,
        unit_price_cents=(
            product.unit_price_cents if line.unit_price_cents is None else line.unit_price_cents
        ),
        unit_cost_cents=(
            product.unit_cost_cents if line.unit_cost_cents is None else line.unit_cost_cents
        ),
    )


@transaction.atomic
def order_record(
    *,
    customer: Customer,
    external_id: str,
    placed_at: dt.datetime,
    lines: list[LineInput],
    actor: Any = None,
    **fields: Any,
) -> Order:
    """Record a purchase with its lines; prices and costs default to the product's current ones."""
    if not lines:
        raise GuanxiError(_("An order needs at least one line."), field="lines")
    order = Order(customer=customer, external_id=external_id, placed_at=placed_at, **fields)
    order.full_clean()
    order.save()
    rows = []
    for no, line in enumerate(lines, start=1):
        if line.quantity <= 0:
            raise GuanxiError(
                _("Line %(no)s: quantity must be a positive whole number, not %(qty)s.")
                % {"no": no, "qty": line.quantity},
                field="quantity",
            )
        rows.append(_line_row(order, no, line))
    OrderLine.objects.bulk_create(rows)
    event_record(
        kind="order.recorded",
        actor=actor,
        customer=customer,
        subject=order,
        data={
            "amount_cents": sum(r.amount_cents for r in rows),
            "profit_cents": sum(r.profit_cents for r in rows),
            "lines": len(rows),
        },
    )
    return order


@transaction.atomic
def order_status_change(
    *, order: Order, status: str, actor: Any = None, delivered_on: dt.date | None = None
) -> Order:
    order = Order.objects.select_for_update().get(pk=order.pk)
    if status not in ORDER_TRANSITIONS.get(order.status, ()):
        raise GuanxiError(
            _("An order that is %(old)s cannot become %(new)s.")
            % {"old": order.get_status_display(), "new": OrderStatus(status).label},
            code=ErrorCode.INVALID_TRANSITION,
            field="status",
        )
    old = order.status
    order.status = status
    fields = ["status", "updated_at"]
    if status == OrderStatus.DELIVERED:
        order.delivered_on = delivered_on or timezone.localdate()
        fields.append("delivered_on")
    order.save(update_fields=fields)
    event_record(
        kind="order.status_changed",
        actor=actor,
        customer=order.customer,
        subject=order,
        data={"from": old, "to": status},
    )
    return order


# -- many orders at once, idempotently ---------------------------------------------------------


@dataclass(frozen=True)
class OrderInput:
    """One order of ``orders_bulk_record``; ``fields`` holds only the optional fields given
    (``promised_delivery_on``, ``delivered_on``, ``channel``, ``status``)."""

    customer: Customer
    external_id: str
    placed_at: dt.datetime
    lines: tuple[LineInput, ...]
    fields: dict[str, Any]


class BulkOutcome:
    CREATED = "created"
    EXISTING = "existing"
    CONFLICT = "conflict"


@dataclass(frozen=True)
class BulkResult:
    index: int
    external_id: str
    order_id: int
    status: str  # a BulkOutcome
    differences: tuple[str, ...] = ()


def order_differences(order: Order, given: OrderInput) -> list[str]:
    """The fields of ``given`` that differ from the stored ``order`` (with its lines prefetched).

    Only what was given is compared: a line without a price or cost does not differ in it, and
    a status or delivery date not sent is not compared (it may have moved on since).
    """
    differences = []
    if order.customer_id != given.customer.pk:
        differences.append("customer")
    if order.placed_at != given.placed_at:
        differences.append("placed_at")
    differences += [f for f, value in given.fields.items() if getattr(order, f) != value]
    stored = list(order.lines.all())
    if len(stored) != len(given.lines) or any(
        line.product_id != want.product.pk
        or line.quantity != want.quantity
        or want.unit_price_cents not in (None, line.unit_price_cents)
        or want.unit_cost_cents not in (None, line.unit_cost_cents)
        for line, want in zip(stored, given.lines, strict=False)
    ):
        differences.append("lines")
    return differences


@transaction.atomic
def orders_bulk_record(
    *, orders: list[OrderInput], actor: Any = None, ip_address: str | None = None
) -> list[BulkResult]:
    """Record the orders not recorded yet, idempotently by external id; a result per order.

    An order whose external id is stored already is neither recorded again nor changed: it is
    ``existing`` when everything given matches the stored order and ``conflict`` (with the fields
    that differ) when not. The new orders, their lines and their ``order.recorded`` events are
    written with one insert each (prices and costs default to the product's, as in
    ``order_record``); one ``orders.bulk_created`` event counts the outcome. The caller checks
    the orders as ``Order.full_clean`` would; the database's constraints stand behind that.
    """
    external_ids = [item.external_id for item in orders]
    if len(set(external_ids)) != len(external_ids):
        raise GuanxiError(_("Each order may appear only once in a request."), field="orders")
    stored = orders_by_external_id(external_ids=external_ids)
    results: list[BulkResult | None] = []
    new: list[tuple[int, OrderInput, Order]] = []
    for index, item in enumerate(orders):
        order = stored.get(item.external_id)
        if order is not None:
            differences = tuple(order_differences(order, item))
            outcome = BulkOutcome.CONFLICT if differences else BulkOutcome.EXISTING
            results.append(BulkResult(index, item.external_id, order.pk, outcome, differences))
            continue
        if not item.lines:
            raise GuanxiError(_("An order needs at least one line."), field=f"orders.{index}.lines")
        if any(line.quantity <= 0 for line in item.lines):
            raise GuanxiError(
                _("Quantities must be positive whole numbers."), field=f"orders.{index}.lines"
            )
        order = Order(
            customer=item.customer,
            external_id=item.external_id,
            placed_at=item.placed_at,
            **item.fields,
        )
        new.append((index, item, order))
        results.append(None)

    Order.objects.bulk_create([order for _i, _item, order in new], batch_size=500)
    lines: list[OrderLine] = []
    events: list[Event] = []
    now = timezone.now()
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    order_type = ContentType.objects.get_for_model(Order)
    for index, item, order in new:
        rows = [_line_row(order, no, line) for no, line in enumerate(item.lines, start=1)]
        lines += rows
        events.append(
            Event(
                occurred_at=now,
                kind="order.recorded",
                actor=actor_obj,
                customer_id=item.customer.pk,
                subject_type=order_type,
                subject_id=order.pk,
                data={
                    "amount_cents": sum(r.amount_cents for r in rows),
                    "profit_cents": sum(r.profit_cents for r in rows),
                    "lines": len(rows),
                },
            )
        )
        results[index] = BulkResult(index, item.external_id, order.pk, BulkOutcome.CREATED)
    OrderLine.objects.bulk_create(lines, batch_size=1000)
    Event.objects.bulk_create(events, batch_size=1000)

    done = [r for r in results if r is not None]
    counts = {
        outcome: sum(1 for r in done if r.status == outcome)
        for outcome in (BulkOutcome.CREATED, BulkOutcome.EXISTING, BulkOutcome.CONFLICT)
    }
    event_record(
        kind="orders.bulk_created",
        actor=actor,
        ip_address=ip_address,
        data={
            **counts,
            "orders": [r.order_id for r in done if r.status == BulkOutcome.CREATED],
            "conflicts": [r.external_id for r in done if r.status == BulkOutcome.CONFLICT],
        },
    )
    return done
