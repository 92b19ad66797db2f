import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from guanxi.core.errors import ErrorCode, GuanxiError
from guanxi.core.models import Event
from guanxi.sales.models import Order, OrderLine, Product
from guanxi.sales.services import LineInput, order_record, order_status_change

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2025, 1, 2, 10, tzinfo=dt.UTC)


def test_an_order_takes_prices_from_the_product_and_records_amount_and_profit(customer, product):
    order = order_record(
        customer=customer,
        external_id="O-1",
        placed_at=T0,
        lines=[LineInput(product=product, quantity=3), LineInput(product, 1, 10_000)],
    )
    lines = list(order.lines.order_by("line_no"))
    assert [(ln.line_no, ln.unit_price_cents) for ln in lines] == [(1, 12_000), (2, 10_000)]
    event = Event.objects.get(kind="order.recorded")
    assert event.data["amount_cents"] == 3 * 12_000 + 10_000
    assert event.data["profit_cents"] == 3 * 5_000 + 3_000


def test_zero_quantity_is_refused_and_the_whole_order_rolls_back(customer, product):
    with pytest.raises(GuanxiError, match="positive"):
        order_record(
            customer=customer,
            external_id="O-2",
            placed_at=T0,
            lines=[LineInput(product, 1), LineInput(product, 0)],
        )
    assert not Order.objects.filter(external_id="O-2").exists()
    assert not Event.objects.filter(kind="order.recorded").exists()


def test_database_refuses_negative_quantities_and_prices(customer, product):
    order = order_record(
        customer=customer, external_id="O-3", placed_at=T0, lines=[LineInput(product, 1)]
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderLine.objects.create(
            order=order,
            line_no=2,
            product=product,
            quantity=-1,
            unit_price_cents=1,
            unit_cost_cents=1,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.create(sku="BAD", name="x", unit_price_cents=-5, unit_cost_cents=0)


def test_order_status_moves_forward_only(customer, product):
    order = order_record(
        customer=customer, external_id="O-4", placed_at=T0, lines=[LineInput(product, 1)]
    )
    order = order_status_change(order=order, status="delivered", delivered_on=dt.date(2025, 1, 4))
    assert order.delivered_on == dt.date(2025, 1, 4)
    order = order_status_change(order=order, status="returned")
    with pytest.raises(GuanxiError) as err:
        order_status_change(order=order, status="delivered")
    assert err.value.code == ErrorCode.INVALID_TRANSITION
    assert list(
        Event.objects.filter(kind="order.status_changed")
        .order_by("id")
        .values_list("data", flat=True)
    ) == [{"from": "placed", "to": "delivered"}, {"from": "delivered", "to": "returned"}]


def test_purchases_exclude_cancelled_and_returned_orders(customer, product):
    for i, status in enumerate(["placed", "delivered", "cancelled", "returned"]):
        Order.objects.create(
            customer=customer,
            external_id=f"O-{i}",
            placed_at=T0,
            status=status,
            delivered_on=T0.date() if status in ("delivered", "returned") else None,
        )
    assert set(Order.objects.purchases().values_list("status", flat=True)) == {
        "placed",
        "delivered",
    }
