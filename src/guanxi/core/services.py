"""Writes shared by every app: recording events, staff preferences."""

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.errors import ErrorCode, GuanxiError
from guanxi.core.models import ApiToken, Event, StaffProfile, TokenScope


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


# -- API tokens --------------------------------------------------------------------------------

TOKEN_PREFIX = "gx"


def token_hash(key: str) -> str:
    """The stored form of an API key: its SHA-256 (a key has 256 random bits; no salt needed)."""
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_create(
    *,
    user: Any,
    name: str,
    scope: str = TokenScope.READ,
    expires_at: dt.datetime | None = None,
    actor: Any = None,
    ip_address: str | None = None,
) -> tuple[ApiToken, str]:
    """A new API token for ``user`` and its key, ``gx_<prefix>_<secret>``.

    The key is returned only here: store it now, Guanxi keeps only its hash.
    """
    name = (name or "").strip()
    if not name:
        raise GuanxiError(_("Give the token a name that says what it is for."), field="name")
    if scope not in TokenScope.values:
        raise GuanxiError(
            _("Unknown scope %(scope)s; use read or read_write.") % {"scope": scope},
            field="scope",
        )
    if expires_at is not None and expires_at <= timezone.now():
        raise GuanxiError(_("The expiry time must lie in the future."), field="expires_at")
    prefix = secrets.token_hex(4)
    key = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        prefix=prefix,
        key_hash=token_hash(key),
        scope=scope,
        expires_at=expires_at,
    )
    event_record(
        kind="api_token.created",
        actor=actor or user,
        subject=token,
        data={"user": user.get_username(), "name": token.name, "scope": scope},
        ip_address=ip_address,
    )
    return token, key


@transaction.atomic
def api_token_revoke(
    *, token: ApiToken, actor: Any = None, ip_address: str | None = None
) -> ApiToken:
    """Stop ``token`` from authenticating; revoking twice is refused with a conflict."""
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is not None:
        raise GuanxiError(_("This token is already revoked."), code=ErrorCode.CONFLICT)
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    event_record(
        kind="api_token.revoked",
        actor=actor,
        subject=token,
        data={"user_id": token.user_id, "name": token.name},
        ip_address=ip_address,
    )
    return token


# A token's last use is written at most this often, not on every request.
TOKEN_TOUCH_INTERVAL = dt.timedelta(minutes=1)


def api_token_touch(*, token: ApiToken, at: dt.datetime | None = None) -> None:
    """Record that ``token`` was used (at most once per ``TOKEN_TOUCH_INTERVAL``)."""
    at = at or timezone.now()
    if token.last_used_at is None or at - token.last_used_at >= TOKEN_TOUCH_INTERVAL:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=at)
        token.last_used_at = at
