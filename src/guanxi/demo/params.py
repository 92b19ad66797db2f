"""The parameters of the demo company's generative story, in one place.

Rates are per day. ``docs/demo.md`` explains each number; change them here and the whole demo
follows. Customer types are indexed in the order of ``TYPE_CODES`` throughout the generator.
"""

import datetime as dt
from dataclasses import dataclass

import numpy as np

DEFAULT_AS_OF = dt.date(2026, 6, 30)
DEFAULT_CUSTOMERS = 10_000
DEFAULT_SEED = 42
HISTORY_YEARS = 3
# Customers are simulated this many at a time; memory stays flat however many are asked for.
# Fixed, so that the same seed and count always cut the population into the same chunks.
CHUNK_SIZE = 20_000
# Business hours are China Standard Time (UTC+8, no daylight saving).
UTC_OFFSET = dt.timedelta(hours=8)
DEMO_PREFIX = "DEMO-"

TYPE_CODES: tuple[str, ...] = ("consumer", "business", "channel", "internal")
LEVEL_CODES: tuple[str, ...] = ("basic", "reactive", "accountable", "proactive", "partnership")
BASIC, REACTIVE, ACCOUNTABLE, PROACTIVE, PARTNERSHIP = range(5)


@dataclass(frozen=True)
class TypeProfile:
    """How one customer type behaves and how the company treats it."""

    share: float  # of all customers
    prospect_share: float  # never buy (leads still in the pipeline)
    rate_shape: float  # purchase rate λ ~ Gamma(rate_shape, scale=rate_scale) per day (BG/NBD r)
    rate_scale: float  # 1 / α
    dropout_a: float  # dropout probability p ~ Beta(dropout_a, dropout_b) after each purchase
    dropout_b: float
    spend_shape: float  # spend scale ~ Gamma(spend_shape, 1 / spend_shape), mean 1
    extra_lines: float  # lines per order = 1 + Poisson(extra_lines)
    online_share: float  # of orders placed online (the rest at a store or by the sales rep)
    lead_days: tuple[int, int]  # promised delivery, days after the order (online / offline)
    discount: tuple[float, float]  # negotiated discount range off list price
    first_purchase_days: float  # mean days from first contact to first purchase
    owned_share: float  # customers with an account owner (the rest are in the unassigned pool)
    contacts: tuple[int, int]  # contact people per customer (min, max); (0, 0) for none
    # Relationship level shares basic … partnership, before the noise that blurs value and level.
    level_shares: tuple[float, float, float, float, float]
    chinese_name_share: float


PROFILES: tuple[TypeProfile, ...] = (
    TypeProfile(
        share=0.85,
        prospect_share=0.10,
        rate_shape=0.75,
        rate_scale=1 / 58,
        dropout_a=0.9,
        dropout_b=3.2,
        spend_shape=3.0,
        extra_lines=1.4,
        online_share=0.65,
        lead_days=(2, 0),
        discount=(0.0, 0.0),
        first_purchase_days=5.0,
        owned_share=0.06,
        contacts=(0, 0),
        level_shares=(0.52, 0.26, 0.13, 0.09, 0.0),
        chinese_name_share=0.75,
    ),
    TypeProfile(
        share=0.10,
        prospect_share=0.08,
        rate_shape=1.6,
        rate_scale=1 / 110,
        dropout_a=0.8,
        dropout_b=9.0,
        spend_shape=2.0,
        extra_lines=2.5,
        online_share=0.30,
        lead_days=(4, 6),
        discount=(0.0, 0.12),
        first_purchase_days=25.0,
        owned_share=0.96,
        contacts=(1, 3),
        level_shares=(0.12, 0.22, 0.28, 0.26, 0.12),
        chinese_name_share=0.80,
    ),
    TypeProfile(
        share=0.04,
        prospect_share=0.05,
        rate_shape=2.5,
        rate_scale=1 / 110,
        dropout_a=0.8,
        dropout_b=12.0,
        spend_shape=2.5,
        extra_lines=3.5,
        online_share=0.20,
        lead_days=(3, 5),
        discount=(0.15, 0.25),
        first_purchase_days=20.0,
        owned_share=0.98,
        contacts=(2, 4),
        level_shares=(0.10, 0.20, 0.25, 0.30, 0.15),
        chinese_name_share=0.85,
    ),
    TypeProfile(
        share=0.01,
        prospect_share=0.02,
        rate_shape=1.5,
        rate_scale=1 / 150,
        dropout_a=1.0,
        dropout_b=8.0,
        spend_shape=4.0,
        extra_lines=0.6,
        online_share=0.50,
        lead_days=(1, 1),
        discount=(0.30, 0.30),
        first_purchase_days=10.0,
        owned_share=0.0,
        contacts=(0, 0),
        level_shares=(0.55, 0.30, 0.15, 0.0, 0.0),
        chinese_name_share=1.0,
    ),
)

