"""The parts of the REST API that DRF's settings name: token authentication, the role and scope
permissions, the per-token rate limit and cursor pagination.

They live apart from ``guanxi.core.api`` because DRF imports them while it is itself being
imported (``rest_framework.views`` reads ``DEFAULT_AUTHENTICATION_CLASSES``), so this module may
import only DRF modules that do not import ``rest_framework.views``.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from guanxi.core.choices import Role
from guanxi.core.models import ApiToken, TokenScope
from guanxi.core.selectors import api_token_for_key
from guanxi.core.services import api_token_touch

# -- authentication ----------------------------------------------------------------------------


class TokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer gx_…`` (``Token gx_…`` is accepted too).

    No header: not this scheme (the session may still authenticate). A header with an unknown,
    revoked or expired key: refused with 401, never silently anonymous.
    """

    keywords = ("bearer", "token")

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        keyword, _sep, key = header.partition(" ")
        if keyword.lower() not in self.keywords:
            return None
        key = key.strip()
        if not key or " " in key:
            raise exceptions.AuthenticationFailed(
                _("Send the token as 'Authorization: Bearer <key>'.")
            )
        token = api_token_for_key(key)
        if token is None:
            raise exceptions.AuthenticationFailed(
                _("The API token is unknown, revoked or expired; create a new one.")
            )
        api_token_touch(token=token)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


# -- permissions -------------------------------------------------------------------------------

ALL_ROLES = frozenset(Role)
WRITE_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.SALES, Role.SERVICE})


def _user_roles(user: Any) -> frozenset[str]:
    from guanxi.parties.selectors import user_roles  # parties builds on core

    return user_roles(user)


class RolePermission(BasePermission):
    """Which roles may call which action.

    A view sets ``read_roles`` (default: every role) and ``write_roles`` (default: the roles that
    work with customers; analysts read only), or ``action_roles`` = {action: roles} for particular
    actions. Record-level rules come on top, from the view's queryset.
    """

    message = gettext_lazy("Your role does not allow this.")
    code = "permission_denied"

    def has_permission(self, request: Request, view: Any) -> bool:
        roles = _user_roles(request.user)
        if not roles:
            return False
        action = getattr(view, "action", None)
        by_action = getattr(view, "action_roles", {})
        if action in by_action:
            allowed = by_action[action]
        elif request.method in SAFE_METHODS:
            allowed = getattr(view, "read_roles", ALL_ROLES)
        else:
            allowed = getattr(view, "write_roles", WRITE_ROLES)
        return bool(roles & set(allowed))


class TokenScopePermission(BasePermission):
    """A read token may only read."""

    message = gettext_lazy(
        "This API token may only read; create a read-write token to change data."
    )
    code = "token_read_only"

    def has_permission(self, request: Request, view: Any) -> bool:
        token = request.auth
        if isinstance(token, ApiToken) and token.scope == TokenScope.READ:
            return request.method in SAFE_METHODS
        return True


class IsAuthenticated(BasePermission):
    message = gettext_lazy("Sign in or send an API token.")
    code = "not_authenticated"

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated)


# -- rate limit --------------------------------------------------------------------------------


class TokenRateThrottle(SimpleRateThrottle):
    """Requests per API token (``GUANXI_API_TOKEN_RATE``, e.g. ``1000/hour``); sessions are
    not limited here (the pages have sign-in lock-out instead)."""

    scope = "api_token"

    def get_rate(self) -> str | None:
        # Read per request (not at import, as DRF does), so the setting can change in tests.
        return settings.API_TOKEN_RATE

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.auth, ApiToken):
            return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
        return None


# -- pagination --------------------------------------------------------------------------------


class IdCursorPagination(CursorPagination):
    """Cursor pagination in id order: stable while rows are added, cheap on any page."""

    ordering = "id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    # The ordering is on a whole-number column: a cursor whose position is anything else is
    # forged or damaged, and is refused here instead of reaching the database as a bad value.
    integer_positions = True

    def decode_cursor(self, request: Request) -> Any:
        cursor = super().decode_cursor(request)
        position = cursor.position if cursor is not None else None
        if (
            self.integer_positions
            and position is not None
            and not re.fullmatch(r"-?[0-9]{1,18}", position)
        ):
            raise exceptions.NotFound(self.invalid_cursor_message)
        return cursor
