from django.db import models
from django.utils.translation import gettext_lazy as _


class RunStatus(models.TextChoices):
    RUNNING = "running", _("running")
    SUCCEEDED = "succeeded", _("succeeded")
    FAILED = "failed", _("failed")


class LifecycleStage(models.TextChoices):
    PROSPECT = "prospect", _("prospect")
    EXPLORATION = "exploration", _("exploration")
    FORMATION = "formation", _("formation")
    STABILITY = "stability", _("stability")
    DECLINE = "decline", _("decline")
    CHURNED = "churned", _("churned")


class ValueClass(models.TextChoices):
    A = "A", _("A special")
    B = "B", _("B key")
    C = "C", _("C general")


class Measure(models.TextChoices):
    """The categorical measures whose changes between runs are recorded (migration)."""

    LIFECYCLE_STAGE = "lifecycle_stage", _("lifecycle stage")
    ABC_CLASS = "abc_class", _("value class")
    ACTUAL_LEVEL = "actual_level", _("actual level")
    RECOMMENDED_LEVEL = "recommended_level", _("recommended level")
    LEVEL_GAP = "level_gap", _("level gap")
    PARTNERSHIP_STAGE = "partnership_stage", _("partnership stage")
    FOUNDATION_HEALTH = "foundation_health", _("foundation health")
