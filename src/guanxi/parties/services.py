"""Writes for customers and contacts, and the erasure of a customer's personal data. Each leaves
an event in the same transaction."""

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.assessments.models import Assessment
from guanxi.core.errors import GuanxiError
from guanxi.core.models import Event
from guanxi.core.services import event_record
from guanxi.engagement.models import Case, Interaction, SurveyResponse
from guanxi.hierarchy.models import Bond
from guanxi.parties.choices import CONTACT_CUSTOMER_TYPES, PERSONAL_DATA_FIELDS
from guanxi.parties.models import Contact, Customer, Tag
from guanxi.playbooks.models import Task

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


def _changed_fields_data(
    changes: dict[str, tuple[Any, Any]], personal: tuple[str, ...] = PERSONAL_DATA_FIELDS
) -> dict[str, Any]:
    """Event data for changed fields; personal data is named but its values are not copied."""
    data: dict[str, Any] = {}
    for field, (old, new) in changes.items():
        if field in personal:
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
def customer_update(
    *, customer: Customer, actor: Any = None, tags: Iterable[str] | None = None, **fields: Any
) -> Customer:
    """Change some fields, and with ``tags`` (names) replace the customer's tags; an event names
    what changed (without copying personal data)."""
    unknown = set(fields) - set(CUSTOMER_FIELDS)
    if unknown:
        raise TypeError(f"customer_update() got unknown fields: {', '.join(sorted(unknown))}")
    changes = {}
    for field, value in fields.items():
        old = getattr(customer, field)
        if old != value:
            changes[field] = (old, value)
            setattr(customer, field, value)
    new_tags = None
    if tags is not None:
        old_names = sorted(customer.tags.values_list("name", flat=True))
        new_tags = tags_get_or_create(names=tags)
        if [t.name for t in new_tags] == old_names:
            new_tags = None
        else:
            changes["tags"] = (old_names, [t.name for t in new_tags])
    if not changes:
        return customer
    customer.full_clean()
    customer.save(update_fields=[*(f for f in changes if f != "tags"), "updated_at"])
    if new_tags is not None:
        customer.tags.set(new_tags)
    kind = "customer.owner_changed" if set(changes) == {"owner"} else "customer.updated"
    event_record(
        kind=kind,
        actor=actor,
        customer=customer,
        subject=customer,
        data=_changed_fields_data(changes),
    )
    return customer


@transaction.atomic
def customers_reassign(
    *,
    customer_ids: Iterable[int],
    owner: Any | None,
    actor: Any = None,
    ip_address: str | None = None,
) -> dict[str, int]:
    """Give the customers ``customer_ids`` the owner ``owner`` (None: back to the pool).

    Set-based, so ten thousand customers take a few statements: one update, the per-customer
    ``customer.owner_changed`` events (the data ``customer_update`` writes) in one insert, and one
    ``customers.reassigned`` event listing the customers with their previous and new owner. The
    caller checks that the actor may see the customers and hand them to ``owner``.
    Returns the number of customers, and of those whose owner changed.
    """
    ids = sorted(set(customer_ids))
    rows = list(
        Customer.objects.select_for_update()
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", "owner_id")
    )
    if len(rows) != len(ids):
        raise GuanxiError(_("Some of these customers do not exist."), field="customers")
    owner_id = owner.pk if owner is not None else None
    changed = [(pk, old) for pk, old in rows if old != owner_id]
    now = timezone.now()
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    if changed:
        Customer.objects.filter(pk__in=[pk for pk, _old in changed]).update(
            owner=owner, updated_at=now
        )
        subject_type = ContentType.objects.get_for_model(Customer)
        Event.objects.bulk_create(
            [
                Event(
                    occurred_at=now,
                    kind="customer.owner_changed",
                    actor=actor_obj,
                    customer_id=pk,
                    subject_type=subject_type,
                    subject_id=pk,
                    data=_changed_fields_data({"owner": (old, owner_id)}),
                    ip_address=ip_address,
                )
                for pk, old in changed
            ],
            batch_size=1000,
        )
    previous: dict[int | None, list[int]] = {}
    for pk, old in changed:
        previous.setdefault(old, []).append(pk)
    usernames = dict(
        get_user_model()
        .objects.filter(pk__in=[k for k in previous if k is not None])
        .values_list("pk", "username")
    )
    event_record(
        kind="customers.reassigned",
        actor=actor,
        ip_address=ip_address,
        data={
            "customers": ids,
            "changed": len(changed),
            "to": {"owner": owner_id, "username": owner.get_username() if owner else None},
            "from": [
                {"owner": old, "username": usernames.get(old), "customers": pks}
                for old, pks in sorted(previous.items(), key=lambda item: item[0] or 0)
            ],
        },
    )
    return {"customers": len(ids), "changed": len(changed)}


