"""The values used by partnership stage assessments (names as in the glossary)."""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.hierarchy.choices import PartnershipStage
from guanxi.parties.choices import CustomerType

SCORE_MIN = 1
SCORE_MAX = 5
SCORES: tuple[int, ...] = tuple(range(SCORE_MIN, SCORE_MAX + 1))

# The questionnaire the data migration ships; new versions keep the code.
DEFAULT_QUESTIONNAIRE_CODE = "partnership"

# How long an assessment stays valid: the latest per rater role answered in the
# ``ASSESSMENT_VALIDITY_DAYS`` days up to the as-of date counts. A project may override it with
# ``settings.GUANXI_ASSESSMENT_VALIDITY_DAYS``.
ASSESSMENT_VALIDITY_DAYS = 365

# Only organisations have a B2B partnership to assess.
ASSESSABLE_CUSTOMER_TYPES = (CustomerType.BUSINESS, CustomerType.CHANNEL)

# Mean item score → stage, lowest first. A band holds ``min_score <= mean < max_score``; the last
# band also holds 5. Score 1 describes the basic stage, 2 cooperative, 3 interdependent, 4 and 5
# integration under way and complete, so a stage starts at the score that describes it
# (docs/assessments.md).
DEFAULT_BANDS: tuple[tuple[str, Decimal, Decimal], ...] = (
    (PartnershipStage.BASIC, Decimal("1.00"), Decimal("2.00")),
    (PartnershipStage.COOPERATIVE, Decimal("2.00"), Decimal("3.00")),
    (PartnershipStage.INTERDEPENDENT, Decimal("3.00"), Decimal("4.00")),
    (PartnershipStage.INTEGRATED, Decimal("4.00"), Decimal("5.00")),
)


class RaterRole(models.TextChoices):
    """Who answered the questionnaire: three roles in the company, or the customer itself."""

    MARKETING_STAFF = "marketing_staff", _("marketing staff")
    SALES_MANAGER = "sales_manager", _("sales manager")
    SENIOR_MANAGER = "senior_manager", _("senior manager")
    CUSTOMER = "customer", _("customer (their own view)")


# The company's raters; their scores make the company's view, the customer's make the other.
COMPANY_RATER_ROLES: tuple[str, ...] = (
    RaterRole.MARKETING_STAFF,
    RaterRole.SALES_MANAGER,
    RaterRole.SENIOR_MANAGER,
)


class Dimension(models.TextChoices):
    """What side of the relationship a questionnaire item looks at."""

    CONTACT = "contact", _("contact and communication")
    INFORMATION = "information", _("information and planning")
    TRUST = "trust", _("trust and disagreements")
    COMMERCIAL = "commercial", _("commercial standing")
    COOPERATION = "cooperation", pgettext_lazy("assessment dimension", "joint work")
    INTEGRATION = "integration", _("integration and lock-in")
