from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.engagement.choices import Direction, Purpose


class TriggerKind(models.TextChoices):
    """What makes a playbook fire for a customer."""

    STANDING = "standing", _("standing (the customer's measures in the run)")
    PER_PURCHASE = "per_purchase", _("per purchase (each recent purchase)")


class OwnerRule(models.TextChoices):
    """Who a playbook's task is for."""

    ACCOUNT_OWNER = "account_owner", _("the account owner")
    OWNER_ELSE_FALLBACK = "owner_else_fallback", _("the account owner, else the fallback user")
    UNASSIGNED = "unassigned", _("nobody (the unassigned pool)")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("open")
    DONE = "done", _("done")
    CANCELLED = "cancelled", _("cancelled")


class TaskPriority(models.TextChoices):
    NORMAL = "normal", _("normal")
    HIGH = "high", _("high")


# Which interactions complete a task of a given purpose: the company has to make the contact
# (outbound) for everything except joint work, which either side may start.
EITHER_DIRECTION_PURPOSES: tuple[str, ...] = (Purpose.JOINT_WORK,)
COMPLETING_DIRECTION = Direction.OUTBOUND

# The condition lists of a playbook and the score measure (or customer field) each one filters.
CONDITION_LOOKUPS: dict[str, str] = {
    "actual_levels": "actual_level",
    "partnership_stages": "partnership_stage",
    "lifecycle_stages": "lifecycle_stage",
    "value_classes": "abc_class",
    "level_gaps": "level_gap",
    "foundation_health": "foundation_health",
    "customer_types": "customer__customer_type",
}
