"""Writes for products and orders. Each state change leaves an event in the same transaction."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.errors import ErrorCode, GuanxiError
from guanxi.core.services import event_record
from guanxi.parties.models import Customer
from guanxi.sales.choices import ORDER_TRANSITIONS, OrderStatus
from guanxi.sales.models import Order, OrderLine, Product


@dataclass(frozen=True)
class LineInput:
    product: Product
    quantity: int
    unit_price_cents: int | None = None  # defaults to the product's current price
    unit_cost_cents: int | None = None  # defaults to the product's current cost


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
        rows.append(
            OrderLine(
                order=order,
                line_no=no,
                product=line.product,
                quantity=line.quantity,
                unit_price_cents=(
                    line.product.unit_price_cents
                    if line.unit_price_cents is None
                    else line.unit_price_cents
                ),
                unit_cost_cents=(
                    line.product.unit_cost_cents
                    if line.unit_cost_cents is None
                    else line.unit_cost_cents
                ),
            )
        )
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
