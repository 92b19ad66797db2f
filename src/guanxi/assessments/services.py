"""Writes for questionnaires and stage assessments; each runs in a transaction and leaves an event.

A questionnaire version that has assessments is locked: its wording, items and bands are not edited
(``questionnaire_update`` and ``questionnaire_bands_set`` refuse); ``questionnaire_new_version``
copies it into a new, inactive version to edit and then ``questionnaire_activate``.
"""

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.assessments.banding import Band, band_stage, bands_validate
from guanxi.assessments.choices import (
    ASSESSABLE_CUSTOMER_TYPES,
    DEFAULT_BANDS,
    SCORE_MAX,
    SCORE_MIN,
    SCORES,
    Dimension,
    RaterRole,
)
from guanxi.assessments.models import (
    Assessment,
    AssessmentAnswer,
    Questionnaire,
    QuestionnaireItem,
    ScoreBand,
)
from guanxi.core.errors import ErrorCode, GuanxiError
from guanxi.core.services import event_record
from guanxi.parties.choices import CustomerType
from guanxi.parties.models import Customer

QUESTIONNAIRE_FIELDS = ("title_en", "title_zh", "description_en", "description_zh")
ITEM_FIELDS = tuple(f for f in QuestionnaireItem.CONTENT_FIELDS if f != "position")


def _item_label(item: QuestionnaireItem) -> str:
    return _("item %(position)s (“%(text)s”)") % {"position": item.position, "text": item.text}


def _locked_error(questionnaire: Questionnaire) -> GuanxiError:
    return GuanxiError(
        _(
            "Questionnaire %(q)s already has assessments, so it is not edited; make a new "
            "version and edit that."
        )
        % {"q": questionnaire},
        code=ErrorCode.CONFLICT,
        field="questionnaire",
    )


def _check_items(items: Sequence[Mapping[str, Any]]) -> None:
    if not items:
        raise GuanxiError(_("A questionnaire needs at least one item."), field="items")
    for number, item in enumerate(items, start=1):
        unknown = set(item) - set(ITEM_FIELDS)
        if unknown:
            raise TypeError(f"item {number} has unknown fields: {', '.join(sorted(unknown))}")
        if item.get("dimension") not in Dimension.values:
            raise GuanxiError(
                _("Item %(n)s has dimension %(value)s; use one of: %(allowed)s.")
                % {
                    "n": number,
                    "value": item.get("dimension") or "—",
                    "allowed": ", ".join(Dimension.values),
                },
                field="items",
            )
        missing = [f for f in ITEM_FIELDS if f != "dimension" and not str(item.get(f, "")).strip()]
        if missing:
            raise GuanxiError(
                _(
                    "Item %(n)s is missing %(fields)s; write the question and an anchor for each "
                    "score 1 to 5 in English and Chinese."
                )
                % {"n": number, "fields": ", ".join(missing)},
                field="items",
            )


@transaction.atomic
def questionnaire_create(
    *,
    code: str,
    title_en: str,
    title_zh: str,
    items: Sequence[Mapping[str, Any]],
    bands: Iterable[Any] = DEFAULT_BANDS,
    version: int | None = None,
    is_active: bool = False,
    actor: Any = None,
    **fields: Any,
) -> Questionnaire:
    """Create a questionnaire version with its items (in order) and score bands.

    Each item is a mapping of ``dimension``, ``text_en``, ``text_zh`` and ``anchor_<1..5>_<en|zh>``;
    bands are ``(stage, min_score, max_score)``. ``version`` defaults to one above the code's
    highest. With ``is_active`` the other versions of the code are deactivated.
    """
    unknown = set(fields) - set(QUESTIONNAIRE_FIELDS)
    if unknown:
        raise TypeError(f"questionnaire_create() got unknown fields: {', '.join(sorted(unknown))}")
    _check_items(items)
    checked = bands_validate(bands)
    if version is None:
        version = _next_version(code)
    questionnaire = Questionnaire(
        code=code, version=version, title_en=title_en, title_zh=title_zh, **fields
    )
    questionnaire.full_clean()
    questionnaire.save()
    QuestionnaireItem.objects.bulk_create(
        QuestionnaireItem(questionnaire=questionnaire, position=position, **item)
        for position, item in enumerate(items, start=1)
    )
    _bands_write(questionnaire, checked)
    event_record(
        kind="questionnaire.created",
        actor=actor,
        subject=questionnaire,
        data={"code": code, "version": version, "items": len(items)},
    )
    if is_active:
        questionnaire = questionnaire_activate(questionnaire=questionnaire, actor=actor)
    return questionnaire


