import pytest

from guanxi.assessments.choices import SCORES
from guanxi.assessments.models import Questionnaire
from guanxi.assessments.services import questionnaire_create

from .conftest import AS_OF

pytestmark = pytest.mark.django_db

ITEM = {
    "dimension": "trust",
    "text_en": "Do they trust us?",
    "text_zh": "他们信任我们吗?",
    **{f"anchor_{s}_en": f"level {s}" for s in SCORES},
    **{f"anchor_{s}_zh": f"第 {s} 级" for s in SCORES},
}


def _change_post(questionnaire, bands):
    item = questionnaire.items.get()
    data = {
        "code": questionnaire.code,
        "version": questionnaire.version,
        "title_en": questionnaire.title_en,
        "title_zh": questionnaire.title_zh,
        "description_en": "",
        "description_zh": "",
        "items-TOTAL_FORMS": "1",
        "items-INITIAL_FORMS": "1",
        "items-0-id": str(item.pk),
        "items-0-questionnaire": str(questionnaire.pk),
        "items-0-position": "1",
        **{f"items-0-{k}": v for k, v in ITEM.items()},
        "bands-TOTAL_FORMS": str(len(bands)),
        "bands-INITIAL_FORMS": "0",
    }
    for n, (stage, low, high) in enumerate(bands):
        data |= {
            f"bands-{n}-stage": stage,
            f"bands-{n}-min_score": low,
            f"bands-{n}-max_score": high,
            f"bands-{n}-questionnaire": str(questionnaire.pk),
        }
    return data


def test_the_admin_pages_show_questionnaires_and_assessments(
    admin_client, questionnaire, customer, record
):
    assert admin_client.get("/admin/assessments/questionnaire/").status_code == 200
    page = admin_client.get(f"/admin/assessments/questionnaire/{questionnaire.pk}/change/")
    assert page.status_code == 200
    assert questionnaire.items.get(position=1).anchor_5_zh in page.content.decode()

    assessment = record(customer, "sales_manager", (2, 3), on=AS_OF)
    assert admin_client.get("/admin/assessments/assessment/").status_code == 200
    page = admin_client.get(f"/admin/assessments/assessment/{assessment.pk}/change/")
    assert page.status_code == 200
    assert "2.50" in page.content.decode()
    assert admin_client.get("/admin/assessments/assessment/add/").status_code == 403

    # Locked now: the page still opens, read-only.
    page = admin_client.get(f"/admin/assessments/questionnaire/{questionnaire.pk}/change/")
    assert page.status_code == 200


def test_the_admin_actions_make_and_activate_a_new_version(admin_client, questionnaire):
    response = admin_client.post(
        "/admin/assessments/questionnaire/",
        {"action": "make_new_version", "_selected_action": [questionnaire.pk]},
    )
    assert response.status_code == 302
    v2 = Questionnaire.objects.get(code=questionnaire.code, version=2)
    assert v2.items.count() == 12 and not v2.is_active
    admin_client.post(
        "/admin/assessments/questionnaire/",
        {"action": "activate", "_selected_action": [v2.pk]},
    )
    v2.refresh_from_db()
    questionnaire.refresh_from_db()
    assert v2.is_active and not questionnaire.is_active


def test_the_admin_refuses_bands_with_a_gap(admin_client):
    draft = questionnaire_create(code="short", title_en="Short", title_zh="简版", items=[ITEM])
    url = f"/admin/assessments/questionnaire/{draft.pk}/change/"
    bad = _change_post(draft, [("basic", "1", "2"), ("integrated", "3", "5")])
    draft.bands.all().delete()
    response = admin_client.post(url, bad)
    assert response.status_code == 200
    assert "a gap" in response.content.decode()
    assert draft.bands.count() == 0

    good = _change_post(draft, [("basic", "1", "3"), ("integrated", "3", "5")])
    response = admin_client.post(url, good)
    assert response.status_code == 302
    assert list(draft.bands.values_list("stage", flat=True)) == ["basic", "integrated"]
