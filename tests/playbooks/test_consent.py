"""Offers go only to customers who agreed to marketing (``Customer.marketing_consent``)."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group

from guanxi.core.errors import ErrorCode, GuanxiError
from guanxi.core.models import Event
from guanxi.playbooks.models import PlaybookAction, Task
from guanxi.playbooks.services import playbooks_run, task_create
from tests.playbooks.factories import TODAY, customer_new, order_place, score_create

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)
CHURNED_A = {"lifecycle_stage": "churned", "abc_class": "A"}


def test_a_win_back_offer_goes_only_to_customers_who_agreed(run, owner):
    agreed = customer_new(owner=owner, marketing_consent=True)
    declined = customer_new(owner=owner, marketing_consent=False)
    score_create(run, agreed, **CHURNED_A)
    score_create(run, declined, **CHURNED_A)

    summary = playbooks_run(run=run, today=TODAY)

    assert list(Task.objects.values_list("customer", "purpose")) == [(agreed.pk, "offer")]
    counts = summary.by_code()["win-back-offer"]
    assert (counts.candidates, counts.created, counts.skipped_no_consent) == (2, 1, 1)
    event = Event.objects.get(kind="playbooks.ran")
    assert event.data["skipped_no_consent"] == 1
    assert event.data["playbooks"]["win-back-offer"]["skipped_no_consent"] == 1


def test_other_actions_of_the_same_playbook_still_reach_the_customer(run, owner):
    """Per purchase: the follow-up call is service, the offer is marketing."""
    action = PlaybookAction.objects.get(playbook__code="follow-up-after-purchase", position=1)
    PlaybookAction.objects.create(
        playbook=action.playbook,
        position=2,
        title_en="Offer a refill",
        reason_en="A customer who just bought may want more at a better price.",
        purpose="offer",
        due_offset_days=10,
    )
    declined = customer_new(owner=owner)
    score_create(run, declined, actual_level="accountable")
    order = order_place(declined, TODAY - 2 * DAY)
    agreed = customer_new(owner=owner, marketing_consent=True)
    score_create(run, agreed, actual_level="accountable")
    order_place(agreed, TODAY - 2 * DAY)

    summary = playbooks_run(run=run, today=TODAY)

    assert list(Task.objects.filter(customer=declined).values_list("purpose", "order")) == [
        ("follow_up", order.pk)
    ]
    assert sorted(Task.objects.filter(customer=agreed).values_list("purpose", flat=True)) == [
        "follow_up",
        "offer",
    ]
    assert summary.by_code()["follow-up-after-purchase"].skipped_no_consent == 1


def test_an_offer_task_by_hand_needs_consent(owner):
    declined = customer_new(owner=owner)
    with pytest.raises(GuanxiError) as refused:
        task_create(customer=declined, title="Send a coupon", due_on=TODAY, purpose="offer")
    assert (refused.value.code, refused.value.field) == (ErrorCode.NOT_ALLOWED, "purpose")
    assert not Task.objects.exists()
    # Service is not marketing: a follow-up call is fine without consent.
    task_create(
        customer=declined, title="Ask about the delivery", due_on=TODAY, purpose="follow_up"
    )

    agreed = customer_new(owner=owner, marketing_consent=True)
    task_create(customer=agreed, title="Send a coupon", due_on=TODAY, purpose="offer")
    assert Task.objects.filter(purpose="offer").count() == 1


def test_the_customer_page_says_why_an_offer_task_was_refused(client, owner):
    owner.groups.add(Group.objects.get(name="sales"))
    declined = customer_new(owner=owner)
    client.force_login(owner)
    response = client.post(
        f"/customers/{declined.pk}/tasks/",
        {
            "title": "Send a coupon",
            "due_on": TODAY.isoformat(),
            "purpose": "offer",
            "priority": "normal",
            "owner": owner.pk,
        },
        HTTP_HX_REQUEST="true",
    )
    assert "has not agreed to be contacted with offers" in response.content.decode()
    assert not Task.objects.exists()
