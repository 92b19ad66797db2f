"""Writes for customers and contacts. Each leaves an event in the same transaction."""

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from guanxi.core.errors import GuanxiError
from guanxi.core.services import event_record
from guanxi.parties.choices import CONTACT_CUSTOMER_TYPES, PERSONAL_DATA_FIELDS
from guanxi.parties.models import Contact, Customer, Tag

CUSTOMER_FIELDS = (
    "name",
    "customer_type",
    "owner",
    "region",
    "phone",
    "email",
    "wechat_id",
    "address",
    "marketing_consent",
    "is_active",
)


def _changed_fields_data(changes: dict[str, tuple[Any, Any]]) -> dict[str, Any]:
    """Event data for changed fields; personal data is named but its values are not copied."""
    data: dict[str, Any] = {}
    for field, (old, new) in changes.items():
        if field in PERSONAL_DATA_FIELDS:
            data[field] = {"changed": True}
        else:
            data[field] = {"from": _plain(old), "to": _plain(new)}
    return data


def _plain(value: Any) -> Any:
    return getattr(value, "pk", value)


@transaction.atomic
def customer_create(
    *, external_id: str, name: str, customer_type: str, actor: Any = None, tags=(), **fields: Any
) -> Customer:
    unknown = set(fields) - set(CUSTOMER_FIELDS)
    if unknown:
        raise TypeError(f"customer_create() got unknown fields: {', '.join(sorted(unknown))}")
    customer = Customer(external_id=external_id, name=name, customer_type=customer_type, **fields)
    customer.full_clean()
    customer.save()
    if tags:
        customer.tags.set(tags_get_or_create(names=tags))
    event_record(
        kind="customer.created",
        actor=actor,
        customer=customer,
        subject=customer,
        data={"customer_type": customer_type},
    )
    return customer


@transaction.atomic
def customer_update(*, customer: Customer, actor: Any = None, **fields: Any) -> Customer:
    """Change some fields; an event names what changed (without copying personal data)."""
    unknown = set(fields) - set(CUSTOMER_FIELDS)
    if unknown:
        raise TypeError(f"customer_update() got unknown fields: {', '.join(sorted(unknown))}")
    changes = {}
    for field, value in fields.items():
        old = getattr(customer, field)
        if old != value:
            changes[field] = (old, value)
            setattr(customer, field, value)
    if not changes:
        return customer
    customer.full_clean()
    customer.save(update_fields=[*changes, "updated_at"])
    kind = "customer.owner_changed" if set(changes) == {"owner"} else "customer.updated"
    event_record(
        kind=kind,
        actor=actor,
        customer=customer,
        subject=customer,
        data=_changed_fields_data(changes),
    )
    return customer


def tags_get_or_create(*, names) -> list[Tag]:
    cleaned = sorted({n.strip() for n in names if n and n.strip()})
    existing = {t.name: t for t in Tag.objects.filter(name__in=cleaned)}
    missing = [Tag(name=n) for n in cleaned if n not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {t.name: t for t in Tag.objects.filter(name__in=cleaned)}
    return [existing[n] for n in cleaned]


@transaction.atomic
def contact_create(
    *, customer: Customer, external_id: str, name: str, actor: Any = None, **fields: Any
) -> Contact:
    if customer.customer_type not in CONTACT_CUSTOMER_TYPES:
        raise GuanxiError(
            _(
                "Contacts belong to business and channel customers; %(customer)s is a %(type)s "
                "customer, who is their own contact."
            )
            % {"customer": customer.name, "type": customer.get_customer_type_display()},
            field="customer",
        )
    contact = Contact(customer=customer, external_id=external_id, name=name, **fields)
    contact.full_clean()
    contact.save()
    event_record(kind="contact.created", actor=actor, customer=customer, subject=contact)
    return contact
