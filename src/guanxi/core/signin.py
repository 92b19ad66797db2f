"""Sign-in lock-out: too many failed sign-ins for one username lock it for a while.

Every failed sign-in is an ``auth.sign_in_failed`` event (recorded by ``sign_in_failed_receiver``
on Django's ``user_login_failed`` signal, so every password check counts, wherever it is made);
the failures are counted from those events. After ``settings.SIGN_IN_LOCKOUT_FAILURES`` failures
within ``settings.SIGN_IN_LOCKOUT_MINUTES`` (counted since the username last signed in), the
username is locked until that many minutes after the last failure: the sign-in forms
(``guanxi.core.forms``) refuse it — even with the right password — and record each refusal as
``auth.sign_in_locked``. Other usernames are unaffected. A successful sign-in is
``auth.signed_in``. See docs/security.md.
"""

import datetime as dt
import math
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Max
from django.utils import timezone

from guanxi.core.models import Event
from guanxi.core.requests import client_ip
from guanxi.core.services import event_record

SIGN_IN_FAILED = "auth.sign_in_failed"
SIGN_IN_LOCKED = "auth.sign_in_locked"
SIGNED_IN = "auth.signed_in"

# -- reads -------------------------------------------------------------------------------------


def lockout_window() -> dt.timedelta:
    return dt.timedelta(minutes=settings.SIGN_IN_LOCKOUT_MINUTES)


def sign_in_locked_until(*, username: str, now: dt.datetime | None = None) -> dt.datetime | None:
    """When ``username`` may try again, or None if it is not locked (two queries).

    Locked: at least ``SIGN_IN_LOCKOUT_FAILURES`` failed sign-ins within the last
    ``SIGN_IN_LOCKOUT_MINUTES`` and after the username's last successful sign-in; the lock ends
    that many minutes after the last failure. Usernames compare case-insensitively, so the lock
    holds whatever the authentication backend makes of the case.
    """
    if not username:
        return None
    now = now or timezone.now()
    window = lockout_window()
    since = now - window
    last_success = Event.objects.filter(
        kind=SIGNED_IN, occurred_at__gt=since, data__username__iexact=username
    ).aggregate(at=Max("occurred_at"))["at"]
    if last_success is not None:
        since = last_success
    limit = settings.SIGN_IN_LOCKOUT_FAILURES
    failures = list(
        Event.objects.filter(
            kind=SIGN_IN_FAILED,
            occurred_at__gt=since,
            occurred_at__lte=now,
            data__username__iexact=username,
        )
        .order_by("-occurred_at")
        .values_list("occurred_at", flat=True)[:limit]
    )
    if len(failures) < limit:
        return None
    until = failures[0] + window
    return until if until > now else None


def minutes_left(until: dt.datetime, *, now: dt.datetime | None = None) -> int:
    """Whole minutes until ``until``, rounded up (at least 1)."""
    seconds = (until - (now or timezone.now())).total_seconds()
    return max(1, math.ceil(seconds / 60))


# -- writes ------------------------------------------------------------------------------------


def sign_in_failure_record(*, username: str, ip_address: str | None = None) -> Event:
    """Record a failed sign-in for ``username`` (whether or not such a user exists)."""
    return event_record(kind=SIGN_IN_FAILED, data={"username": username}, ip_address=ip_address)


def sign_in_refusal_record(
    *, username: str, locked_until: dt.datetime, ip_address: str | None = None
) -> Event:
    """Record an attempt refused because ``username`` is locked (its password was not checked)."""
    return event_record(
        kind=SIGN_IN_LOCKED,
        data={"username": username, "locked_until": locked_until.isoformat()},
        ip_address=ip_address,
    )


def sign_in_success_record(*, user: Any, ip_address: str | None = None) -> Event:
    """Record that ``user`` signed in; failures before it no longer count towards a lock."""
    return event_record(
        kind=SIGNED_IN, actor=user, data={"username": user.get_username()}, ip_address=ip_address
    )


def sign_in_failed_receiver(sender: Any, credentials: dict, request: Any = None, **kwargs) -> None:
    """``user_login_failed`` handler: every failed password check is a failed sign-in.

    ``credentials`` arrive with the password already masked by Django; only the username is kept.
    """
    username = credentials.get(get_user_model().USERNAME_FIELD) or credentials.get("username")
    if not username or not isinstance(username, str):
        return
    sign_in_failure_record(username=username[:150], ip_address=client_ip(request))