def _next_version(code: str) -> int:
    highest = Questionnaire.objects.filter(code=code).aggregate(v=Max("version"))["v"]
    return (highest or 0) + 1


def _bands_write(questionnaire: Questionnaire, bands: Sequence[Band]) -> None:
    ScoreBand.objects.bulk_create(
        ScoreBand(
            questionnaire=questionnaire,
            stage=b.stage,
            min_score=b.min_score,
            max_score=b.max_score,
        )
        for b in bands
    )


@transaction.atomic
def questionnaire_new_version(questionnaire: Questionnaire, *, actor: Any = None) -> Questionnaire:
    """Copy a version, with its items and bands, into a new inactive version of the same code.

    The copy is numbered one above the code's highest version; edit it, then activate it.
    Assessments stay with the version they were answered on.
    """
    source = Questionnaire.objects.get(pk=questionnaire.pk)
    # Lock the code's versions so two copies made at once do not take the same number.
    list(Questionnaire.objects.select_for_update().filter(code=source.code).values_list("pk"))
    copy = Questionnaire(
        code=source.code,
        version=_next_version(source.code),
        is_active=False,
        **{f: getattr(source, f) for f in QUESTIONNAIRE_FIELDS},
    )
    copy.full_clean()
    copy.save()
    QuestionnaireItem.objects.bulk_create(
        QuestionnaireItem(
            questionnaire=copy, **{f: getattr(item, f) for f in QuestionnaireItem.CONTENT_FIELDS}
        )
        for item in source.items.order_by("position")
    )
    _bands_write(copy, [Band(b.stage, b.min_score, b.max_score) for b in source.bands.all()])
    event_record(
        kind="questionnaire.versioned",
        actor=actor,
        subject=copy,
        data={"code": copy.code, "from_version": source.version, "version": copy.version},
    )
    return copy


def questionnaire_check(questionnaire: Questionnaire) -> list[Band]:
    """Raise a ``GuanxiError`` unless the version can be answered: items complete, bands sound.

    Returns the bands sorted by score.
    """
    items = list(questionnaire.items.order_by("position"))
    _check_items([{f: getattr(i, f) for f in ITEM_FIELDS} for i in items])
    return bands_validate(questionnaire.bands.all())


@transaction.atomic
def questionnaire_activate(*, questionnaire: Questionnaire, actor: Any = None) -> Questionnaire:
    """Make this version the one new assessments are recorded on; other versions are deactivated."""
    questionnaire = Questionnaire.objects.select_for_update().get(pk=questionnaire.pk)
    questionnaire_check(questionnaire)
    previous = list(
        Questionnaire.objects.filter(code=questionnaire.code, is_active=True)
        .exclude(pk=questionnaire.pk)
        .values_list("version", flat=True)
    )
    if questionnaire.is_active and not previous:
        return questionnaire
    Questionnaire.objects.filter(code=questionnaire.code, is_active=True).exclude(
        pk=questionnaire.pk
    ).update(is_active=False, updated_at=timezone.now())
    questionnaire.is_active = True
    questionnaire.save(update_fields=["is_active", "updated_at"])
    event_record(
        kind="questionnaire.activated",
        actor=actor,
        subject=questionnaire,
        data={"code": questionnaire.code, "version": questionnaire.version, "replaced": previous},
    )
    return questionnaire


@transaction.atomic
def questionnaire_deactivate(*, questionnaire: Questionnaire, actor: Any = None) -> Questionnaire:
    """Stop recording assessments on this version (existing ones keep counting)."""
    updated = Questionnaire.objects.filter(pk=questionnaire.pk, is_active=True).update(
        is_active=False, updated_at=timezone.now()
    )
    questionnaire.refresh_from_db()
    if updated:
        event_record(
            kind="questionnaire.deactivated",
            actor=actor,
            subject=questionnaire,
            data={"code": questionnaire.code, "version": questionnaire.version},
        )
    return questionnaire


@transaction.atomic
def questionnaire_update(
    *, questionnaire: Questionnaire, actor: Any = None, **fields: Any
) -> Questionnaire:
    """Change a version's titles or descriptions; refused once it has assessments."""
    unknown = set(fields) - set(QUESTIONNAIRE_FIELDS)
    if unknown:
        raise TypeError(f"questionnaire_update() got unknown fields: {', '.join(sorted(unknown))}")
    questionnaire = Questionnaire.objects.select_for_update().get(pk=questionnaire.pk)
    if questionnaire.is_locked:
        raise _locked_error(questionnaire)
    changed = {f: v for f, v in fields.items() if getattr(questionnaire, f) != v}
    if not changed:
        return questionnaire
    for field, value in changed.items():
        setattr(questionnaire, field, value)
    questionnaire.full_clean()
    questionnaire.save()
    event_record(
        kind="questionnaire.updated",
        actor=actor,
        subject=questionnaire,
        data={"fields": sorted(changed)},
    )
    return questionnaire