def personal_data_viewed_record(
    *, actor: Any, views: dict[int, dict[str, Any]], ip_address: str | None = None
) -> int:
    """Record that ``actor`` was shown personal data unmasked: one ``customer.personal_data_viewed``
    event per customer of ``views`` (customer id → the event's data, e.g.
    ``{"fields": ["phone"], "via": "api"}``), written in one insert. Returns the number."""
    if not views:
        return 0
    now = timezone.now()
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    subject_type = ContentType.objects.get_for_model(Customer)
    Event.objects.bulk_create(
        [
            Event(
                occurred_at=now,
                kind="customer.personal_data_viewed",
                actor=actor_obj,
                customer_id=pk,
                subject_type=subject_type,
                subject_id=pk,
                data=data,
                ip_address=ip_address,
            )
            for pk, data in views.items()
        ],
        batch_size=1000,
    )
    return len(views)


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


CONTACT_FIELDS = ("name", "job_title", "phone", "email", "wechat_id", "is_primary")


@transaction.atomic
def contact_update(*, contact: Contact, actor: Any = None, **fields: Any) -> Contact:
    """Change some of a contact's fields; an event names what changed (a contact's name and
    personal data are named, their values not copied)."""
    unknown = set(fields) - set(CONTACT_FIELDS)
    if unknown:
        raise TypeError(f"contact_update() got unknown fields: {', '.join(sorted(unknown))}")
    changes = {}
    for field, value in fields.items():
        old = getattr(contact, field)
        if old != value:
            changes[field] = (old, value)
            setattr(contact, field, value)
    if not changes:
        return contact
    contact.full_clean()
    contact.save(update_fields=[*changes, "updated_at"])
    event_record(
        kind="contact.updated",
        actor=actor,
        customer=contact.customer,
        subject=contact,
        data=_changed_fields_data(changes, personal=("name", *PERSONAL_DATA_FIELDS)),
    )
    return contact


# -- erasing a customer's personal data (data requests) ----------------------------------------

ERASED_CONTACT_NAME = "Erased contact"
ERASED_CASE_SUBJECT = "Erased case"
ERASED_TASK_TITLE = "Erased task"
ERASED_VALUE = "[erased]"
# Event kinds without a customer whose data may hold what someone searched for (a name, a phone).
_SEARCH_EVENT_KINDS = ("customers.exported",)


def erased_customer_name(pk: int) -> str:
    return f"Erased customer {pk}"


def _needle_matches(needle: str, text: str, *, whole: bool) -> bool:
    """Whether ``text`` holds the personal value ``needle`` (both lower-cased): equal to it, or —
    unless ``whole`` — for a value long or distinctive enough not to turn up by chance, like an
    e-mail address or a name in Chinese characters, anywhere inside it."""
    if text.strip() == needle:
        return True
    return not whole and (len(needle) >= 5 or not needle.isascii()) and needle in text


def _scrubbed(value: Any, needles: list[str], *, whole: bool = False) -> Any:
    """``value`` (event data) with every string that holds one of ``needles`` replaced."""
    if isinstance(value, str):
        text = value.lower()
        matches = any(_needle_matches(n, text, whole=whole) for n in needles)
        return ERASED_VALUE if matches else value
    if isinstance(value, dict):
        return {k: _scrubbed(v, needles, whole=whole) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v, needles, whole=whole) for v in value]
    return value


# The fields whose old and new values a customer or contact event may hold, and erasure blanks.
_ERASED_CHANGE_FIELDS = ("name", "job_title", "tags", *PERSONAL_DATA_FIELDS)


def _event_data_erased(kind: str, data: Any, needles: list[str]) -> Any:
    """Event data without personal values: a customer or contact event's change of a field that
    erasure blanks is kept as "changed" (as ``_changed_fields_data`` writes personal data), any
    other string holding a personal value is replaced — in the search filters of events about
    other customers too, but there only a whole value (a search for exactly that name or phone),
    so other people's audit records keep their meaning."""
    if kind in _SEARCH_EVENT_KINDS:
        return _scrubbed(data, needles, whole=True)
    if isinstance(data, dict) and kind.startswith(("customer.", "contact.")):
        data = {
            key: {"changed": True}
            if key in _ERASED_CHANGE_FIELDS
            and isinstance(value, dict)
            and ({"from", "to"} & set(value))
            else value
            for key, value in data.items()
        }
    return _scrubbed(data, needles)


