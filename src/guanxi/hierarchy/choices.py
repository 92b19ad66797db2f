"""The values of the hierarchy's measures (names as in the glossary)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RelationshipLevel(models.TextChoices):
    """How much the company invests in the relationship (Kotler's five levels), lowest first."""

    BASIC = "basic", _("basic")
    REACTIVE = "reactive", _("reactive")
    ACCOUNTABLE = "accountable", _("accountable")
    PROACTIVE = "proactive", _("proactive")
    PARTNERSHIP = "partnership", _("partnership")


class PartnershipStage(models.TextChoices):
    """The B2B relationship pyramid, lowest first."""

    BASIC = "basic", _("basic stage")
    COOPERATIVE = "cooperative", _("cooperative stage")
    INTERDEPENDENT = "interdependent", _("interdependent stage")
    INTEGRATED = "integrated", _("integrated stage")


class LevelGap(models.TextChoices):
    UNDER_SERVED = "under_served", _("under-served")
    ON_TARGET = "on_target", _("on target")
    OVER_SERVED = "over_served", _("over-served")


class FoundationHealth(models.TextChoices):
    OK = "ok", _("ok")
    AT_RISK = "at_risk", _("at risk")


class SegmentSize(models.TextChoices):
    MANY = "many", _("many customers")
    MEDIUM = "medium", _("a medium number of customers")
    FEW = "few", _("few customers")


class MarginBand(models.TextChoices):
    LOW = "low", _("low margin")
    MEDIUM = "medium", _("medium margin")
    HIGH = "high", _("high margin")


class BondKind(models.TextChoices):
    FINANCIAL = "financial", _("financial")
    SOCIAL = "social", _("social")
    STRUCTURAL = "structural", _("structural")


class BondInstrument(models.TextChoices):
    """What the bond is; each instrument belongs to one kind (``BOND_KIND_OF``)."""

    LOYALTY_MEMBERSHIP = "loyalty_membership", _("loyalty membership")
    POINTS = "points", _("points programme")
    VOLUME_DISCOUNT = "volume_discount", _("volume discount agreement")
    CLUB = "club", _("customer club")
    COMMUNITY = "community", _("user community")
    PERSONAL_CONTACT = "personal_contact", _("personal contact")
    SUPPORT_CONTRACT = "support_contract", _("technical support contract")
    SHARED_SYSTEM = "shared_system", _("shared system")
    CUSTOM_SOLUTION = "custom_solution", _("custom solution")


BOND_KIND_OF: dict[str, str] = {
    BondInstrument.LOYALTY_MEMBERSHIP: BondKind.FINANCIAL,
    BondInstrument.POINTS: BondKind.FINANCIAL,
    BondInstrument.VOLUME_DISCOUNT: BondKind.FINANCIAL,
    BondInstrument.CLUB: BondKind.SOCIAL,
    BondInstrument.COMMUNITY: BondKind.SOCIAL,
    BondInstrument.PERSONAL_CONTACT: BondKind.SOCIAL,
    BondInstrument.SUPPORT_CONTRACT: BondKind.STRUCTURAL,
    BondInstrument.SHARED_SYSTEM: BondKind.STRUCTURAL,
    BondInstrument.CUSTOM_SOLUTION: BondKind.STRUCTURAL,
}

# Levels at which a failing foundation is flagged loudest, and the stages likewise.
HIGH_LEVELS = (RelationshipLevel.PROACTIVE, RelationshipLevel.PARTNERSHIP)
HIGH_STAGES = (PartnershipStage.INTERDEPENDENT, PartnershipStage.INTEGRATED)
