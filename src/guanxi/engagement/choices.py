from django.db import models
from django.utils.translation import gettext_lazy as _


class InteractionChannel(models.TextChoices):
    PHONE = "phone", _("phone")
    VISIT = "visit", _("visit")
    EMAIL = "email", _("email")
    CHAT = "chat", _("chat")
    HOTLINE = "hotline", _("hotline")
    FEEDBACK_CARD = "feedback_card", _("feedback card")
    WEB_FORM = "web_form", _("web form")
    MEETING = "meeting", _("meeting")


class Direction(models.TextChoices):
    INBOUND = "inbound", _("inbound")
    OUTBOUND = "outbound", _("outbound")


class ServicePhase(models.TextChoices):
    PRE_SALE = "pre_sale", _("pre-sale")
    IN_SALE = "in_sale", _("in-sale")
    AFTER_SALE = "after_sale", _("after-sale")


class Purpose(models.TextChoices):
    FOLLOW_UP = "follow_up", _("follow-up")
    ADVICE = "advice", _("advice")
    OFFER = "offer", _("offer")
    JOINT_WORK = "joint_work", _("joint work")
    COMPLAINT = "complaint", _("complaint")
    SURVEY = "survey", _("survey")
    OTHER = "other", _("other")


class CaseKind(models.TextChoices):
    FEEDBACK = "feedback", _("feedback")
    COMPLAINT = "complaint", _("complaint")
    QUESTION = "question", _("question")


class Satisfaction(models.TextChoices):
    DISSATISFIED = "dissatisfied", _("dissatisfied")
    SATISFIED = "satisfied", _("satisfied")
    VERY_SATISFIED = "very_satisfied", _("very satisfied")


class Severity(models.TextChoices):
    LOW = "low", _("low")
    MEDIUM = "medium", _("medium")
    HIGH = "high", _("high")
    CRITICAL = "critical", _("critical")


class CaseStatus(models.TextChoices):
    OPEN = "open", _("open")
    IN_PROGRESS = "in_progress", _("in progress")
    RESOLVED = "resolved", _("resolved")
    CLOSED = "closed", _("closed")


# Allowed status changes: open → in progress → resolved → closed, with a resolved case re-opened
# into progress when the customer says the answer did not help.
CASE_TRANSITIONS: dict[str, tuple[str, ...]] = {
    CaseStatus.OPEN: (CaseStatus.IN_PROGRESS, CaseStatus.RESOLVED),
    CaseStatus.IN_PROGRESS: (CaseStatus.RESOLVED,),
    CaseStatus.RESOLVED: (CaseStatus.CLOSED, CaseStatus.IN_PROGRESS),
    CaseStatus.CLOSED: (),
}
OPEN_CASE_STATUSES = (CaseStatus.OPEN, CaseStatus.IN_PROGRESS)