def _rows_blank(queryset, changes: dict[str, Any], *, now) -> dict[str, Any]:
    """Set ``changes`` on the rows of ``queryset`` (of a time-stamped model); what was blanked:
    the number of rows and the field names, never the values."""
    rows = queryset.update(**changes, updated_at=now)
    return {"rows": rows, "fields": sorted(changes)}


@transaction.atomic
def customer_erase(*, customer: Customer, actor: Any = None) -> dict[str, Any]:
    """Erase ``customer``'s personal data on request, keeping what the company's figures need.

    In one transaction: the customer's name becomes "Erased customer <pk>", phone, e-mail, WeChat
    id and address are blanked, tags removed, marketing consent withdrawn and the customer made
    inactive (playbooks no longer act on them); their contacts' personal data, the free text of
    interactions, cases, survey responses, assessments, bonds and hand-made tasks are blanked;
    personal values are scrubbed from the data of the events about them (the one change ever made
    to recorded events). Orders, order lines, amounts, scores and the events themselves stay.
    A ``customer.erased`` event lists what was blanked — field names and counts, never values.
    Returns that list.
    """
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    now = timezone.now()
    contacts = Contact.objects.filter(customer=customer)
    assessments = Assessment.objects.filter(customer=customer)

    # The values to look for in event data, lower-cased: read before they are blanked.
    values = [customer.name, *(getattr(customer, f) for f in PERSONAL_DATA_FIELDS)]
    for row in contacts.values_list("name", "phone", "email", "wechat_id"):
        values += row
    values += assessments.exclude(rater_name="").values_list("rater_name", flat=True)
    needles = sorted({v.strip().lower() for v in values if v and v.strip()}, key=len, reverse=True)

    erased: dict[str, Any] = {}
    changes = {"name": erased_customer_name(customer.pk)}
    changes |= {f: "" for f in PERSONAL_DATA_FIELDS}
    erased["customer"] = sorted(f for f, v in changes.items() if getattr(customer, f) != v)
    if customer.marketing_consent:
        erased["customer"].append("marketing_consent")
    for field, value in changes.items():
        setattr(customer, field, value)
    customer.marketing_consent = False
    customer.is_active = False
    customer.save(update_fields=[*changes, "marketing_consent", "is_active", "updated_at"])
    erased["tags"] = customer.tags.count()
    customer.tags.clear()

    erased["contacts"] = _rows_blank(
        contacts,
        {"name": ERASED_CONTACT_NAME, "job_title": "", "phone": "", "email": "", "wechat_id": ""},
        now=now,
    )
    erased["interactions"] = _rows_blank(
        Interaction.objects.filter(customer=customer).exclude(notes=""), {"notes": ""}, now=now
    )
    erased["cases"] = _rows_blank(
        Case.objects.filter(customer=customer),
        {"subject": ERASED_CASE_SUBJECT, "description": "", "resolution": ""},
        now=now,
    )
    erased["survey_responses"] = _rows_blank(
        SurveyResponse.objects.filter(customer=customer).exclude(comment=""),
        {"comment": ""},
        now=now,
    )
    erased["assessments"] = _rows_blank(
        assessments.exclude(rater_name="", notes=""), {"rater_name": "", "notes": ""}, now=now
    )
    erased["bonds"] = _rows_blank(
        Bond.objects.filter(customer=customer).exclude(note=""), {"note": ""}, now=now
    )
    # A hand-made task keeps a title (a task needs one); a playbook task's words are the
    # playbook's (its wording), not about the customer.
    erased["tasks"] = _rows_blank(
        Task.objects.filter(customer=customer, wording__isnull=True),
        {"custom_title": ERASED_TASK_TITLE, "custom_reason": ""},
        now=now,
    )

    scrubbed = []
    events = Event.objects.filter(
        Q(customer=customer) | Q(customer__isnull=True, kind__in=_SEARCH_EVENT_KINDS)
    ).only("pk", "kind", "data")
    for event in events.iterator(chunk_size=500):
        data = _event_data_erased(event.kind, event.data, needles)
        if data != event.data:
            event.data = data
            scrubbed.append(event)
    Event.objects.bulk_update(scrubbed, ["data"], batch_size=500)
    erased["events"] = {"rows": len(scrubbed), "fields": ["data"]}

    event_record(
        kind="customer.erased", actor=actor, customer=customer, subject=customer, data=erased
    )
    return erased
