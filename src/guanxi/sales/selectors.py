"""Reads over products and orders; orders are seen through their customer."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Prefetch, QuerySet

from guanxi.parties.selectors import customers_hidden, visible_through_customer
from guanxi.sales.models import Order, OrderLine, Product


def orders_visible(*, user: Any) -> QuerySet[Order]:
    """The orders of the customers ``user`` may see."""
    return visible_through_customer(Order.objects.all(), user=user)


def orders_with_lines(orders: QuerySet[Order]) -> QuerySet[Order]:
    """``orders`` with their customer and their lines (in line order, with the product): three
    queries for any number of orders."""
    lines = OrderLine.objects.select_related("product").order_by("line_no")
    return orders.select_related("customer").prefetch_related(Prefetch("lines", queryset=lines))


def orders_by_external_id(*, external_ids: Iterable[str]) -> dict[str, Order]:
    """The stored orders among ``external_ids`` with their lines, by external id (two queries)."""
    wanted = sorted(set(external_ids))
    if not wanted:
        return {}
    lines = OrderLine.objects.select_related("product").order_by("line_no")
    orders = Order.objects.filter(external_id__in=wanted).prefetch_related(
        Prefetch("lines", queryset=lines)
    )
    return {order.external_id: order for order in orders}


def products_by_sku(*, skus: Iterable[str]) -> dict[str, Product]:
    """The products among ``skus``, by SKU (one query)."""
    wanted = sorted(set(skus))
    if not wanted:
        return {}
    return {p.sku: p for p in Product.objects.filter(sku__in=wanted)}


def order_external_ids_hidden(*, user: Any, external_ids: Iterable[str]) -> set[str]:
    """The external ids among ``external_ids`` of stored orders whose customer ``user`` may not
    see (no query for a user who sees every customer)."""
    hidden = customers_hidden(user=user)
    wanted = sorted(set(external_ids))
    if not wanted or hidden.query.is_empty():
        return set()
    return set(
        Order.objects.filter(external_id__in=wanted, customer__in=hidden.values("pk")).values_list(
            "external_id", flat=True
        )
    )
