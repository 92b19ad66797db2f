"""Partnership stage assessments (关系阶段评估): versioned bilingual questionnaires and the answers
each rater gives for one business or channel customer.

A questionnaire is content: its title, items with written anchors for scores 1–5 in English and
Simplified Chinese, and score bands that map a mean item score to a stage of the B2B pyramid. Once a
version has assessments it is locked; a change is made on a new version
(``services.questionnaire_new_version``), so every assessment keeps the wording it was answered on.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from guanxi.assessments.choices import SCORE_MAX, SCORE_MIN, SCORES, Dimension, RaterRole
from guanxi.core.models import TimeStampedModel
from guanxi.hierarchy.choices import PartnershipStage


def chinese_active() -> bool:
    """Whether the active language is Chinese (any ``zh…`` code)."""
    return (get_language() or "").lower().startswith("zh")


def _pick(en: str, zh: str) -> str:
    """The text in the active language; the other language when that one is empty."""
    if chinese_active():
        return zh or en
    return en or zh


class Questionnaire(TimeStampedModel):
    """One version of a questionnaire; at most one version of each code is active."""

    code = models.SlugField(
        _("code"),
        max_length=32,
        help_text=_("Stays the same across versions, e.g. “partnership”."),
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    title_en = models.CharField(_("title (English)"), max_length=200)
    title_zh = models.CharField(_("title (Chinese)"), max_length=200)
    description_en = models.TextField(_("description (English)"), blank=True)
    description_zh = models.TextField(_("description (Chinese)"), blank=True)
    is_active = models.BooleanField(
        _("active"),
        default=False,
        help_text=_("New assessments are recorded on the active version only."),
    )

    class Meta:
        verbose_name = _("questionnaire")
        verbose_name_plural = _("questionnaires")
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="questionnaire_code_version"),
            models.UniqueConstraint(
                fields=["code"], condition=Q(is_active=True), name="questionnaire_one_active"
            ),
            models.CheckConstraint(condition=~Q(code=""), name="questionnaire_code_not_blank"),
            models.CheckConstraint(condition=Q(version__gte=1), name="questionnaire_version_min"),
        ]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"

    @property
    def title(self) -> str:
        return _pick(self.title_en, self.title_zh)

    @property
    def description(self) -> str:
        return _pick(self.description_en, self.description_zh)

    @property
    def is_locked(self) -> bool:
        """A version that has assessments is not edited; make a new version instead."""
        return self.pk is not None and self.assessments.exists()


class QuestionnaireItem(models.Model):
    """One question with a written anchor for each score, 1 (basic) to 5 (integrated)."""

    questionnaire = models.ForeignKey(
        Questionnaire,
        on_delete=models.CASCADE,
        related_name="items",
        verbose_name=_("questionnaire"),
    )
    position = models.PositiveSmallIntegerField(_("position"))
    dimension = models.CharField(_("dimension"), max_length=16, choices=Dimension.choices)
    text_en = models.TextField(_("question (English)"))
    text_zh = models.TextField(_("question (Chinese)"))
    anchor_1_en = models.TextField(_("score 1 means (English)"))
    anchor_1_zh = models.TextField(_("score 1 means (Chinese)"))
    anchor_2_en = models.TextField(_("score 2 means (English)"))
    anchor_2_zh = models.TextField(_("score 2 means (Chinese)"))
    anchor_3_en = models.TextField(_("score 3 means (English)"))
    anchor_3_zh = models.TextField(_("score 3 means (Chinese)"))
    anchor_4_en = models.TextField(_("score 4 means (English)"))
    anchor_4_zh = models.TextField(_("score 4 means (Chinese)"))
    anchor_5_en = models.TextField(_("score 5 means (English)"))
    anchor_5_zh = models.TextField(_("score 5 means (Chinese)"))

    # The fields copied to a new version (everything but the key and the questionnaire).
    CONTENT_FIELDS = (
        "position",
        "dimension",
        "text_en",
        "text_zh",
        *(f"anchor_{s}_{lang}" for s in SCORES for lang in ("en", "zh")),
    )

    class Meta:
        verbose_name = _("questionnaire item")
        verbose_name_plural = _("questionnaire items")
        ordering = ["questionnaire_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["questionnaire", "position"], name="questionnaire_item_position"
            ),
            models.CheckConstraint(condition=Q(position__gte=1), name="questionnaire_item_pos_min"),
            models.CheckConstraint(
                condition=Q(dimension__in=Dimension.values), name="questionnaire_item_dimension"
            ),
            models.CheckConstraint(
                condition=~Q(text_en="") & ~Q(text_zh=""), name="questionnaire_item_text"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.text}"

    @property
    def text(self) -> str:
        return _pick(self.text_en, self.text_zh)

    @property
    def dimension_label(self) -> str:
        return str(Dimension(self.dimension).label) if self.dimension in Dimension.values else ""

    def anchor(self, score: int, language: str | None = None) -> str:
        """What ``score`` means for this item, in ``language`` ("en"/"zh…") or the active one."""
        if score not in SCORES:
            raise ValueError(f"score must be {SCORE_MIN}..{SCORE_MAX}, not {score!r}")
        en = getattr(self, f"anchor_{score}_en")
        zh = getattr(self, f"anchor_{score}_zh")
        if language is None:
            return _pick(en, zh)
        return (zh or en) if language.lower().startswith("zh") else (en or zh)

    @property
    def anchors(self) -> list[tuple[int, str]]:
        """``(score, meaning)`` for scores 1–5 in the active language."""
        return [(score, self.anchor(score)) for score in SCORES]


class ScoreBand(models.Model):
    """Mean item scores from ``min_score`` up to (not including) ``max_score`` mean ``stage``.

    The highest band includes 5. A questionnaire's bands cover 1–5 without gaps or overlaps
    (``banding.bands_validate``).
    """

    questionnaire = models.ForeignKey(
        Questionnaire,
        on_delete=models.CASCADE,
        related_name="bands",
        verbose_name=_("questionnaire"),
    )
    stage = models.CharField(_("stage"), max_length=16, choices=PartnershipStage.choices)
    min_score = models.DecimalField(_("from score"), max_digits=3, decimal_places=2)
    max_score = models.DecimalField(_("to score"), max_digits=3, decimal_places=2)

    class Meta:
        verbose_name = _("score band")
        verbose_name_plural = _("score bands")
        ordering = ["questionnaire_id", "min_score"]
        constraints = [
            models.UniqueConstraint(fields=["questionnaire", "stage"], name="score_band_stage"),
            models.CheckConstraint(
                condition=Q(stage__in=PartnershipStage.values), name="score_band_stage_known"
            ),
            models.CheckConstraint(
                condition=Q(min_score__gte=SCORE_MIN)
                & Q(max_score__lte=SCORE_MAX)
                & Q(min_score__lt=F("max_score")),
                name="score_band_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()}: {self.min_score}–{self.max_score}"


class Assessment(TimeStampedModel):
    """One rater's answers to one questionnaire version about one customer relationship.

    ``mean_score`` and ``stage`` are computed when the assessment is recorded
    (``services.assessment_record``) from the answers and the questionnaire's bands.
    """

    customer = models.ForeignKey(
        "parties.Customer",
        on_delete=models.CASCADE,
        related_name="assessments",
        verbose_name=_("customer"),
    )
    questionnaire = models.ForeignKey(
        Questionnaire,
        on_delete=models.PROTECT,
        related_name="assessments",
        verbose_name=_("questionnaire"),
    )
    rater_role = models.CharField(_("rater role"), max_length=16, choices=RaterRole.choices)
    rater = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assessments",
        verbose_name=_("rater"),
        help_text=_("The staff member who answered; empty for the customer's own answers."),
    )
    rater_name = models.CharField(
        _("rater name"),
        max_length=200,
        blank=True,
        help_text=_("Who answered, when it is not a user: the person at the customer."),
    )
    answered_on = models.DateField(_("answered on"))
    mean_score = models.FloatField(_("mean score"))
    stage = models.CharField(_("stage"), max_length=16, choices=PartnershipStage.choices)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("stage assessment")
        verbose_name_plural = _("stage assessments")
        ordering = ["-answered_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rater_role__in=RaterRole.values), name="assessment_rater_role_known"
            ),
            models.CheckConstraint(
                condition=Q(stage__in=PartnershipStage.values), name="assessment_stage_known"
            ),
            models.CheckConstraint(
                condition=Q(mean_score__gte=SCORE_MIN) & Q(mean_score__lte=SCORE_MAX),
                name="assessment_mean_score_range",
            ),
            models.CheckConstraint(
                condition=~Q(rater_role=RaterRole.CUSTOMER) | Q(rater__isnull=True),
                name="assessment_customer_has_no_staff_rater",
                violation_error_message=_(
                    "The customer's own answers have no staff rater; use the rater name."
                ),
            ),
        ]
        indexes = [
            models.Index(fields=["answered_on", "customer"], name="assessment_answered_customer"),
            models.Index(
                fields=["customer", "rater_role", "answered_on"], name="assessment_customer_role"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.get_rater_role_display()} {self.answered_on:%Y-%m-%d}"

    @property
    def rater_display(self) -> str:
        """Who answered: the rater's name, or the user."""
        if self.rater_name:
            return self.rater_name
        if self.rater is not None:
            return self.rater.get_full_name() or self.rater.get_username()
        return ""


class AssessmentAnswer(models.Model):
    """The score one rater gave one item."""

    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="answers", verbose_name=_("assessment")
    )
    item = models.ForeignKey(
        QuestionnaireItem,
        on_delete=models.PROTECT,
        related_name="answers",
        verbose_name=_("item"),
    )
    score = models.PositiveSmallIntegerField(_("score"))

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        ordering = ["assessment_id", "item__position"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "item"], name="assessment_answer_once"),
            models.CheckConstraint(
                condition=Q(score__gte=SCORE_MIN) & Q(score__lte=SCORE_MAX),
                name="assessment_answer_score_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.score}"

    @property
    def meaning(self) -> str:
        """The anchor of the chosen score, in the active language."""
        return self.item.anchor(self.score)
