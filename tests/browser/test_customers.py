"""In a real browser: sign in, filter the customer list through htmx, use it at phone width,
switch the interface to Chinese."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from guanxi.core.models import StaffProfile
from guanxi.parties.models import Customer
from tests.playbooks.factories import run_create, score_create

pytestmark = pytest.mark.browser


@pytest.fixture
def mei(staff_user):
    """Mei, an admin, and 60 customers (two pages): every fifth a business, the rest consumers;
    a scoring run places them on levels."""
    admin = staff_user("mei", "admin", first_name="Mei", last_name="Lin")
    made = Customer.objects.bulk_create(
        Customer(
            external_id=f"B-{i:02}",
            name=f"{'Firm' if i % 5 == 0 else 'Person'} {i:02}",
            customer_type="business" if i % 5 == 0 else "consumer",
            region="华东" if i % 2 else "华南",
        )
        for i in range(60)
    )
    run = run_create(as_of=dt.date(2026, 6, 30))
    for i, customer in enumerate(made):
        score_create(
            run,
            customer,
            actual_level="partnership" if i % 5 == 0 else "basic",
            clv_cents=10_000 * i,
        )
    return admin


def _rows(page):
    return page.locator("#customer-results tbody tr")


def test_sign_in_then_filter_search_and_sort_customers_without_reloading(page, sign_in, mei):
    sign_in(mei, next="/customers/")
    expect(page).to_have_url(re.compile(r"/customers/$"))
    expect(page.get_by_role("heading", name="Customers", level=1)).to_be_visible()
    expect(_rows(page)).to_have_count(50)
    expect(page.locator("#results-summary")).to_contain_text("60 customers")

    # Marks this document: it survives partial swaps and disappears on a full page load.
    page.evaluate("window.sameDocument = true")

    page.get_by_label("Customer type").select_option("business")
    expect(_rows(page)).to_have_count(12)
    expect(page.locator("#results-summary")).to_contain_text("12 customers")
    expect(page).to_have_url(re.compile(r"customer_type=business"))

    page.get_by_label("Search").fill("Firm 1")
    expect(_rows(page)).to_have_count(2)  # Firm 10 and Firm 15
    expect(page).to_have_url(re.compile(r"q=Firm"))

    page.get_by_role("link", name="CLV").click()  # highest first
    expect(page.locator("#customer-results tbody tr").first).to_contain_text("Firm 15")
    expect(page.locator('th[aria-sort="descending"]')).to_contain_text("CLV")
    assert page.evaluate("window.sameDocument === true"), "the page reloaded instead of swapping"

    # The sort chosen from the table stays when a filter changes.
    page.get_by_label("Search").fill("")
    expect(_rows(page)).to_have_count(12)
    expect(page.locator("#customer-results tbody tr").first).to_contain_text("Firm 55")

    # The address bar holds the list: reloading it shows the same customers.
    page.reload()
    expect(_rows(page)).to_have_count(12)
    expect(page.get_by_label("Customer type")).to_have_value("business")


def test_the_next_page_loads_in_place(page, sign_in, mei):
    sign_in(mei, next="/customers/")
    page.evaluate("window.sameDocument = true")
    page.get_by_role("navigation", name="Pages").get_by_role("link", name="Next").click()
    expect(_rows(page)).to_have_count(10)
    expect(page).to_have_url(re.compile(r"page=2"))
    assert page.evaluate("window.sameDocument === true")


def test_the_filters_work_with_javascript_off(chromium, live_server, mei):
    context = chromium.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/accounts/login/?next=/customers/")
        page.get_by_label("Username").fill("mei")
        page.get_by_label("Password").fill("browser-pass-word")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_label("Customer type").select_option("business")
        page.get_by_role("button", name="Apply filters").click()
        expect(page).to_have_url(re.compile(r"customer_type=business"))
        expect(_rows(page)).to_have_count(12)
    finally:
        context.close()


class TestAtPhoneWidth:
    @pytest.fixture
    def browser_context_args(self):
        return {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}

    def test_the_menu_opens_without_scripts_and_nothing_overflows(self, page, sign_in, mei):
        sign_in(mei, next="/")
        wide_nav = page.locator("nav.nav-wide")
        expect(wide_nav).to_be_hidden()
        page.get_by_text("Menu", exact=True).click()
        page.locator("details.nav-narrow").get_by_role("link", name="Customers").click()
        expect(page).to_have_url(re.compile(r"/customers/"))
        expect(_rows(page)).to_have_count(50)
        # The table scrolls inside its box; the page itself does not scroll sideways.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page is {width}px wide at a 390px viewport"


def test_keyboard_users_can_skip_to_the_content(page, sign_in, mei):
    sign_in(mei, next="/customers/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()


def test_switching_to_chinese_translates_the_interface_and_is_remembered(page, sign_in, mei):
    # The Chinese strings are those of the zh_Hans catalogue (总览 is "Dashboard").
    sign_in(mei, next="/customers/")
    page.get_by_label("Language").select_option("zh-hans")
    page.get_by_role("button", name="Switch").click()
    expect(page).to_have_url(re.compile(r"/zh-hans/customers/$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    nav = page.get_by_role("navigation", name="主导航")
    expect(nav.get_by_role("link", name="客户")).to_have_attribute("aria-current", "page")
    expect(nav.get_by_role("link", name="总览")).to_be_visible()
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()
    expect(page.get_by_role("heading", name="客户", level=1)).to_be_visible()
    assert StaffProfile.objects.get(user=mei).language == "zh-hans"

    # Signing out and in again comes back in Chinese.
    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(re.compile(r"/zh-hans/accounts/login/"))
    page.goto("/accounts/login/?next=/customers/")
    page.get_by_label("Username").fill("mei")
    page.get_by_label("Password").fill("browser-pass-word")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/zh-hans/customers/$"))
