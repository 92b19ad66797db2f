"""Reads over customers; every page, export and API list starts from ``customers_visible``."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from guanxi.core.choices import Role
from guanxi.core.models import StaffProfile
from guanxi.parties.models import Customer


def user_roles(user: Any) -> frozenset[str]:
    """The role names (group names) of ``user``; a superuser counts as admin."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    roles = getattr(user, "_guanxi_roles", None)
    if roles is None:
        roles = frozenset(user.groups.values_list("name", flat=True))
        if user.is_superuser:
            roles |= {Role.ADMIN.value}
        user._guanxi_roles = roles  # one query per request, not one per check
    return roles


def customers_visible(*, user: Any) -> QuerySet[Customer]:
    """The customers ``user`` may see (the record-level rule, enforced server-side).

    admin, analyst and service: every customer (analyst and service see personal data masked,
    which is the page's and the API's job); manager: customers owned by members of their team, their
    own and the unassigned pool; sales: their own and the unassigned pool; anyone else: none.
    """
    roles = user_roles(user)
    if roles & {Role.ADMIN, Role.ANALYST, Role.SERVICE}:
        return Customer.objects.all()
    if Role.MANAGER in roles:
        team_id = StaffProfile.objects.filter(user=user).values_list("team_id", flat=True).first()
        rule = Q(owner=user) | Q(owner__isnull=True)
        if team_id is not None:
            rule |= Q(owner__staff_profile__team_id=team_id)
        return Customer.objects.filter(rule)
    if Role.SALES in roles:
        return Customer.objects.filter(Q(owner=user) | Q(owner__isnull=True))
    return Customer.objects.none()


def personal_data_visible(*, user: Any) -> bool:
    """Whether ``user`` sees phone, email, WeChat id and address unmasked."""
    return bool(user_roles(user) & {Role.ADMIN, Role.MANAGER, Role.SALES})
