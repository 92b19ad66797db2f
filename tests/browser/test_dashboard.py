"""In a real browser: the dashboard's charts render with no console error, its filters and the
migration measure update the page through htmx, and it works at a phone's width."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from guanxi.parties.models import Customer
from tests.playbooks.factories import run_create, score_create

pytestmark = pytest.mark.browser

LEVELS = ["basic", "reactive", "accountable", "proactive", "partnership"]
CHARTS = ["pyramid-figure", "funnel-figure", "pareto-figure", "histogram-figure"]


@pytest.fixture
def ada(staff_user):
    """Ada, an admin; 40 customers (every fourth a business) scored in two runs."""
    admin = staff_user("ada", "admin", first_name="Ada")
    customers = Customer.objects.bulk_create(
        Customer(
            external_id=f"D-{i:02}",
            name=f"{'Firm' if i % 4 == 0 else 'Person'} {i:02}",
            customer_type="business" if i % 4 == 0 else "consumer",
        )
        for i in range(40)
    )
    earlier = run_create(as_of=dt.date(2026, 3, 31))
    latest = run_create(as_of=dt.date(2026, 6, 30))
    for i, customer in enumerate(customers):
        for run, shift in ((earlier, 1), (latest, 0)):
            actual, recommended = LEVELS[(i + shift) % 5], LEVELS[i % 3]
            a, r = LEVELS.index(actual), LEVELS.index(recommended)
            score_create(
                run,
                customer,
                actual_level=actual,
                recommended_level=recommended,
                level_gap="under_served" if r > a else "over_served" if r < a else "on_target",
                abc_class="ABC"[i % 3],
                lifecycle_stage=["formation", "stability", "decline", "churned"][i % 4],
                segment=f"{customer.customer_type}/{'ABC'[i % 3]}",
                profit_cents=(40 - i) * 10_000,
                clv_cents=float(i * 5_000),
            )
    return admin


def _charts_drawn(page, ids=CHARTS):
    for figure in ids:
        expect(page.locator(f'.chart[data-figure="{figure}"] .main-svg').first).to_be_attached()


def test_the_dashboard_draws_its_charts_and_filters_without_reloading(page, sign_in, ada):
    sign_in(ada, next="/")
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    _charts_drawn(page)
    kpi = page.locator("#dashboard-panels .counts dd").first
    expect(kpi).to_have_text("40")
    # The migration panel loads after the page, with its Sankey diagram.
    _charts_drawn(page, ["sankey-figure"])

    page.evaluate("window.sameDocument = true")
    page.get_by_label("Customer type").focus()
    page.get_by_label("Customer type").select_option("business")
    expect(kpi).to_have_text("10")
    expect(page).to_have_url(re.compile(r"customer_type=business"))
    _charts_drawn(page)
    # htmx swapped the form too, and kept the focus on the control that had it.
    expect(page.get_by_label("Customer type")).to_be_focused()

    page.get_by_label("Measure").select_option("lifecycle_stage")
    expect(page.locator("#migration-panel caption")).to_contain_text("lifecycle stage")
    _charts_drawn(page, ["sankey-figure"])
    assert page.evaluate("window.sameDocument") is True
    assert page.console_errors == []


@pytest.mark.parametrize("browser_context_args", [{"viewport": {"width": 390, "height": 844}}])
def test_the_dashboard_fits_a_phone(page, sign_in, ada, browser_context_args):
    sign_in(ada, next="/")
    _charts_drawn(page)
    # Nothing is wider than the screen but the tables, which scroll inside their box.
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    assert page.console_errors == []