@transaction.atomic
def questionnaire_item_update(
    *, item: QuestionnaireItem, actor: Any = None, **fields: Any
) -> QuestionnaireItem:
    """Change an item's dimension, question or anchors; refused once the version has assessments."""
    unknown = set(fields) - set(ITEM_FIELDS)
    if unknown:
        raise TypeError(
            f"questionnaire_item_update() got unknown fields: {', '.join(sorted(unknown))}"
        )
    item = QuestionnaireItem.objects.select_related("questionnaire").get(pk=item.pk)
    if item.questionnaire.is_locked:
        raise _locked_error(item.questionnaire)
    for field, value in fields.items():
        setattr(item, field, value)
    _check_items([{f: getattr(item, f) for f in ITEM_FIELDS}])
    item.full_clean()
    item.save()
    event_record(
        kind="questionnaire.item_updated",
        actor=actor,
        subject=item.questionnaire,
        data={"item": item.pk, "position": item.position, "fields": sorted(fields)},
    )
    return item


@transaction.atomic
def questionnaire_bands_set(
    *, questionnaire: Questionnaire, bands: Iterable[Any], actor: Any = None
) -> list[ScoreBand]:
    """Replace a version's bands (``(stage, min_score, max_score)`` each) after checking them."""
    questionnaire = Questionnaire.objects.select_for_update().get(pk=questionnaire.pk)
    if questionnaire.is_locked:
        raise _locked_error(questionnaire)
    checked = bands_validate(bands)
    questionnaire.bands.all().delete()
    _bands_write(questionnaire, checked)
    event_record(
        kind="questionnaire.bands_set",
        actor=actor,
        subject=questionnaire,
        data={"bands": [[b.stage, str(b.min_score), str(b.max_score)] for b in checked]},
    )
    return list(questionnaire.bands.order_by("min_score"))


def _resolve_answers(
    questionnaire: Questionnaire, items: list[QuestionnaireItem], answers: Mapping[Any, Any]
) -> dict[int, tuple[QuestionnaireItem, Any]]:
    """Map each answer to its item: keys are items, item ids, or item positions (1, 2, …).

    Integer keys are read as ids when they all are this version's item ids, otherwise as positions
    when they all are positions; a set that reads both ways differently is refused.
    """
    by_id = {i.pk: i for i in items}
    by_position = {i.position: i for i in items}
    resolved: dict[int, tuple[QuestionnaireItem, Any]] = {}

    def put(item: QuestionnaireItem, score: Any) -> None:
        if item.pk in resolved:
            raise GuanxiError(
                _("%(item)s is answered more than once; give each item one score.")
                % {"item": _item_label(item)},
                field="answers",
            )
        resolved[item.pk] = (item, score)

    numbers: dict[int, Any] = {}
    for key, score in answers.items():
        if isinstance(key, QuestionnaireItem):
            if key.pk not in by_id:
                raise GuanxiError(
                    _(
                        "Item %(key)s belongs to questionnaire %(other)s, not %(q)s; answer the "
                        "items of %(q)s."
                    )
                    % {"key": key.pk, "other": key.questionnaire_id, "q": questionnaire},
                    field="answers",
                )
            put(by_id[key.pk], score)
        elif isinstance(key, int) and not isinstance(key, bool):
            numbers[key] = score
        elif isinstance(key, str) and key.strip().isdigit():
            numbers[int(key)] = score
        else:
            raise GuanxiError(
                _("Answer key %(key)r is not an item, an item id or a position.") % {"key": key},
                field="answers",
            )
    if numbers:
        keys = set(numbers)
        as_ids, as_positions = keys <= set(by_id), keys <= set(by_position)
        if as_ids and as_positions and any(by_id[k].pk != by_position[k].pk for k in keys):
            raise GuanxiError(
                _(
                    "The answer keys of %(q)s read both as item ids and as positions; key the "
                    "answers by item instead."
                )
                % {"q": questionnaire},
                field="answers",
            )
        if not (as_ids or as_positions):
            strays = sorted(k for k in keys if k not in by_id and k not in by_position)
            if not strays:  # a mix of ids and positions
                strays = sorted(k for k in keys if k not in by_position)
            raise GuanxiError(
                _(
                    "Item %(keys)s is not in questionnaire %(q)s; key the answers by the item "
                    "ids of this version or by positions 1 to %(n)s."
                )
                % {"keys": ", ".join(map(str, strays)), "q": questionnaire, "n": len(items)},
                field="answers",
            )
        lookup = by_id if as_ids else by_position
        for key, score in numbers.items():
            put(lookup[key], score)
    return resolved