# How well the hidden relationship level tracks customer value: 1 would give every valuable
# customer the top level; lower values leave under-served valuable and over-served cheap customers.
LEVEL_VALUE_CORRELATION = 0.55
# Better-tended relationships last longer: the dropout probability is multiplied by this factor.
LEVEL_DROPOUT_FACTOR: tuple[float, ...] = (1.0, 0.9, 0.75, 0.6, 0.45)
# Customers heading for dropout spend less on their last purchases (the "decline" stage).
DECLINER_SHARE = 0.6
DECLINE_PURCHASES = 4  # the last this many purchases before dropping out shrink
DECLINE_FLOOR = 0.35  # spend multiplier on the very last purchase

# Order outcomes.
CANCEL_SHARE = 0.022
RETURN_SHARE = 0.012
RETURN_SHARE_IF_LATE = 0.08
# Late deliveries: a per-customer probability; some regions' logistics are worse, and a few
# customers are unlucky (their basics fail whatever their level).
LATE_SHARE = 0.05
LATE_SHARE_BY_REGION: dict[str, float] = {"西南": 0.12, "西北": 0.16, "东北": 0.10}
UNLUCKY_SHARE = 0.04
UNLUCKY_LATE_SHARE = 0.40
# Yearly list-price inflation, so old order lines carry older prices.
PRICE_INFLATION = 0.03

# Interactions, by hidden relationship level (basic, reactive, accountable, proactive, partnership).
PRE_SALE_SHARE = 0.30  # customers who asked something before buying
INBOUND_FEEDBACK_PER_ORDER: tuple[float, ...] = (0.0, 0.20, 0.14, 0.12, 0.10)
INBOUND_FEEDBACK_IF_LATE = 0.35
FOLLOW_UP_PER_ORDER: tuple[float, ...] = (0.0, 0.0, 0.85, 0.9, 0.95)
FOLLOW_UP_DAYS = (1, 5)
# Regular outbound advice and offers (proactive, partnership): days between contacts.
REGULAR_CONTACT_DAYS: dict[str, tuple[int, int]] = {
    "consumer": (45, 120),
    "business": (25, 75),
    "channel": (20, 60),
    "internal": (60, 120),
}
JOINT_WORK_DAYS = (30, 75)  # partnership meetings
# The company notices silence: regular contact stops this many days after the last purchase.
CONTACT_GIVE_UP_DAYS = 240

# Cases: share of inbound feedback that opens a case, by purpose of the interaction.
CASE_FROM_COMPLAINT = 0.9
CASE_FROM_OTHER_FEEDBACK = 0.45
STUCK_CASE_SHARE = 0.02  # forgotten: never moved on, however old
FIRST_RESPONSE_HOURS: dict[str, float] = {"critical": 1.0, "high": 4.0, "medium": 10.0, "low": 20.0}
RESOLUTION_SHARE_OF_DEADLINE = 0.45  # typical time to resolve, as a share of the deadline
CASE_SURVEY_SHARE = 0.45
PURCHASE_SURVEY_SHARE = 0.03

