"""Browser tests: Playwright's Python API driving Debian's chromium against pytest-django's
``live_server``.

Every test here is marked ``browser``. A page fails its test on any console error or uncaught
exception (a missing static file, a broken chart script), and its last state is saved as
``var/test-artifacts/<test>.png`` (git-ignored) for a person to look at.

The live server answers from another thread, so these tests use transactional database access:
their tables are emptied afterwards. What the data migrations wrote (role groups, the default
questionnaire and playbooks) is written again before each test by the migrations' own functions.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(settings.BASE_DIR) / "var" / "test-artifacts"
PASSWORD = "browser-pass-word"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Chromium for one test module; closed after it, so no event loop outlives the module."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} is missing: install Debian's chromium package to run browser tests"
        )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread while it is open; Django's
    # ORM, which the tests use to set up data, refuses to run next to one unless told it is safe
    # (it is: the loop only drives the browser). Only for as long as Playwright runs.
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        if before is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


# The data migrations' functions, in dependency order; each skips what already exists.
_DATA_MIGRATIONS = (
    ("guanxi.core.migrations.0002_roles", "create_roles"),
    ("guanxi.assessments.migrations.0002_default_questionnaire", "add_default_questionnaire"),
    ("guanxi.playbooks.migrations.0002_default_playbooks", "create_defaults"),
)


@pytest.fixture(autouse=True)
def _migration_data(transactional_db: None) -> None:
    """Each test starts with what a fresh install has: the rows the data migrations write."""
    from importlib import import_module

    from django.apps import apps

    for module, function in _DATA_MIGRATIONS:
        getattr(import_module(module), function)(apps, None)


@pytest.fixture(autouse=True)
def fast_hashing(settings: Any) -> None:
    # The default hasher takes most of a second per password; the live server shares settings.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def browser_context_args() -> dict[str, Any]:
    """Options of the browser context; override in a test module (e.g. a phone's viewport)."""
    return {"viewport": {"width": 1280, "height": 900}, "locale": "en-GB"}


@pytest.fixture
def page(
    chromium: Any, live_server: Any, browser_context_args: dict[str, Any], request: Any
) -> Iterator[Any]:
    """A fresh page whose relative URLs go to the live server; fails its test on console errors."""
    context = chromium.new_context(base_url=live_server.url, **browser_context_args)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console",
        lambda message: (
            errors.append(f"console {message.type}: {message.text} ({message.location})")
            if message.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    page.console_errors = errors
    yield page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", request.node.nodeid.split("::", 1)[-1])
    try:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    finally:
        context.close()
    if errors:
        pytest.fail("the page logged errors:\n" + "\n".join(errors), pytrace=False)


@pytest.fixture
def staff_user(django_user_model: Any) -> Callable[..., Any]:
    """``staff_user("mei", "admin")``: a user with a role and the password ``PASSWORD``."""
    from django.contrib.auth.models import Group

    def make(username: str, role: str, **fields: Any) -> Any:
        user = django_user_model.objects.create_user(username=username, password=PASSWORD, **fields)
        user.groups.add(Group.objects.get_or_create(name=role)[0])
        return user

    return make


@pytest.fixture
def sign_in(page: Any) -> Callable[..., None]:
    """``sign_in(user, next="/customers/")``: through the sign-in page, as a person would."""

    def go(user: Any, next: str = "/") -> None:
        page.goto(f"/accounts/login/?next={next}")
        page.get_by_label("Username").fill(user.get_username())
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r"^(?!.*/accounts/login/).*$"))

    return go
