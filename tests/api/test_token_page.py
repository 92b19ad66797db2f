"""The API tokens page: create (key shown once), list, revoke — only one's own tokens."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from guanxi.core.models import ApiToken, Event
from guanxi.core.services import api_token_create

pytestmark = pytest.mark.django_db


def test_a_user_creates_a_token_on_the_page_and_it_works_in_the_api(client, company):
    client.force_login(company.users["sales"])
    response = client.post(reverse("token_list"), {"name": "Sheet sync", "scope": "read"})
    assert response.status_code == 200
    key = response.context["key"]
    assert key in response.content.decode()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.get("/api/v1/tokens/").json()["results"][0]["name"] == "Sheet sync"
    # Shown once: the list page afterwards does not hold the key.
    assert key not in client.get(reverse("token_list")).content.decode()


def test_the_form_explains_what_is_wrong(client, company):
    client.force_login(company.users["sales"])
    response = client.post(reverse("token_list"), {"name": "", "scope": "root", "days": "0"})
    form = response.context["form"]
    assert set(form.errors) == {"name", "scope", "days"}
    assert ApiToken.objects.count() == 0


def test_revoking_is_audited_and_only_for_ones_own_tokens(client, company):
    mine, _key = api_token_create(user=company.users["sales"], name="mine")
    theirs, _key = api_token_create(user=company.users["other_sales"], name="theirs")
    client.force_login(company.users["sales"])
    assert client.post(reverse("token_revoke", args=[theirs.pk])).status_code == 404
    response = client.post(reverse("token_revoke", args=[mine.pk]), follow=True)
    assert "mine" in response.content.decode()
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None and theirs.revoked_at is None
    event = Event.objects.get(kind="api_token.revoked")
    assert event.actor == company.users["sales"]


def test_the_page_needs_a_signed_in_user(client):
    response = client.get(reverse("token_list"))
    assert response.status_code == 302
