"""What a request says about its sender: the client's IP address, for the audit trail."""

import ipaddress
from typing import Any

from django.conf import settings


def _valid_ip(value: str) -> str | None:
    """``value`` if it is an IPv4 or IPv6 address, else None (``Event.ip_address`` stores only
    addresses; PostgreSQL's ``inet`` column refuses anything else)."""
    value = value.strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request: Any) -> str | None:
    """The IP address the request came from, or None if it is unknown.

    ``REMOTE_ADDR``, unless ``settings.TRUST_X_FORWARDED_FOR`` is on (Guanxi runs behind a reverse
    proxy that sets ``X-Forwarded-For``): then the last address in that header, the one the proxy
    itself saw. Addresses further left were written by the client and prove nothing.
    """
    meta = getattr(request, "META", None)
    if not meta:
        return None
    if getattr(settings, "TRUST_X_FORWARDED_FOR", False):
        forwarded = [part for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part]
        if forwarded:
            address = _valid_ip(forwarded[-1])
            if address is not None:
                return address
    return _valid_ip(meta.get("REMOTE_ADDR") or "")
