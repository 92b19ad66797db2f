"""Signing in: the lock-out after repeated failures, its audit events, the client's address and
the password rules."""

import datetime as dt

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db.models import F
from django.test import RequestFactory
from django.utils import translation

from guanxi.core.models import Event
from guanxi.core.requests import client_ip
from guanxi.core.signin import sign_in_locked_until

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret-pass-word"
LOGIN = "/accounts/login/"


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def english_afterwards():
    yield
    translation.activate("en")


@pytest.fixture
def mei(django_user_model):
    return django_user_model.objects.create_user(username="mei", password=PASSWORD)


@pytest.fixture
def lei(django_user_model):
    return django_user_model.objects.create_user(username="lei", password=PASSWORD)


def _attempt(client, username="mei", password="wrong", path=LOGIN, **extra):
    return client.post(path, {"username": username, "password": password}, **extra)


def _fail(client, times, username="mei", **extra):
    for _ in range(times):
        response = _attempt(client, username=username, **extra)
        assert response.status_code == 200
        assert "Please enter a correct username and password" in response.content.decode()


def _age_events(minutes):
    """Move every sign-in event ``minutes`` into the past."""
    Event.objects.filter(kind__startswith="auth.").update(
        occurred_at=F("occurred_at") - dt.timedelta(minutes=minutes)
    )


def test_five_failures_lock_the_username_even_for_the_right_password(client, mei):
    _fail(client, 5)
    response = _attempt(client, password=PASSWORD)
    assert response.status_code == 200
    text = response.content.decode()
    assert 'role="alert"' in text
    assert "Too many failed sign-ins for this account; try again in 15 minutes." in text
    assert client.get("/").status_code == 302  # not signed in

    failed = Event.objects.filter(kind="auth.sign_in_failed")
    assert failed.count() == 5
    assert {(e.data["username"], e.ip_address, e.actor) for e in failed} == {
        ("mei", "127.0.0.1", None)
    }
    locked = Event.objects.get(kind="auth.sign_in_locked")
    assert locked.data["username"] == "mei" and locked.ip_address == "127.0.0.1"
    # A refused attempt is not a failure: the password was never checked.
    assert failed.count() == 5


def test_another_username_is_not_affected(client, mei, lei):
    _fail(client, 5)
    response = _attempt(client, username="lei", password=PASSWORD)
    assert response.status_code == 302
    assert not Event.objects.filter(kind="auth.sign_in_locked").exists()


def test_four_failures_do_not_lock(client, mei):
    _fail(client, 4)
    assert _attempt(client, password=PASSWORD).status_code == 302


def test_the_lock_ends_fifteen_minutes_after_the_last_failure(client, mei):
    _fail(client, 5)
    _age_events(14)
    response = _attempt(client, password=PASSWORD)
    assert "try again in 1 minute." in response.content.decode()
    _age_events(1)
    response = _attempt(client, password=PASSWORD)
    assert response.status_code == 302


def test_failures_spread_over_more_than_the_window_do_not_lock(client, mei):
    _fail(client, 3)
    _age_events(16)
    _fail(client, 2)
    assert sign_in_locked_until(username="mei") is None
    assert _attempt(client, password=PASSWORD).status_code == 302


def test_a_successful_sign_in_starts_the_count_again(client, mei):
    _fail(client, 4)
    assert _attempt(client, password=PASSWORD).status_code == 302
    signed_in = Event.objects.get(kind="auth.signed_in")
    assert (signed_in.actor, signed_in.ip_address) == (mei, "127.0.0.1")
    client.post("/accounts/logout/")
    _fail(client, 1)
    assert sign_in_locked_until(username="mei") is None


def test_an_unknown_username_is_counted_and_locked_like_any_other(client):
    _fail(client, 5, username="nobody")
    assert sign_in_locked_until(username="nobody") is not None
    assert sign_in_locked_until(username="NOBODY") is not None  # whatever the case


def test_the_thresholds_are_settings(client, mei, settings):
    settings.SIGN_IN_LOCKOUT_FAILURES = 2
    settings.SIGN_IN_LOCKOUT_MINUTES = 60
    _fail(client, 2)
    response = _attempt(client, password=PASSWORD)
    assert "try again in 60 minutes." in response.content.decode()


def test_the_admin_sign_in_is_locked_too(client, django_user_model):
    django_user_model.objects.create_superuser(username="root", password=PASSWORD)
    for _ in range(5):
        assert _attempt(client, username="root", path="/admin/login/").status_code == 200
    response = _attempt(client, username="root", password=PASSWORD, path="/admin/login/")
    assert "Too many failed sign-ins for this account" in response.content.decode()
    assert Event.objects.filter(kind="auth.sign_in_failed").count() == 5


# -- the client's address ----------------------------------------------------------------------


def test_client_ip_is_the_remote_address_unless_the_proxy_is_trusted(settings):
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7"
    )
    settings.TRUST_X_FORWARDED_FOR = False
    assert client_ip(request) == "10.0.0.5"
    settings.TRUST_X_FORWARDED_FOR = True
    # The last address is the one the proxy saw; the ones before it the client wrote itself.
    assert client_ip(request) == "203.0.113.7"


def test_client_ip_is_none_for_anything_that_is_not_an_address(settings):
    settings.TRUST_X_FORWARDED_FOR = True
    bad = RequestFactory().get("/", REMOTE_ADDR="", HTTP_X_FORWARDED_FOR="not-an-ip")
    assert client_ip(bad) is None
    assert client_ip(None) is None
    ipv6 = RequestFactory().get("/", REMOTE_ADDR="::1")
    assert client_ip(ipv6) == "::1"


def test_failed_sign_ins_behind_a_trusted_proxy_record_the_forwarded_address(client, mei, settings):
    settings.TRUST_X_FORWARDED_FOR = True
    _attempt(client, HTTP_X_FORWARDED_FOR="198.51.100.20")
    assert Event.objects.get(kind="auth.sign_in_failed").ip_address == "198.51.100.20"


# -- password rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weak", "reason"),
    [
        ("password", "too common"),
        ("12345678", "entirely numeric"),
        ("tea", "too short"),
        ("meilin2024!", "too similar to the username"),
        ("Mei.Lin@example", "too similar to the email address"),
    ],
)
def test_weak_passwords_are_refused(weak, reason, django_user_model):
    user = django_user_model(username="meilin2024", email="mei.lin@example.com")
    with pytest.raises(ValidationError) as refused:
        validate_password(weak, user=user)
    assert any(reason in message for message in refused.value.messages)


def test_a_long_unusual_password_is_accepted(mei):
    validate_password("tea-garden-river-lantern", user=mei)
