"""The API's shared behaviour: tokens, authentication, scopes, the error shape, the schema."""

import io

import pytest
from django.core.management import call_command
from django.test import override_settings
from rest_framework.test import APIClient

from guanxi.core.models import ApiToken, Event
from guanxi.core.services import api_token_create, token_hash

pytestmark = pytest.mark.django_db

TOKENS = "/api/v1/tokens/"


def test_a_request_without_credentials_gets_401_with_the_error_shape():
    response = APIClient().get(TOKENS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "not_authenticated"


def test_an_unknown_or_revoked_token_is_refused_not_treated_as_anonymous(company):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer gx_deadbeef_nope")
    response = client.get(TOKENS)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"

    token, key = api_token_create(user=company.users["sales"], name="sync")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get(TOKENS).status_code == 200
    token.revoked_at = token.created_at
    token.save()
    assert client.get(TOKENS).status_code == 401


def test_only_the_hash_of_a_key_is_stored_and_use_is_recorded(company):
    token, key = api_token_create(user=company.users["sales"], name="sync", scope="read")
    stored = ApiToken.objects.get(pk=token.pk)
    assert key not in {stored.key_hash, stored.prefix, stored.name}
    assert stored.key_hash == token_hash(key)
    assert stored.last_used_at is None
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    client.get(TOKENS)
    stored.refresh_from_db()
    assert stored.last_used_at is not None


def test_a_user_creates_a_token_in_a_session_sees_the_key_once_and_revokes_it(company):
    client = APIClient()
    client.force_login(company.users["sales"])
    response = client.post(TOKENS, {"name": "ERP sync", "scope": "read_write"}, format="json")
    assert response.status_code == 201, response.json()
    key = response.json()["key"]
    assert key.startswith("gx_")
    token_id = response.json()["id"]

    listed = client.get(TOKENS).json()["results"]
    assert [t["name"] for t in listed] == ["ERP sync"]
    assert "key" not in listed[0]

    assert client.delete(f"{TOKENS}{token_id}/").status_code == 204
    assert client.get(f"{TOKENS}{token_id}/").json()["usable"] is False
    again = client.delete(f"{TOKENS}{token_id}/")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"

    kinds = list(Event.objects.filter(kind__startswith="api_token.").values_list("kind", "actor"))
    user_pk = company.users["sales"].pk
    assert sorted(kinds) == [("api_token.created", user_pk), ("api_token.revoked", user_pk)]

    bearer = APIClient()
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert bearer.get(TOKENS).status_code == 401


def test_a_token_cannot_mint_tokens_and_users_see_only_their_own(company, api_as):
    client = api_as(company.users["sales"])
    response = client.post(TOKENS, {"name": "more"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "session_required"

    api_token_create(user=company.users["other_sales"], name="wang's")
    names = {t["name"] for t in client.get(TOKENS).json()["results"]}
    assert names == {"test"}
    other = ApiToken.objects.get(name="wang's")
    assert client.delete(f"{TOKENS}{other.pk}/").status_code == 404
    assert ApiToken.objects.get(pk=other.pk).revoked_at is None


def test_a_read_token_may_not_write(company, api_as):
    client = api_as(company.users["sales"], scope="read")
    token = ApiToken.objects.get(user=company.users["sales"])
    response = client.delete(f"{TOKENS}{token.pk}/")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "token_read_only"


def test_a_user_without_a_role_is_refused(company, api_as):
    response = api_as(company.users["nobody"]).get(TOKENS)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_validation_errors_name_the_field(company):
    client = APIClient()
    client.force_login(company.users["sales"])
    response = client.post(TOKENS, {"name": "", "scope": "everything"}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) == {"name", "scope"}


@override_settings(API_TOKEN_RATE="3/minute")
def test_each_token_is_rate_limited(company, api_as):
    from django.core.cache import cache

    cache.clear()
    try:
        client = api_as(company.users["sales"])
        assert [client.get(TOKENS).status_code for _ in range(3)] == [200] * 3
        response = client.get(TOKENS)
        assert response.status_code == 429
        assert response.json()["error"]["code"] == "throttled"
        assert response.json()["error"]["retry_after"] > 0
        # Another token has its own allowance.
        assert api_as(company.users["admin"]).get(TOKENS).status_code == 200
    finally:
        cache.clear()


def test_the_schema_generates_without_warnings_and_validates():
    out = io.StringIO()
    call_command(
        "spectacular", "--fail-on-warn", "--validate", "--format", "openapi-json", stdout=out
    )
    assert '"/api/v1/tokens/"' in out.getvalue()
    assert '"tokenAuth"' in out.getvalue()


def test_the_schema_and_docs_pages_are_served_without_a_cdn(client, company):
    client.force_login(company.users["analyst"])
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower() and "https://" not in html


def test_the_token_command_prints_a_key_that_works(company):
    out = io.StringIO()
    call_command(
        "api_token", "create", "--user", "li", "--name", "cli", "--scope", "read", stdout=out
    )
    key = out.getvalue().strip()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get(TOKENS).status_code == 200


def test_an_unknown_api_url_answers_in_the_error_shape(company, api_as):
    response = api_as(company.users["admin"]).get("/api/v1/tokens/0.5/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "not_found"


def test_a_forged_cursor_is_refused_not_a_server_error(company, api_as):
    import base64

    cursor = base64.b64encode(b"p=abc").decode()
    response = api_as(company.users["admin"]).get(f"{TOKENS}?cursor={cursor}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
