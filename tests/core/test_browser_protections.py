"""The Content Security Policy and the other protections every response carries, and templates
that keep to the policy (no inline scripts, no inline event handlers)."""

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

import guanxi
from guanxi.engagement.services import case_open
from tests.playbooks.factories import customer_new, run_create, score_create

pytestmark = pytest.mark.django_db

PACKAGE = Path(guanxi.__file__).parent
TEMPLATES = sorted(PACKAGE.glob("**/templates/**/*.html"))
SCRIPTS = sorted((PACKAGE / "static" / "guanxi").glob("*.js"))

SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.I)
# An attribute like onclick= / onload= inside a tag (not text that happens to say "on").
INLINE_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)
JS_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", re.I)
# htmx attributes that run code from the page (hx-on, js: values) need 'unsafe-eval'.
HTMX_EVAL = re.compile(r"""\shx-on[:\-]|hx-vals\s*=\s*["']\s*js:""", re.I)


def _policy(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def _inline_script_problems(html: str) -> list[str]:
    problems = []
    for match in SCRIPT_TAG.finditer(html):
        attributes = match.group(1)
        data_only = re.search(r"""type\s*=\s*["']application/(ld\+)?json["']""", attributes)
        if "src=" not in attributes and not data_only:
            problems.append(f"inline <script{attributes}>")
    problems += [f"inline handler: {m.group(0)[-60:]}" for m in INLINE_HANDLER.finditer(html)]
    problems += [f"javascript: URL: {m.group(0)}" for m in JS_URL.finditer(html)]
    problems += [f"htmx eval: {m.group(0)}" for m in HTMX_EVAL.finditer(html)]
    return problems


# -- the policy --------------------------------------------------------------------------------


def test_the_policy_allows_scripts_only_from_our_own_files(settings):
    csp = settings.SECURE_CSP
    assert csp["script-src"] == ["'self'"]
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"] and csp["form-action"] == ["'self'"]
    assert "'unsafe-eval'" not in str(csp)
    assert "django.middleware.csp.ContentSecurityPolicyMiddleware" in settings.MIDDLEWARE


@pytest.fixture
def pages(admin_user, product):
    """Every kind of page, with data to show: customer, case, a scoring run with a score."""
    admin_user.groups.add(Group.objects.get(name="admin"))
    customer = customer_new(owner=admin_user, phone="13812345678")
    case = case_open(customer=customer, external_id="K-1", kind="complaint", subject="Late")
    run = run_create()
    score_create(run, customer, actual_level="proactive")
    return [
        "/",
        "/customers/",
        f"/customers/{customer.pk}/",
        "/tasks/",
        "/cases/",
        f"/cases/{case.pk}/",
        "/assessments/",
        f"/assessments/customers/{customer.pk}/",
        "/dashboard/migration/",
        "/dashboard/at-risk/",
        "/scoring/runs/",
        f"/scoring/runs/{run.pk}/",
        "/imports/",
        "/admin/",
        "/admin/parties/customer/",
        f"/admin/parties/customer/{customer.pk}/change/",
        "/admin/playbooks/playbook/add/",
        "/zh-hans/customers/",
    ]


def test_every_page_carries_the_policy_and_has_no_inline_script(client, admin_user, pages):
    client.force_login(admin_user)
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        policy = _policy(response["Content-Security-Policy"])
        assert policy["script-src"] == ["'self'"], path
        assert policy["frame-ancestors"] == ["'none'"], path
        assert response["X-Frame-Options"] == "DENY", path
        assert response["X-Content-Type-Options"] == "nosniff", path
        assert response["Referrer-Policy"] == "same-origin", path
        assert _inline_script_problems(response.content.decode()) == [], path


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/", "/healthz", "/nowhere/"])
def test_anonymous_pages_errors_and_json_carry_the_policy_too(client, path):
    response = client.get(path)
    assert "default-src 'self'" in response["Content-Security-Policy"]
    if response["Content-Type"].startswith("text/html"):
        assert _inline_script_problems(response.content.decode()) == []


def test_the_session_and_csrf_cookies_are_not_readable_by_scripts(client, admin_user):
    response = client.get("/accounts/login/")
    assert response.cookies["csrftoken"]["httponly"]
    response = client.post("/accounts/login/", {"username": "admin", "password": "password"})
    assert response.status_code == 302
    assert response.cookies["sessionid"]["httponly"]


# -- the templates -----------------------------------------------------------------------------


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_templates_have_no_inline_scripts_or_handlers(template):
    """Page scripts are static files; data goes to them with json_script."""
    assert _inline_script_problems(template.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_our_scripts_do_not_evaluate_strings(script):
    text = script.read_text(encoding="utf-8")
    assert not re.search(r"\beval\s*\(|new\s+Function\s*\(|setTimeout\s*\(\s*[\"']", text)


def test_the_scanner_finds_what_the_policy_blocks():
    assert _inline_script_problems("<script>alert(1)</script>")
    assert _inline_script_problems('<button onclick="go()">')
    assert _inline_script_problems('<a href="javascript:go()">')
    assert _inline_script_problems('<div hx-on:click="go()">')
    assert not _inline_script_problems('<script src="/static/x.js" defer></script>')
    assert not _inline_script_problems('<script id="d" type="application/json">{}</script>')
    assert not _inline_script_problems("<p>Carry on=true</p>")
