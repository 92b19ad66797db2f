"""Playbooks (营销策略): data-driven rules over a customer's standing, each with actions that become
dated tasks (任务) for an owner.

A playbook's conditions are lists of allowed values per measure of ``scoring.CustomerScore`` (an
empty list allows any value); its trigger says whether it fires on the customer's standing in a
scoring run or on each recent purchase. How playbooks run and how tasks complete is in
``guanxi.playbooks.services`` and ``docs/playbooks.md``.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import TimeStampedModel
from guanxi.engagement.choices import InteractionChannel, Purpose
from guanxi.hierarchy.choices import (
    FoundationHealth,
    LevelGap,
    PartnershipStage,
    RelationshipLevel,
)
from guanxi.parties.choices import CustomerType
from guanxi.playbooks.choices import OwnerRule, TaskPriority, TaskStatus, TriggerKind
from guanxi.scoring.choices import LifecycleStage, ValueClass

# The values each condition list may hold.
CONDITION_CHOICES: dict[str, type[models.TextChoices]] = {
    "actual_levels": RelationshipLevel,
    "partnership_stages": PartnershipStage,
    "lifecycle_stages": LifecycleStage,
    "value_classes": ValueClass,
    "level_gaps": LevelGap,
    "foundation_health": FoundationHealth,
    "customer_types": CustomerType,
}


def localized(en: str, zh: str) -> str:
    """The text in the active language, falling back to the other one when it is blank."""
    if (get_language() or settings.LANGUAGE_CODE).lower().startswith("zh"):
        return zh or en
    return en or zh


def _condition_field(verbose_name):
    return models.JSONField(
        verbose_name, default=list, blank=True, help_text=_("Allowed values; empty means any.")
    )


class Playbook(TimeStampedModel):
    """Actions prescribed for customers at a level, stage, lifecycle stage, class or gap."""

    code = models.SlugField(
        _("code"),
        max_length=50,
        unique=True,
        help_text=_("A stable identifier; tasks remember it in their reason key."),
    )
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200, blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    description_zh = models.TextField(_("description (Chinese)"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    trigger = models.CharField(
        _("trigger"), max_length=16, choices=TriggerKind.choices, default=TriggerKind.STANDING
    )
    window_days = models.PositiveIntegerField(
        _("purchase window (days)"),
        default=7,
        help_text=_("Per-purchase playbooks act on purchases placed within this many past days."),
    )
    actual_levels = _condition_field(_("actual levels"))
    partnership_stages = _condition_field(_("partnership stages"))
    lifecycle_stages = _condition_field(_("lifecycle stages"))
    value_classes = _condition_field(_("value classes"))
    level_gaps = _condition_field(_("level gaps"))
    foundation_health = _condition_field(_("foundation health"))
    customer_types = _condition_field(_("customer types"))

    class Meta:
        verbose_name = _("playbook")
        verbose_name_plural = _("playbooks")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=~Q(code=""), name="playbook_code_not_blank"),
            models.CheckConstraint(
                condition=Q(trigger__in=TriggerKind.values), name="playbook_trigger_known"
            ),
            models.CheckConstraint(
                condition=~Q(trigger=TriggerKind.PER_PURCHASE) | Q(window_days__gte=1),
                name="playbook_purchase_window_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return localized(self.name_en, self.name_zh)

    @property
    def description(self) -> str:
        return localized(self.description_en, self.description_zh)

    def conditions(self) -> dict[str, list[str]]:
        """The condition lists that restrict anything (empty lists allow any value)."""
        return {
            name: list(getattr(self, name)) for name in CONDITION_CHOICES if getattr(self, name)
        }

    def clean(self) -> None:
        super().clean()
        errors = {}
        for name, choices in CONDITION_CHOICES.items():
            values = getattr(self, name)
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                errors[name] = _("Give a list of values.")
                continue
            unknown = sorted(set(values) - set(choices.values))
            if unknown:
                errors[name] = _("Unknown values: %(values)s. Known: %(known)s.") % {
                    "values": ", ".join(unknown),
                    "known": ", ".join(choices.values),
                }
            elif len(set(values)) != len(values):
                errors[name] = _("A value is listed twice.")
        if errors:
            raise ValidationError(errors)


class PlaybookAction(models.Model):
    """One thing a playbook prescribes: it becomes a task for each matching customer."""

    playbook = models.ForeignKey(
        Playbook, on_delete=models.CASCADE, related_name="actions", verbose_name=_("playbook")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=1)
    title_en = models.CharField(_("title (English)"), max_length=200)
    title_zh = models.CharField(_("title (Chinese)"), max_length=200, blank=True)
    reason_en = models.TextField(
        _("reason (English)"), help_text=_("Why the task matters, in words; shown on the task.")
    )
    reason_zh = models.TextField(_("reason (Chinese)"), blank=True)
    purpose = models.CharField(
        _("purpose"),
        max_length=16,
        choices=Purpose.choices,
        help_text=_("An interaction with this purpose completes the task."),
    )
    channel = models.CharField(
        _("suggested channel"), max_length=16, choices=InteractionChannel.choices, blank=True
    )
    due_offset_days = models.PositiveIntegerField(
        _("due in (days)"),
        default=7,
        help_text=_("Days after the run (or after the purchase, per purchase) the task is due."),
    )
    alert_due_offset_days = models.PositiveIntegerField(
        _("due in on a foundation alert (days)"),
        null=True,
        blank=True,
        help_text=_(
            "If set, a customer whose score carries a foundation alert gets the task at high "
            "priority, due this many days instead."
        ),
    )
    owner_rule = models.CharField(
        _("owner rule"), max_length=24, choices=OwnerRule.choices, default=OwnerRule.ACCOUNT_OWNER
    )
    fallback_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("fallback owner"),
        help_text=_("Gets the task when the customer has no account owner."),
    )
    cadence_days = models.PositiveIntegerField(
        _("cadence (days)"),
        null=True,
        blank=True,
        help_text=_(
            "Do not issue the task again while a matching interaction, or a task for the same "
            "reason done or cancelled, is younger than this (90 = quarterly)."
        ),
    )

    class Meta:
        verbose_name = _("playbook action")
        verbose_name_plural = _("playbook actions")
        ordering = ["playbook_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["playbook", "position"], name="playbook_action_unique_position"
            ),
            models.CheckConstraint(
                condition=Q(purpose__in=Purpose.values), name="playbook_action_purpose_known"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=[*InteractionChannel.values, ""]),
                name="playbook_action_channel_known",
            ),
            models.CheckConstraint(
                condition=Q(owner_rule__in=OwnerRule.values),
                name="playbook_action_owner_rule_known",
            ),
            models.CheckConstraint(
                condition=Q(cadence_days__isnull=True) | Q(cadence_days__gte=1),
                name="playbook_action_cadence_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.playbook_id}#{self.position} {self.title}"

    @property
    def title(self) -> str:
        return localized(self.title_en, self.title_zh)

    @property
    def reason(self) -> str:
        return localized(self.reason_en, self.reason_zh)

    def reason_key(self, order_id: int | None = None) -> str:
        """``<playbook code>:<position>``, plus ``:order:<id>`` for a per-purchase task."""
        key = f"{self.playbook.code}:{self.position}"
        return key if order_id is None else f"{key}:order:{order_id}"

    def clean(self) -> None:
        super().clean()
        if self.owner_rule == OwnerRule.OWNER_ELSE_FALLBACK and self.fallback_owner_id is None:
            raise ValidationError(
                {"fallback_owner": _("Choose the user who gets tasks of unowned customers.")}
            )


class TaskWording(models.Model):
    """The words of a playbook task, frozen: a title and a reason in both languages.

    Every task issued from the same wording of an action shares one row; rewording the action
    makes a new row at the next run, and the tasks already issued keep the old one.
    """

    action = models.ForeignKey(
        PlaybookAction,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="wordings",
        verbose_name=_("playbook action"),
    )
    title_en = models.CharField(_("title (English)"), max_length=200)
    title_zh = models.CharField(_("title (Chinese)"), max_length=200, blank=True)
    reason_en = models.TextField(_("reason (English)"))
    reason_zh = models.TextField(_("reason (Chinese)"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("task wording")
        verbose_name_plural = _("task wordings")
        ordering = ["action_id", "-id"]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        return localized(self.title_en, self.title_zh)

    @property
    def reason(self) -> str:
        return localized(self.reason_en, self.reason_zh)

    def matches(self, action: PlaybookAction) -> bool:
        """Whether the action still says exactly this."""
        return (self.title_en, self.title_zh, self.reason_en, self.reason_zh) == (
            action.title_en,
            action.title_zh,
            action.reason_en,
            action.reason_zh,
        )


class TaskQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status=TaskStatus.OPEN)


class Task(TimeStampedModel):
    """A dated action for an owner (任务), usually issued by a playbook.

    A playbook task's title and reason are its ``wording``, frozen when it was issued and shown in
    the active language: editing a playbook later does not rewrite the tasks it already issued. A
    task made by hand has its own ``custom_title`` and ``custom_reason``.
    ``reason_key`` names the reason (``<playbook code>:<position>[:order:<id>]``); a customer has
    at most one open task per reason key.
    """

    customer = models.ForeignKey(
        "parties.Customer",
        on_delete=models.CASCADE,
        related_name="tasks",
        verbose_name=_("customer"),
        db_index=False,  # task_customer_reason leads with it
    )
    wording = models.ForeignKey(
        TaskWording,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tasks",
        verbose_name=_("wording"),
        help_text=_("The title and reason of a playbook task, frozen when it was issued."),
    )
    custom_title = models.CharField(
        _("title"), max_length=200, blank=True, help_text=_("For a task made by hand.")
    )
    custom_reason = models.TextField(
        _("reason"), blank=True, help_text=_("For a task made by hand.")
    )
    reason_key = models.CharField(_("reason key"), max_length=120)
    purpose = models.CharField(
        _("purpose"),
        max_length=16,
        choices=Purpose.choices,
        help_text=_("An interaction with this purpose completes the task."),
    )
    channel = models.CharField(
        _("suggested channel"), max_length=16, choices=InteractionChannel.choices, blank=True
    )
    priority = models.CharField(
        _("priority"), max_length=8, choices=TaskPriority.choices, default=TaskPriority.NORMAL
    )
    due_on = models.DateField(_("due on"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tasks",
        verbose_name=_("owner"),
        db_index=False,  # task_owner_status_due leads with it
    )
    status = models.CharField(
        _("status"), max_length=16, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    action = models.ForeignKey(
        PlaybookAction,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tasks",
        verbose_name=_("playbook action"),
    )
    run = models.ForeignKey(
        "scoring.ScoringRun",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tasks",
        verbose_name=_("scoring run"),
    )
    order = models.ForeignKey(
        "sales.Order",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tasks",
        verbose_name=_("order"),
    )
    completes_from = models.DateTimeField(
        _("contacts count from"),
        default=timezone.now,
        help_text=_(
            "A matching interaction on or after this moment completes the task: when the task "
            "was issued, or when the order was placed for a task about an order."
        ),
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_by_interaction = models.ForeignKey(
        "engagement.Interaction",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="completed_tasks",
        verbose_name=_("completed by interaction"),
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["due_on", "id"]
        constraints = [
            # Never a second open task for the same customer and reason (a partial unique index).
            models.UniqueConstraint(
                fields=["customer", "reason_key"],
                condition=Q(status=TaskStatus.OPEN),
                name="task_one_open_per_reason",
            ),
            models.CheckConstraint(condition=~Q(reason_key=""), name="task_reason_key_not_blank"),
            models.CheckConstraint(
                condition=Q(wording__isnull=False) | ~Q(custom_title=""), name="task_has_a_title"
            ),
            models.CheckConstraint(
                condition=Q(status__in=TaskStatus.values), name="task_status_known"
            ),
            models.CheckConstraint(
                condition=Q(priority__in=TaskPriority.values), name="task_priority_known"
            ),
            models.CheckConstraint(
                condition=Q(purpose__in=Purpose.values), name="task_purpose_known"
            ),
            models.CheckConstraint(
                condition=Q(status=TaskStatus.DONE, completed_at__isnull=False)
                | (~Q(status=TaskStatus.DONE) & Q(completed_at__isnull=True)),
                name="task_done_has_time",
            ),
            models.CheckConstraint(
                condition=Q(status=TaskStatus.CANCELLED, cancelled_at__isnull=False)
                | (~Q(status=TaskStatus.CANCELLED) & Q(cancelled_at__isnull=True)),
                name="task_cancelled_has_time",
            ),
        ]
        indexes = [
            # The open-task and cadence look-ups of a playbook run (also on SQLite, whose planner
            # cannot use the partial unique index with a bound status parameter).
            models.Index(fields=["customer", "reason_key"], name="task_customer_reason"),
            models.Index(fields=["owner", "status", "due_on"], name="task_owner_status_due"),
            models.Index(fields=["status", "due_on"], name="task_status_due"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.due_on})"

    @property
    def title(self) -> str:
        """In the active language (select ``wording`` along with tasks you list)."""
        return self.wording.title if self.wording_id else self.custom_title

    @property
    def reason(self) -> str:
        return self.wording.reason if self.wording_id else self.custom_reason

    @property
    def is_open(self) -> bool:
        return self.status == TaskStatus.OPEN
