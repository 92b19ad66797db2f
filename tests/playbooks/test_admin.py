import pytest
from django.urls import reverse

from guanxi.playbooks.models import Playbook, Task
from guanxi.playbooks.services import task_create
from tests.playbooks.factories import TODAY, customer_new

pytestmark = pytest.mark.django_db


def test_the_admin_pages_render(admin_client):
    c = customer_new()
    task = task_create(customer=c, title="Visit", due_on=TODAY, purpose="advice")
    playbook = Playbook.objects.get(code="win-back-offer")
    for url in [
        reverse("admin:playbooks_playbook_changelist"),
        reverse("admin:playbooks_playbook_change", args=[playbook.pk]),
        reverse("admin:playbooks_playbook_add"),
        reverse("admin:playbooks_task_changelist") + "?status__exact=open",
        reverse("admin:playbooks_task_change", args=[task.pk]),
    ]:
        assert admin_client.get(url).status_code == 200, url


def test_conditions_are_edited_as_check_boxes(admin_client):
    playbook = Playbook.objects.get(code="win-back-offer")
    action = playbook.actions.get()
    data = {
        "code": playbook.code,
        "is_active": "on",
        "name_en": playbook.name_en,
        "name_zh": playbook.name_zh,
        "description_en": playbook.description_en,
        "description_zh": playbook.description_zh,
        "trigger": "standing",
        "window_days": "7",
        "lifecycle_stages": ["churned", "decline"],
        "value_classes": ["A"],
        "actions-TOTAL_FORMS": "1",
        "actions-INITIAL_FORMS": "1",
        "actions-MIN_NUM_FORMS": "0",
        "actions-MAX_NUM_FORMS": "1000",
        "actions-0-id": str(action.pk),
        "actions-0-playbook": str(playbook.pk),
        "actions-0-position": "1",
        "actions-0-title_en": action.title_en,
        "actions-0-title_zh": action.title_zh,
        "actions-0-reason_en": action.reason_en,
        "actions-0-reason_zh": action.reason_zh,
        "actions-0-purpose": "offer",
        "actions-0-channel": "phone",
        "actions-0-due_offset_days": "10",
        "actions-0-cadence_days": "90",
        "actions-0-owner_rule": "account_owner",
    }
    url = reverse("admin:playbooks_playbook_change", args=[playbook.pk])
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    playbook.refresh_from_db()
    assert playbook.lifecycle_stages == ["churned", "decline"]
    assert playbook.value_classes == ["A"] and playbook.actual_levels == []
    assert playbook.actions.get().due_offset_days == 10


def test_admin_actions_go_through_the_services(admin_client):
    c = customer_new()
    first = task_create(customer=c, title="One", due_on=TODAY, purpose="advice")
    second = task_create(customer=c, title="Two", due_on=TODAY, purpose="advice")
    url = reverse("admin:playbooks_task_changelist")
    admin_client.post(url, {"action": "mark_done", "_selected_action": [first.pk]})
    admin_client.post(url, {"action": "cancel", "_selected_action": [second.pk]})
    assert dict(Task.objects.values_list("pk", "status")) == {
        first.pk: "done",
        second.pk: "cancelled",
    }
