"""Interactions (every contact), cases (feedback, complaints, questions) and survey answers."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import TimeStampedModel
from guanxi.engagement.choices import (
    OPEN_CASE_STATUSES,
    CaseKind,
    CaseStatus,
    Direction,
    InteractionChannel,
    Purpose,
    Satisfaction,
    ServicePhase,
    Severity,
)


class Interaction(TimeStampedModel):
    """Any contact between the company and a customer (接触记录).

    The interaction record is the evidence for the actual relationship level.
    """

    external_id = models.CharField(_("external id"), max_length=64, unique=True)
    customer = models.ForeignKey(
        "parties.Customer",
        on_delete=models.CASCADE,
        related_name="interactions",
        verbose_name=_("customer"),
    )
    contact = models.ForeignKey(
        "parties.Contact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="interactions",
        verbose_name=_("contact person"),
    )
    order = models.ForeignKey(
        "sales.Order",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="interactions",
        verbose_name=_("order"),
    )
    occurred_at = models.DateTimeField(_("when"))
    channel = models.CharField(_("channel"), max_length=16, choices=InteractionChannel.choices)
    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices)
    service_phase = models.CharField(
        _("service phase"), max_length=16, choices=ServicePhase.choices
    )
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="interactions",
        verbose_name=_("staff member"),
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(external_id=""), name="interaction_external_id_not_blank"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=InteractionChannel.values), name="interaction_channel_known"
            ),
            models.CheckConstraint(
                condition=Q(direction__in=Direction.values), name="interaction_direction_known"
            ),
            models.CheckConstraint(
                condition=Q(service_phase__in=ServicePhase.values), name="interaction_phase_known"
            ),
            models.CheckConstraint(
                condition=Q(purpose__in=Purpose.values), name="interaction_purpose_known"
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "occurred_at"], name="interaction_customer_time")
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.occurred_at:%Y-%m-%d}"


class CaseQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_CASE_STATUSES)


class Case(TimeStampedModel):
    """Something the customer raised that needs an answer: feedback, a complaint or a question."""

    external_id = models.CharField(_("external id"), max_length=64, unique=True)
    customer = models.ForeignKey(
        "parties.Customer",
        on_delete=models.CASCADE,
        related_name="cases",
        verbose_name=_("customer"),
    )
    contact = models.ForeignKey(
        "parties.Contact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("contact person"),
    )
    order = models.ForeignKey(
        "sales.Order",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("order"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=CaseKind.choices)
    category = models.CharField(_("category"), max_length=64, blank=True, db_index=True)
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    satisfaction = models.CharField(
        _("satisfaction"), max_length=16, choices=Satisfaction.choices, blank=True
    )
    severity = models.CharField(
        _("severity"), max_length=16, choices=Severity.choices, default=Severity.MEDIUM
    )
    status = models.CharField(
        _("status"), max_length=16, choices=CaseStatus.choices, default=CaseStatus.OPEN
    )
    opened_at = models.DateTimeField(_("opened at"))
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    due_at = models.DateTimeField(_("due at"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_cases",
        verbose_name=_("owner"),
    )
    resolution = models.TextField(_("resolution"), blank=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["due_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(external_id=""), name="case_external_id_not_blank"),
            models.CheckConstraint(condition=Q(kind__in=CaseKind.values), name="case_kind_known"),
            models.CheckConstraint(
                condition=Q(status__in=CaseStatus.values), name="case_status_known"
            ),
            models.CheckConstraint(
                condition=Q(severity__in=Severity.values), name="case_severity_known"
            ),
            models.CheckConstraint(
                condition=Q(satisfaction__in=[*Satisfaction.values, ""]),
                name="case_satisfaction_known",
            ),
            models.CheckConstraint(
                condition=Q(due_at__gte=F("opened_at")), name="case_due_after_open"
            ),
            models.CheckConstraint(
                condition=Q(first_response_at__isnull=True)
                | Q(first_response_at__gte=F("opened_at")),
                name="case_response_after_open",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(resolved_at__gte=F("opened_at")),
                name="case_resolved_after_open",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=[CaseStatus.RESOLVED, CaseStatus.CLOSED])
                | Q(resolved_at__isnull=False),
                name="case_resolved_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status=CaseStatus.CLOSED) | Q(closed_at__isnull=False),
                name="case_closed_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_at"], name="case_status_due"),
            models.Index(fields=["customer", "opened_at"], name="case_customer_opened"),
        ]

    def __str__(self) -> str:
        return f"{self.external_id} {self.subject}"

    @property
    def resolved_in_time(self) -> bool | None:
        """Whether the case was resolved by its deadline; ``None`` while it is unresolved."""
        if self.resolved_at is None:
            return None
        return self.resolved_at <= self.due_at


class SurveyResponse(TimeStampedModel):
    """One survey answer: a CSAT score (1–5), an NPS score (0–10), or both."""

    customer = models.ForeignKey(
        "parties.Customer",
        on_delete=models.CASCADE,
        related_name="survey_responses",
        verbose_name=_("customer"),
    )
    case = models.ForeignKey(
        Case,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="survey_responses",
        verbose_name=_("case"),
    )
    answered_at = models.DateTimeField(_("answered at"))
    csat = models.PositiveSmallIntegerField(_("CSAT (1–5)"), null=True, blank=True)
    nps = models.PositiveSmallIntegerField(_("NPS (0–10)"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        ordering = ["-answered_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(csat__isnull=True) | Q(csat__gte=1, csat__lte=5),
                name="survey_csat_range",
            ),
            models.CheckConstraint(
                condition=Q(nps__isnull=True) | Q(nps__gte=0, nps__lte=10), name="survey_nps_range"
            ),
            models.CheckConstraint(
                condition=Q(csat__isnull=False) | Q(nps__isnull=False),
                name="survey_has_an_answer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.answered_at:%Y-%m-%d}"
