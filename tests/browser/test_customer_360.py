"""In a real browser: open a customer's 360 page from the list, log an interaction that completes
the open task, then rate a business relationship on the assessment form."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from guanxi.assessments.models import Assessment
from guanxi.parties.services import customer_create
from guanxi.playbooks.services import task_create

pytestmark = pytest.mark.browser


@pytest.fixture
def li(staff_user):
    return staff_user("li", "sales", first_name="Li", last_name="Wei")


@pytest.fixture
def acme(li):
    return customer_create(
        external_id="C-360", name="Acme Trading", customer_type="business", owner=li
    )


def test_open_the_360_and_log_an_interaction_that_completes_the_task(page, sign_in, li, acme):
    task = task_create(
        customer=acme,
        title="Call about the delivery",
        due_on=timezone.localdate(),
        purpose="follow_up",
        owner=li,
    )
    sign_in(li, next="/customers/")
    page.get_by_role("link", name="Acme Trading").click()
    expect(page).to_have_url(re.compile(rf"/customers/{acme.pk}/$"))
    expect(page.get_by_role("heading", name=re.compile("Acme Trading"), level=1)).to_be_visible()
    expect(page.locator("#open-tasks")).to_contain_text("Call about the delivery")

    # The task's own link opens the form with the task's purpose filled in.
    page.locator("#open-tasks").get_by_role("link", name="Log the interaction").click()
    form = page.locator("#qa-log")
    expect(form.get_by_label("Purpose")).to_have_value("follow_up")
    form.get_by_label("Channel").select_option("phone")
    form.get_by_label("Notes").fill("Delivery arrived; customer satisfied")
    form.get_by_role("button", name="Log the interaction").click()

    expect(page.locator("#qa-log")).to_contain_text("It completed 1 task")
    expect(page.locator("#open-tasks")).to_contain_text("No open tasks.")
    expect(page.locator("#timeline")).to_contain_text("Delivery arrived; customer satisfied")
    task.refresh_from_db()
    assert task.status == "done"


def test_rate_a_relationship_on_the_assessment_form(page, sign_in, li, acme):
    sign_in(li, next=f"/assessments/customers/{acme.pk}/")
    page.get_by_role("link", name="Rate this relationship").click()
    page.get_by_label("You answer as").select_option("sales_manager")
    # Every item: the anchor of score 3 (the interdependent stage).
    for group in page.locator("fieldset.item").all():
        group.locator('input[type="radio"][value="3"]').check()
    page.get_by_role("button", name="Record the assessment").click()
    expect(page.locator(".messages")).to_contain_text("mean score 3.00")
    expect(page.locator("#dimension-chart .main-svg").first).to_be_visible()
    assessment = Assessment.objects.get(customer=acme)
    assert (assessment.stage, assessment.answered_on) == ("interdependent", timezone.localdate())