# Bonds (financial, social, structural ties; ``guanxi.hierarchy.choices.BondInstrument``): for
# each customer type and instrument, the share of buyers at each hidden relationship level
# (basic … partnership) who hold it. Instruments are drawn independently, so a customer may hold
# several. Consumers are tied by money (memberships, points) and, higher up, by clubs; businesses
# and distributors from the accountable level up by people (a named contact, the community) and,
# at proactive and partnership level, by structure (support contracts, shared systems, custom
# solutions); internal units rarely need a tie. Prospects hold none. About 2 % of basic customers
# and 90 % of partners hold at least one.
BOND_SHARES: dict[str, dict[str, tuple[float, float, float, float, float]]] = {
    "consumer": {
        "loyalty_membership": (0.015, 0.10, 0.30, 0.50, 0.0),
        "points": (0.006, 0.06, 0.20, 0.35, 0.0),
        "club": (0.0, 0.01, 0.05, 0.15, 0.0),
        "community": (0.0, 0.02, 0.05, 0.10, 0.0),
    },
    "business": {
        "volume_discount": (0.01, 0.05, 0.12, 0.20, 0.30),
        "points": (0.005, 0.02, 0.04, 0.05, 0.05),
        "personal_contact": (0.0, 0.03, 0.35, 0.55, 0.70),
        "club": (0.0, 0.0, 0.05, 0.10, 0.15),
        "community": (0.0, 0.02, 0.08, 0.15, 0.20),
        "support_contract": (0.0, 0.01, 0.08, 0.30, 0.45),
        "shared_system": (0.0, 0.0, 0.02, 0.10, 0.30),
        "custom_solution": (0.0, 0.0, 0.01, 0.05, 0.20),
    },
    "channel": {
        "volume_discount": (0.02, 0.10, 0.25, 0.40, 0.50),  # rebate agreements
        "personal_contact": (0.0, 0.03, 0.35, 0.55, 0.70),
        "club": (0.0, 0.0, 0.03, 0.06, 0.10),
        "community": (0.0, 0.02, 0.10, 0.20, 0.30),  # the dealers' network
        "support_contract": (0.0, 0.01, 0.05, 0.15, 0.25),
        "shared_system": (0.0, 0.0, 0.03, 0.15, 0.40),  # ordering portal, shared stock data
        "custom_solution": (0.0, 0.0, 0.0, 0.03, 0.10),
    },
    "internal": {
        "personal_contact": (0.0, 0.02, 0.08, 0.0, 0.0),
        "shared_system": (0.01, 0.03, 0.06, 0.0, 0.0),
    },
}


@dataclass(frozen=True)
class BondTerms:
    """When a bond of one instrument starts and how it ends.

    A bond starts after the customer's first purchase, at most ``BOND_START_GRACE_DAYS`` after
    their last one. Bonds with a term run term by term: a term is renewed with probability
    ``renewal``, and never after a term in which the customer bought nothing (lapsed memberships,
    expired contracts). Open-ended bonds fade ``lapse_days`` after the customer's last purchase.
    An end later than the reference date leaves the bond in force (``ended_on`` empty).
    """

    start_days: float  # mean days from the first purchase to the start (exponential)
    at_first_purchase: float  # share that start on the day of the first purchase
    term_days: int = 0  # 0: open-ended
    renewal: float = 0.0  # chance a term is renewed while the customer still buys
    lapse_days: tuple[int, int] = (0, 0)  # open-ended: ends this long after the last purchase


BOND_START_GRACE_DAYS = 30
BOND_TERMS: dict[str, BondTerms] = {
    "loyalty_membership": BondTerms(60, 0.5, term_days=365, renewal=0.85),
    "points": BondTerms(30, 0.6, lapse_days=(365, 365)),  # points expire a year after the last buy
    "volume_discount": BondTerms(90, 0.2, term_days=365, renewal=0.9),
    "club": BondTerms(120, 0.0, lapse_days=(120, 360)),
    "community": BondTerms(90, 0.0, lapse_days=(90, 300)),
    "personal_contact": BondTerms(60, 0.1, lapse_days=(120, 360)),
    "support_contract": BondTerms(150, 0.2, term_days=365, renewal=0.8),
    "shared_system": BondTerms(240, 0.0, lapse_days=(180, 540)),
    "custom_solution": BondTerms(300, 0.0, term_days=730, renewal=0.75),
}


