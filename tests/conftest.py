"""Shared test setup: a real database (SQLite by default, PostgreSQL when GUANXI_DATABASE_URL
points at one), and no network beyond this machine."""

import ipaddress
import socket

import pytest

_real_connect = socket.socket.connect


def _loopback_only(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        try:
            local = ipaddress.ip_address(host).is_loopback
        except ValueError:
            local = host == "localhost"
        if not local:
            raise RuntimeError(f"tests may not reach the network (tried {host})")
    return _real_connect(self, address)


def pytest_configure(config):
    socket.socket.connect = _loopback_only


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="mei", password="s3cret-pass-word")


@pytest.fixture
def customer(db):
    from guanxi.parties.services import customer_create

    return customer_create(external_id="C-1", name="Acme Trading", customer_type="business")


@pytest.fixture
def product(db):
    from guanxi.sales.models import Product

    return Product.objects.create(
        sku="TEA-1", name="Green tea", unit_price_cents=12_000, unit_cost_cents=7_000
    )


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Tests create many users; the production hasher's million PBKDF2 rounds would dominate."""
    # The demo stores its login with the real hasher, so keep it to check that one.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
