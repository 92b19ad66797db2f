import re
from decimal import Decimal

import pytest
from django.utils import translation

from guanxi.assessments.choices import DEFAULT_QUESTIONNAIRE_CODE, SCORES, Dimension
from guanxi.assessments.models import Questionnaire, QuestionnaireItem
from guanxi.assessments.selectors import active_questionnaire, questionnaire_items_by_dimension
from guanxi.assessments.services import (
    questionnaire_activate,
    questionnaire_bands_set,
    questionnaire_create,
    questionnaire_item_update,
    questionnaire_new_version,
    questionnaire_update,
)
from guanxi.core.errors import ErrorCode, GuanxiError
from guanxi.core.models import Event

from .conftest import AS_OF, uniform

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_the_default_questionnaire_ships_active_with_twelve_bilingual_items(questionnaire):
    assert questionnaire.is_active
    assert active_questionnaire(DEFAULT_QUESTIONNAIRE_CODE) == questionnaire
    assert CJK.search(questionnaire.title_zh) and not CJK.search(questionnaire.title_en)
    items = list(questionnaire.items.order_by("position"))
    assert len(items) == 12
    assert [i.position for i in items] == list(range(1, 13))
    for item in items:
        assert item.text_en.strip() and not CJK.search(item.text_en)
        assert CJK.search(item.text_zh)
        for score in SCORES:
            en, zh = getattr(item, f"anchor_{score}_en"), getattr(item, f"anchor_{score}_zh")
            assert en.strip() and not CJK.search(en), (item.position, score)
            assert CJK.search(zh), (item.position, score)
        # Five different descriptions, one per score.
        assert len({item.anchor(s, "en") for s in SCORES}) == 5
        assert len({item.anchor(s, "zh-hans") for s in SCORES}) == 5
    # Every dimension is covered, two items each.
    dims = [i.dimension for i in items]
    assert {d: dims.count(d) for d in Dimension.values} == dict.fromkeys(Dimension.values, 2)
    bands = list(questionnaire.bands.order_by("min_score").values_list("stage", "min_score"))
    assert bands == [
        ("basic", Decimal("1.00")),
        ("cooperative", Decimal("2.00")),
        ("interdependent", Decimal("3.00")),
        ("integrated", Decimal("4.00")),
    ]


def test_text_follows_the_active_language(questionnaire):
    item = questionnaire.items.get(position=1)
    with translation.override("zh-hans"):
        assert questionnaire.title == questionnaire.title_zh
        assert item.text == item.text_zh
        assert item.anchors[0] == (1, item.anchor_1_zh)
    with translation.override("en"):
        assert questionnaire.title == questionnaire.title_en
        assert item.text == item.text_en
        assert [s for s, _ in item.anchors] == [1, 2, 3, 4, 5]
        assert item.anchors[4][1] == item.anchor_5_en
    groups = questionnaire_items_by_dimension(questionnaire)
    assert len(groups) == 6 and all(len(items) == 2 for _, items in groups)


def test_a_new_version_copies_items_and_bands_and_starts_inactive(questionnaire, user):
    copy = questionnaire_new_version(questionnaire, actor=user)
    assert (copy.code, copy.version, copy.is_active) == (questionnaire.code, 2, False)
    fields = QuestionnaireItem.CONTENT_FIELDS
    assert list(copy.items.order_by("position").values_list(*fields)) == list(
        questionnaire.items.order_by("position").values_list(*fields)
    )
    assert list(
        copy.bands.order_by("min_score").values_list("stage", "min_score", "max_score")
    ) == (
        list(
            questionnaire.bands.order_by("min_score").values_list("stage", "min_score", "max_score")
        )
    )
    assert not set(copy.items.values_list("pk", flat=True)) & set(
        questionnaire.items.values_list("pk", flat=True)
    )
    assert Event.objects.filter(kind="questionnaire.versioned", actor=user).count() == 1
    assert questionnaire_new_version(questionnaire).version == 3


def test_old_assessments_keep_their_version_and_a_locked_version_is_not_edited(
    questionnaire, customer, record
):
    old = record(customer, "sales_manager", 3)
    questionnaire.refresh_from_db()
    assert questionnaire.is_locked
    with pytest.raises(GuanxiError) as err:
        questionnaire_update(questionnaire=questionnaire, title_en="Changed")
    assert err.value.code == ErrorCode.CONFLICT and "new version" in err.value.message
    with pytest.raises(GuanxiError):
        questionnaire_item_update(item=questionnaire.items.first(), text_en="Changed")
    with pytest.raises(GuanxiError):
        questionnaire_bands_set(questionnaire=questionnaire, bands=[("basic", 1, 5)])

    v2 = questionnaire_new_version(questionnaire)
    questionnaire_item_update(item=v2.items.get(position=1), text_en="A reworded question?")
    v2 = questionnaire_activate(questionnaire=v2)
    questionnaire.refresh_from_db()
    assert v2.is_active and not questionnaire.is_active
    assert questionnaire.items.get(position=1).text_en != "A reworded question?"

    new = record(customer, "sales_manager", 4, q=v2)
    old.refresh_from_db()
    assert old.questionnaire_id == questionnaire.pk
    assert {a.item.questionnaire_id for a in old.answers.select_related("item")} == {
        questionnaire.pk
    }
    assert new.questionnaire_id == v2.pk

    # The old version is no longer active: new answers go on v2.
    with pytest.raises(GuanxiError) as err:
        record(customer, "sales_manager", 3, on=AS_OF)
    assert err.value.field == "questionnaire" and "v2" in err.value.message


def test_an_unlocked_version_can_be_edited_and_its_bands_are_checked(questionnaire):
    draft = questionnaire_new_version(questionnaire)
    draft = questionnaire_update(questionnaire=draft, title_en="Partnership stage (revised)")
    assert draft.title_en == "Partnership stage (revised)"
    bands = questionnaire_bands_set(
        questionnaire=draft,
        bands=[("basic", 1, "2.5"), ("cooperative", "2.5", "3.5"), ("integrated", "3.5", 5)],
    )
    assert [b.stage for b in bands] == ["basic", "cooperative", "integrated"]
    with pytest.raises(GuanxiError) as err:
        questionnaire_bands_set(questionnaire=draft, bands=[("basic", 1, 2), ("integrated", 3, 5)])
    assert err.value.field == "bands" and "gap" in err.value.message
    assert draft.bands.count() == 3  # nothing changed


def test_questionnaire_create_and_activation_keep_one_active_version(questionnaire):
    items = [
        {
            "dimension": "trust",
            "text_en": "Do they trust us?",
            "text_zh": "他们信任我们吗?",
            **{f"anchor_{s}_en": f"level {s}" for s in SCORES},
            **{f"anchor_{s}_zh": f"第 {s} 级" for s in SCORES},
        }
    ]
    short = questionnaire_create(
        code=DEFAULT_QUESTIONNAIRE_CODE,
        title_en="Short",
        title_zh="简版",
        items=items,
        is_active=True,
    )
    assert short.version == 2 and short.is_active
    assert list(Questionnaire.objects.filter(is_active=True)) == [short]
    with pytest.raises(GuanxiError) as err:
        questionnaire_create(
            code="other", title_en="x", title_zh="x", items=[{**items[0], "text_zh": ""}]
        )
    assert err.value.field == "items" and "text_zh" in err.value.message
    assert uniform(short, 4) == {1: 4}
