"""Reads for export: each entity's records as rows in the import columns' order, streamed.

Related records come in the same query (joins through ``values_list``, or ``select_related``) or
one query per chunk (``prefetch_related`` for customers' tags), never one query per row.
"""

from collections.abc import Iterator
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _

from guanxi.core.errors import ErrorCode, GuanxiError
from guanxi.engagement.models import Case, Interaction
from guanxi.imports.schemas import EntitySchema
from guanxi.parties.models import Contact, Customer
from guanxi.sales.models import OrderLine, Product

CHUNK_SIZE = 2000

# The lookup read for each import column, per entity (customers are read as models for tags).
EXPORT_LOOKUPS: dict[str, dict[str, str]] = {
    "contacts": {
        "external_id": "external_id",
        "customer_external_id": "customer__external_id",
        "name": "name",
        "job_title": "job_title",
        "phone": "phone",
        "email": "email",
        "wechat_id": "wechat_id",
        "is_primary": "is_primary",
    },
    "products": {
        "sku": "sku",
        "name": "name",
        "category": "category",
        "unit_price": "unit_price_cents",
        "unit_cost": "unit_cost_cents",
        "is_active": "is_active",
    },
    "orders": {
        "order_external_id": "order__external_id",
        "customer_external_id": "order__customer__external_id",
        "placed_at": "order__placed_at",
        "promised_delivery_on": "order__promised_delivery_on",
        "delivered_on": "order__delivered_on",
        "channel": "order__channel",
        "status": "order__status",
        "line_no": "line_no",
        "sku": "product__sku",
        "quantity": "quantity",
        "unit_price": "unit_price_cents",
        "unit_cost": "unit_cost_cents",
    },
    "interactions": {
        "external_id": "external_id",
        "customer_external_id": "customer__external_id",
        "contact_external_id": "contact__external_id",
        "order_external_id": "order__external_id",
        "occurred_at": "occurred_at",
        "channel": "channel",
        "direction": "direction",
        "service_phase": "service_phase",
        "purpose": "purpose",
        "staff": "staff__username",
        "notes": "notes",
    },
    "cases": {
        "external_id": "external_id",
        "customer_external_id": "customer__external_id",
        "contact_external_id": "contact__external_id",
        "order_external_id": "order__external_id",
        "kind": "kind",
        "category": "category",
        "subject": "subject",
        "description": "description",
        "satisfaction": "satisfaction",
        "severity": "severity",
        "status": "status",
        "opened_at": "opened_at",
        "first_response_at": "first_response_at",
        "resolved_at": "resolved_at",
        "closed_at": "closed_at",
        "due_at": "due_at",
        "owner": "owner__username",
        "resolution": "resolution",
    },
}

_QUERYSETS = {
    "contacts": lambda: Contact.objects.order_by("external_id"),
    "products": lambda: Product.objects.order_by("sku"),
    # Lines of one order stay together, in line order: the importer reads them as one order.
    "orders": lambda: OrderLine.objects.order_by("order_id", "line_no"),
    "interactions": lambda: Interaction.objects.order_by("external_id"),
    "cases": lambda: Case.objects.order_by("external_id"),
}


def export_queryset(schema: EntitySchema) -> QuerySet:
    if schema.name == "customers":
        return (
            Customer.objects.select_related("owner")
            .prefetch_related("tags")
            .order_by("external_id")
        )
    lookups = EXPORT_LOOKUPS[schema.name]
    return _QUERYSETS[schema.name]().values_list(*(lookups[c.name] for c in schema.columns))


def export_rows(schema: EntitySchema, *, chunk_size: int = CHUNK_SIZE) -> Iterator[list[Any]]:
    """Each record as a list of values in ``schema.columns`` order (money in cents, tags as a
    tuple of names, users as usernames)."""
    queryset = export_queryset(schema)
    if schema.name != "customers":
        for row in queryset.iterator(chunk_size=chunk_size):
            yield list(row)
        return
    for customer in queryset.iterator(chunk_size=chunk_size):
        values = {
            "owner": customer.owner.get_username() if customer.owner else None,
            "tags": tuple(tag.name for tag in customer.tags.all()),
        }
        yield [
            values[c.name] if c.name in values else getattr(customer, c.name)
            for c in schema.columns
        ]


def user_by_username(username: str | None) -> Model | None:
    """The user named on the command line as the actor of a run; ``None`` for no name."""
    if not username:
        return None
    user_model = get_user_model()
    try:
        return user_model.objects.get(**{user_model.USERNAME_FIELD: username})
    except user_model.DoesNotExist:
        raise GuanxiError(
            _("There is no user called '%(user)s'.") % {"user": username},
            code=ErrorCode.NOT_FOUND,
        ) from None
