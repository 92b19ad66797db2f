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
