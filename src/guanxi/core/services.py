"""Writes shared by every app: recording events, staff preferences."""

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models

from guanxi.core.models import Event, StaffProfile


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


def staff_language_set(*, user: Any, language: str) -> StaffProfile:
    """Remember ``user``'s interface language, creating their staff profile if they have none.

    No event: an interface preference is neither a business change nor an access to data.
    """
    if language not in dict(settings.LANGUAGES):
        raise ValueError(
            f"unknown language {language!r}; use one of {', '.join(dict(settings.LANGUAGES))}"
        )
    profile, created = StaffProfile.objects.get_or_create(
        user=user, defaults={"language": language}
    )
    if not created and profile.language != language:
        profile.language = language
        profile.save(update_fields=["language"])
    return profile
