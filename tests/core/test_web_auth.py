"""Signing in and out, and the interface language remembered per user."""

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import translation

from guanxi.core.models import StaffProfile

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret-pass-word"


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    # The default hasher takes most of a second per sign-in; these tests are about the flow.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def english_afterwards():
    # A request to a /zh-hans/ page leaves Chinese active in this thread, and reverse() in a
    # later test would then give /zh-hans/ addresses.
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def mei(django_user_model):
    user = django_user_model.objects.create_user(
        username="mei", password=PASSWORD, first_name="Mei", last_name="Lin"
    )
    user.groups.add(Group.objects.get(name="sales"))
    return user


def _sign_in(client, path="/accounts/login/", next_url=None, **extra):
    data = {"username": "mei", "password": PASSWORD}
    if next_url is not None:
        data["next"] = next_url
    return client.post(path, data, **extra)


# -- sign-in and sign-out ----------------------------------------------------------------------


def test_the_sign_in_page_is_our_own_and_speaks_both_languages(client):
    text = client.get("/accounts/login/").content.decode()
    assert '<h1 id="sign-in-heading">Sign in</h1>' in text
    assert 'autocomplete="current-password"' in text
    assert '<label for="id_username">Username</label>' in text
    zh = client.get("/zh-hans/accounts/login/").content.decode()
    assert 'lang="zh-hans"' in zh
    assert "登录" in zh


def test_signing_in_leads_to_the_page_asked_for(client, mei):
    response = _sign_in(client, next_url="/customers/?region=x")
    assert response.status_code == 302
    assert response["Location"] == "/customers/?region=x"
    assert client.get("/customers/").status_code == 200


def test_signing_in_without_a_next_page_leads_home(client, mei):
    assert _sign_in(client)["Location"] == "/"


def test_a_wrong_password_says_so_and_signs_no_one_in(client, mei):
    response = client.post("/accounts/login/", {"username": "mei", "password": "nope"})
    assert response.status_code == 200
    text = response.content.decode()
    assert 'role="alert"' in text
    assert "Please enter a correct username and password" in text
    assert client.get("/").status_code == 302


def test_the_sign_in_page_does_not_redirect_to_another_site(client, mei):
    response = _sign_in(client, next_url="https://evil.example.com/")
    assert response["Location"] == "/"


def test_signing_out_needs_a_post_and_ends_the_session(client, mei):
    client.force_login(mei)
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/", follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/login/"
    assert "You have signed out." in response.content.decode()
    assert client.get("/").status_code == 302


def test_pages_send_an_anonymous_visitor_to_the_sign_in_page_in_their_language(client):
    response = client.get("/zh-hans/customers/")
    assert response["Location"] == "/zh-hans/accounts/login/?next=/zh-hans/customers/"


# -- the layout --------------------------------------------------------------------------------


def test_the_layout_has_navigation_the_users_name_and_sign_out(client, mei):
    client.force_login(mei)
    text = client.get(reverse("parties:customer_list")).content.decode()
    assert 'class="skip-link" href="#main"' in text
    assert '<main id="main"' in text
    assert "Mei Lin" in text
    assert 'action="/accounts/logout/" method="post"' in text
    # The current section is marked for screen readers and styles alike.
    assert 'href="/customers/" aria-current="page">Customers</a>' in text
    assert 'href="/">Dashboard</a>' in text
    # On a phone the same links sit in a menu that opens without JavaScript.
    assert '<details class="nav-narrow">' in text
    assert "Administration" not in text  # not staff


def test_the_layout_shows_messages(client, mei):
    client.force_login(mei)
    client.post("/accounts/logout/")
    text = client.get("/accounts/login/").content.decode()
    assert '<ul class="messages" role="status">' in text


# -- the language, remembered per user ---------------------------------------------------------


def test_switching_language_remembers_it_and_stays_on_the_page(client, mei):
    client.force_login(mei)
    assert not StaffProfile.objects.filter(user=mei).exists()
    response = client.post("/language/", {"language": "zh-hans", "next": "/customers/?page=2"})
    assert response.status_code == 302
    assert response["Location"] == "/zh-hans/customers/?page=2"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    assert StaffProfile.objects.get(user=mei).language == "zh-hans"

    # And back: a Chinese page's address resolves although English is the unprefixed default.
    response = client.post(
        "/zh-hans/language/", {"language": "en", "next": "/zh-hans/customers/?page=2"}
    )
    assert response["Location"] == "/customers/?page=2"
    assert StaffProfile.objects.get(user=mei).language == "en"


def test_switching_language_keeps_the_rest_of_the_profile(client, mei):
    from guanxi.core.models import Team

    team = Team.objects.create(name="East")
    StaffProfile.objects.create(user=mei, team=team, language="en")
    client.force_login(mei)
    client.post("/language/", {"language": "zh-hans", "next": "/"})
    profile = StaffProfile.objects.get(user=mei)
    assert (profile.language, profile.team) == ("zh-hans", team)


def test_an_anonymous_visitor_can_switch_without_a_profile(client):
    response = client.post("/language/", {"language": "zh-hans", "next": "/accounts/login/"})
    assert response["Location"] == "/zh-hans/accounts/login/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    assert not StaffProfile.objects.exists()


def test_an_unknown_language_is_refused_with_a_reason(client, mei):
    client.force_login(mei)
    response = client.post("/language/", {"language": "fr", "next": "/"})
    assert response.status_code == 400
    assert "Unknown language" in response.content.decode()
    assert not StaffProfile.objects.filter(user=mei).exists()
    assert client.get("/language/").status_code == 405


def test_signing_in_brings_back_the_stored_language(client, mei):
    StaffProfile.objects.create(user=mei, language="zh-hans")
    response = _sign_in(client, next_url="/customers/?region=x")
    assert response["Location"] == "/zh-hans/customers/?region=x"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    page = client.get(response["Location"]).content.decode()
    assert 'lang="zh-hans"' in page


def test_signing_in_on_a_chinese_page_with_english_stored_goes_to_english(client, mei):
    StaffProfile.objects.create(user=mei, language="en")
    response = _sign_in(client, path="/zh-hans/accounts/login/", next_url="/zh-hans/customers/")
    assert response["Location"] == "/customers/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"


def test_a_first_sign_in_keeps_and_stores_the_language_signed_in_with(client, mei):
    response = _sign_in(client, path="/zh-hans/accounts/login/")
    assert response["Location"] == "/zh-hans/"
    assert StaffProfile.objects.get(user=mei).language == "zh-hans"