@transaction.atomic
def assessment_record(
    *,
    customer: Customer,
    questionnaire: Questionnaire,
    rater_role: str,
    answers: Mapping[Any, int],
    answered_on: dt.date,
    rater: Any = None,
    rater_name: str = "",
    notes: str = "",
    actor: Any = None,
) -> Assessment:
    """Record one rater's answers about one business or channel customer.

    ``answers`` maps each item (an item, its id, or its position 1, 2, …) to a score 1–5; every
    item of the questionnaire is answered exactly once. The mean score and the stage it falls in
    are computed and stored with the assessment.
    """
    questionnaire = Questionnaire.objects.get(pk=questionnaire.pk)
    if not questionnaire.is_active:
        active = Questionnaire.objects.filter(code=questionnaire.code, is_active=True).first()
        hint = (
            _("record it on the active version, %(active)s.") % {"active": active}
            if active
            else _("activate a version of “%(code)s” first.") % {"code": questionnaire.code}
        )
        raise GuanxiError(
            _("Questionnaire %(q)s is not active; %(hint)s") % {"q": questionnaire, "hint": hint},
            code=ErrorCode.NOT_ALLOWED,
            field="questionnaire",
        )
    if customer.customer_type not in ASSESSABLE_CUSTOMER_TYPES:
        raise GuanxiError(
            _(
                "%(customer)s is of type “%(type)s”; partnership stages are assessed for "
                "business and channel customers only."
            )
            % {"customer": customer, "type": CustomerType(customer.customer_type).label},
            code=ErrorCode.NOT_ALLOWED,
            field="customer",
        )
    if rater_role not in RaterRole.values:
        raise GuanxiError(
            _("Unknown rater role %(value)s; use one of: %(allowed)s.")
            % {"value": rater_role, "allowed": ", ".join(RaterRole.values)},
            field="rater_role",
        )
    if rater_role == RaterRole.CUSTOMER and rater is not None:
        raise GuanxiError(
            _(
                "The customer's own answers have no staff rater; leave the rater empty and put "
                "the name of the person at the customer in the rater name."
            ),
            field="rater",
        )
    if isinstance(answered_on, dt.datetime):
        if timezone.is_aware(answered_on):
            answered_on = timezone.localtime(answered_on)
        answered_on = answered_on.date()
    today = timezone.localdate()
    if answered_on > today:
        raise GuanxiError(
            _("The answer date %(date)s is in the future; use the date the rater answered.")
            % {"date": answered_on.isoformat()},
            field="answered_on",
        )

    items = list(questionnaire.items.order_by("position"))
    if not items:
        raise GuanxiError(
            _("Questionnaire %(q)s has no items; add items before recording assessments.")
            % {"q": questionnaire},
            field="questionnaire",
        )
    bands = bands_validate(questionnaire.bands.all())
    resolved = _resolve_answers(questionnaire, items, answers)
    missing = [i for i in items if i.pk not in resolved]
    if missing:
        raise GuanxiError(
            _("%(items)s has no answer; give every item a score from %(low)s to %(high)s.")
            % {
                "items": "; ".join(_item_label(i) for i in missing),
                "low": SCORE_MIN,
                "high": SCORE_MAX,
            },
            field="answers",
        )
    scores: list[tuple[QuestionnaireItem, int]] = []
    for item in items:
        score = resolved[item.pk][1]
        if isinstance(score, bool) or not isinstance(score, int) or score not in SCORES:
            raise GuanxiError(
                _("%(item)s is scored %(score)r; use a whole number from %(low)s to %(high)s.")
                % {"item": _item_label(item), "score": score, "low": SCORE_MIN, "high": SCORE_MAX},
                field="answers",
            )
        scores.append((item, score))

    mean = sum(s for _item, s in scores) / len(scores)
    stage = band_stage(mean, bands)
    assessment = Assessment(
        customer=customer,
        questionnaire=questionnaire,
        rater_role=rater_role,
        rater=rater,
        rater_name=rater_name,
        answered_on=answered_on,
        mean_score=mean,
        stage=stage,
        notes=notes,
    )
    assessment.full_clean()
    assessment.save()
    AssessmentAnswer.objects.bulk_create(
        AssessmentAnswer(assessment=assessment, item=item, score=score) for item, score in scores
    )
    event_record(
        kind="assessment.recorded",
        actor=actor,
        customer=customer,
        subject=assessment,
        data={
            "questionnaire": questionnaire.code,
            "version": questionnaire.version,
            "rater_role": rater_role,
            "mean_score": round(mean, 4),
            "stage": stage,
        },
    )
    return assessment
