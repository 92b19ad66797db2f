"""Writes shared by every app: recording events."""

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from guanxi.core.models import Event


def event_record(
    *,
    kind: str,
    actor: Any = None,
    customer: Any = None,
    subject: models.Model | None = None,
    data: dict[str, Any] | None = None,
    ip_address: str | None = None,
) -> Event:
    """Append one event. Call it inside the transaction that makes the change it describes."""
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    return Event.objects.create(
        kind=kind,
        actor=actor_obj,
        customer=customer,
        subject_type=ContentType.objects.get_for_model(subject) if subject is not None else None,
        subject_id=subject.pk if subject is not None else None,
        data=data or {},
        ip_address=ip_address,
    )
