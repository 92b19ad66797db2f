"""Every form that changes something carries Django's CSRF token, and the check is on."""

import re
from pathlib import Path

import pytest
from django.conf import settings

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "guanxi" / "templates"
FORM = re.compile(r"<form\b[^>]*>(.*?)</form>", re.S | re.I)
POST = re.compile(r'method="post"', re.I)


def _post_forms():
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text()
        for match in FORM.finditer(text):
            if POST.search(match.group(0)[: match.group(0).find(">") + 1]):
                yield path.relative_to(TEMPLATES), match.group(0)


FORMS = list(_post_forms())


def test_there_are_post_forms_to_check():
    assert len(FORMS) >= 10


@pytest.mark.parametrize(
    ("template", "form"), FORMS, ids=[f"{t}#{i}" for i, (t, _f) in enumerate(FORMS)]
)
def test_every_post_form_has_a_csrf_token(template, form):
    assert "{% csrf_token %}" in form, f"{template}: a POST form without {{% csrf_token %}}"


def test_the_csrf_middleware_is_on():
    assert "django.middleware.csrf.CsrfViewMiddleware" in settings.MIDDLEWARE


@pytest.mark.django_db
def test_a_post_without_the_token_is_refused(company_user_client):
    response = company_user_client.post("/account/api-tokens/", {"name": "x", "scope": "read"})
    assert response.status_code == 403


@pytest.fixture
def company_user_client(django_user_model):
    from django.test import Client

    user = django_user_model.objects.create_user(username="mei", password="s3cret-pass-word")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client
