"""Shared setup for the REST API tests: one user per role, customers in each record-level
position, clients that authenticate with a real API token, and the helpers several test modules
use.

The company: team North has the manager ``nora`` and the sales rep ``li``; team South has the sales
rep ``wang``. Customers: ``own`` (owned by li), ``other`` (owned by wang) and ``pool`` (unassigned).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from rest_framework.test import APIClient

from guanxi.core.models import Event, StaffProfile, Team
from guanxi.core.services import api_token_create

ROLES = ("admin", "manager", "sales", "service", "analyst")
# The customers of ``company``, one in each record-level position.
RECORDS = ("own", "other", "pool")
# Every role against every customer: the permission matrix.
MATRIX = [(role, record) for role in ROLES for record in RECORDS]

# Which customers each role sees: the record-level rule, as the matrix tests expect it.
SEES = {
    "admin": {"own", "other", "pool"},
    "manager": {"own", "pool"},  # li is on nora's team, wang is not
    "sales": {"own", "pool"},
    "service": {"own", "other", "pool"},
    "analyst": {"own", "other", "pool"},
}
# Roles that may change data (analysts read only).
WRITES = {"admin", "manager", "sales", "service"}
# Roles that see phone, email, WeChat id and address unmasked.
PERSONAL_DATA = {"admin", "manager", "sales"}


@dataclass
class Company:
    users: dict[str, Any]
    customers: dict[str, Any]


def _user(django_user_model, username: str, role: str | None, team: Team | None) -> Any:
    user = django_user_model.objects.create_user(username=username, password="s3cret-pass-word")
    if role is not None:
        user.groups.add(Group.objects.get(name=role))
    StaffProfile.objects.create(user=user, team=team)
    return user


@pytest.fixture
def company(db, django_user_model) -> Company:
    from guanxi.parties.services import customer_create

    north = Team.objects.create(name="North")
    south = Team.objects.create(name="South")
    users = {
        "admin": _user(django_user_model, "ada", "admin", None),
        "manager": _user(django_user_model, "nora", "manager", north),
        "sales": _user(django_user_model, "li", "sales", north),
        "other_sales": _user(django_user_model, "wang", "sales", south),
        "service": _user(django_user_model, "sun", "service", None),
        "analyst": _user(django_user_model, "an", "analyst", None),
        "nobody": _user(django_user_model, "guest", None, None),
    }
    personal = {
        "phone": "13812345678",
        "email": "buyer@example.com",
        "wechat_id": "wx_buyer_01",
        "address": "88 Nanjing Road, Shanghai",
    }
    customers = {
        "own": customer_create(
            external_id="C-OWN",
            name="Own Trading",
            customer_type="business",
            owner=users["sales"],
            **personal,
        ),
        "other": customer_create(
            external_id="C-OTHER",
            name="Other Trading",
            customer_type="business",
            owner=users["other_sales"],
            **personal,
        ),
        "pool": customer_create(
            external_id="C-POOL", name="Pool Consumer", customer_type="consumer", **personal
        ),
    }
    return Company(users=users, customers=customers)


@pytest.fixture
def api_as():
    """``api_as(user, scope="read_write")``: an API client sending a fresh token of ``user``."""

    def make(user: Any, scope: str = "read_write") -> APIClient:
        _token, key = api_token_create(user=user, name="test", scope=scope)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        return client

    return make


@pytest.fixture
def page_cost(django_assert_max_num_queries):
    """``page_cost(client, url, params=None, most=10)``: the rows of one page of up to 100 and the
    queries it took (at most ``most``). Called before and after adding rows, it shows that a
    list's queries do not grow with its rows."""

    def measure(client: APIClient, url: str, params: dict | None = None, *, most: int = 10):
        with django_assert_max_num_queries(most) as captured:
            response = client.get(url, {"page_size": 100, **(params or {})})
        assert response.status_code == 200, response.json()
        return response.json()["results"], len(captured)

    return measure


def events(kind: str):
    """The audit events of one kind, oldest first."""
    return Event.objects.filter(kind=kind).order_by("pk")


def log_interaction(customer: Any, external_id: str, **fields: Any) -> Any:
    """An interaction with ``customer`` logged through the service: by phone, two hours ago,
    unless ``fields`` say otherwise."""
    from guanxi.engagement.services import interaction_log

    values = {
        "occurred_at": timezone.now() - dt.timedelta(hours=2),
        "channel": "phone",
        "direction": "outbound",
        "service_phase": "after_sale",
        "purpose": "advice",
    }
    return interaction_log(customer=customer, external_id=external_id, **{**values, **fields})