# Partnership stage assessments (``guanxi.assessments``, docs/assessments.md): company raters and
# sometimes the customer answer the active ``partnership`` questionnaire about a business or
# channel customer. Only organisations that bought are assessed, and only while the relationship
# is alive: a first purchase at least ``ASSESSMENT_MIN_DAYS`` before the reference date and a
# purchase in the last ``ASSESSMENT_ACTIVE_DAYS``. Of those, the share assessed at each hidden
# relationship level (basic … partnership): nobody takes stock of a relationship nobody tends.
ASSESSED_SHARE: tuple[float, ...] = (0.0, 0.10, 0.35, 0.60, 0.90)
ASSESSMENT_MIN_DAYS = 30
ASSESSMENT_ACTIVE_DAYS = 365
# The relationship's true stage on the B2B pyramid (basic, cooperative, interdependent,
# integrated) for each hidden level: it follows the level, with noise. Reactive relationships are
# basic, accountable ones basic or cooperative, proactive ones cooperative or interdependent,
# partnerships interdependent or integrated.
LATENT_STAGE_SHARES: tuple[tuple[float, float, float, float], ...] = (
    (1.0, 0.0, 0.0, 0.0),  # basic (never assessed)
    (0.75, 0.25, 0.0, 0.0),  # reactive
    (0.45, 0.45, 0.10, 0.0),  # accountable
    (0.10, 0.45, 0.40, 0.05),  # proactive
    (0.0, 0.10, 0.50, 0.40),  # partnership
)
# Where in its stage's score band the true mean score lies (a share of the band's width): away from
# the edges, so the raters' noise seldom carries a relationship into the next band.
STAGE_BAND_POSITION = (0.35, 0.65)
# The current round is answered in the last ``ASSESSMENT_RECENT_DAYS`` days (inside the 365-day
# validity window), each rater within ``ASSESSMENT_ROUND_DAYS`` of the round's first day.
ASSESSMENT_RECENT_DAYS = 300
ASSESSMENT_ROUND_DAYS = 21
# 1, 2 or 3 company raters per round; their roles are drawn without repetition with these weights
# (the account's sales manager most often). The sales manager is the account owner when there is
# one, marketing staff another rep of the team that covers the region, the senior manager that
# team's manager.
RATER_COUNT_SHARES = (0.40, 0.35, 0.25)
RATER_ROLE_WEIGHTS: dict[str, float] = {
    "marketing_staff": 0.3,
    "sales_manager": 0.5,
    "senior_manager": 0.2,
}
# Each answer is the true score plus the rater's bias (per assessment), the item's lead or lag for
# this relationship (shared by all its raters: some dimensions run ahead) and the rater's noise on
# the item, rounded and clipped to 1–5.
RATER_BIAS_SD = 0.1
ITEM_EFFECT_SD = 0.3
ANSWER_NOISE_SD = 0.5
# The customer answers too in this share of the assessed relationships; a fifth of them see it one
# stage apart from the company (more often lower: the company overrates), which the product shows
# as a perception gap.
CUSTOMER_ANSWER_SHARE = 0.40
PERCEPTION_SHIFT_SHARE = 0.20
PERCEPTION_LOWER_SHARE = 0.60
# History: this share of assessed relationships (those old enough) were also assessed more than a
# year before the reference date, outside the validity window, by 1 or 2 company raters; back then
# the relationship was often one stage lower.
OLDER_ASSESSMENT_SHARE = 0.5
OLDER_RATER_COUNT_SHARES = (0.6, 0.4)
OLDER_STAGE_LOWER_SHARE = 0.4
# Share of assessments with a note from the rater.
ASSESSMENT_NOTE_SHARE = 0.3


@dataclass(frozen=True)
class Window:
    """The simulated history: ``HISTORY_YEARS`` years of days ending on ``as_of`` (inclusive)."""

    as_of: dt.date

    @property
    def start(self) -> dt.date:
        try:
            return self.as_of.replace(year=self.as_of.year - HISTORY_YEARS) + dt.timedelta(days=1)
        except ValueError:  # 29 February: the window starts on 1 March
            return dt.date(self.as_of.year - HISTORY_YEARS, 3, 1)

    @property
    def days(self) -> int:
        return (self.as_of - self.start).days + 1

    @property
    def start_epoch_day(self) -> int:
        """The first day as days since 1970-01-01."""
        return (self.start - dt.date(1970, 1, 1)).days

    @property
    def end_seconds(self) -> int:
        """The last second of ``as_of`` (local time), in Unix seconds."""
        return int(self.utc_seconds(np.array([self.days - 1]), np.array([86_399]))[0])

    def utc_seconds(self, day: np.ndarray, local_seconds: np.ndarray) -> np.ndarray:
        """Seconds since the Unix epoch (UTC) of a local time on a day of the window."""
        offset = int(UTC_OFFSET.total_seconds())
        return (self.start_epoch_day + day.astype(np.int64)) * 86_400 + local_seconds - offset
