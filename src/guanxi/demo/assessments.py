"""Partnership stage assessments: the company's raters, and some customers, answer the B2B
questionnaire about business and channel customers.

Each assessed relationship has a true stage on the pyramid — basic, cooperative, interdependent,
integrated — that follows the hidden relationship level with noise (``params.LATENT_STAGE_SHARES``)
and a true mean score inside that stage's band of the questionnaire. One to three company raters
(marketing staff, the sales manager, a senior manager; roles without repetition) answer every item
around that score, each with a bias of their own and noise per item; the relationship's items lead
or lag alike for all its raters. Some customers answer too, and a fifth of them see the
relationship one stage apart from the company: a perception gap. Some relationships were also
assessed more than a year ago, outside the validity window, when they often stood a stage lower.

The questionnaire — its items in position order and its score bands — is read from the database
by ``run.py`` (``DemoQuestionnaire``); each assessment's mean score and stage are computed here
with those bands (``guanxi.assessments.banding``), as ``assessment_record`` would. Rows are
bulk-inserted, so no ``assessment.recorded`` event is written per assessment.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from guanxi.assessments.banding import Band, BandSet, stage_rank
from guanxi.assessments.choices import (
    ASSESSABLE_CUSTOMER_TYPES,
    ASSESSMENT_VALIDITY_DAYS,
    COMPANY_RATER_ROLES,
    SCORE_MAX,
    SCORE_MIN,
    RaterRole,
)
from guanxi.demo import params, vocab
from guanxi.demo.catalogue import Catalogue
from guanxi.demo.columns import (
    OFFICE_HOURS,
    TIMESTAMP,
    choose,
    dates,
    local_seconds,
    optional_ids,
    pick,
    timestamps,
    where,
)
from guanxi.demo.customers import Population
from guanxi.demo.purchases import Purchases
from guanxi.hierarchy.choices import PartnershipStage

# Rater roles by code: the company's three, then the customer.
ROLES: tuple[str, ...] = (*(str(r) for r in COMPANY_RATER_ROLES), str(RaterRole.CUSTOMER))
CUSTOMER_ROLE = ROLES.index(RaterRole.CUSTOMER)
STAGES: tuple[str, ...] = tuple(PartnershipStage.values)
_ASSESSED_KINDS = np.array([params.TYPE_CODES.index(str(t)) for t in ASSESSABLE_CUSTOMER_TYPES])
_NOTES = [note for notes in vocab.ASSESSMENT_NOTES for note in notes]
_NOTE_COUNT = np.array([len(notes) for notes in vocab.ASSESSMENT_NOTES])
_NOTE_FIRST = np.cumsum(_NOTE_COUNT) - _NOTE_COUNT

ASSESSMENT_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("created_at", TIMESTAMP),
        ("updated_at", TIMESTAMP),
        ("customer_id", pa.int64()),
        ("questionnaire_id", pa.int64()),
        ("rater_role", pa.string()),
        ("rater_id", pa.int64()),
        ("rater_name", pa.string()),
        ("answered_on", pa.date32()),
        ("mean_score", pa.float64()),
        ("stage", pa.string()),
        ("notes", pa.string()),
    ]
)
ANSWER_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("assessment_id", pa.int64()),
        ("item_id", pa.int64()),
        ("score", pa.int16()),
    ]
)


@dataclass(frozen=True)
class DemoQuestionnaire:
    """The questionnaire version the demo answers: its id, item ids in position order, bands."""

    id: int
    item_ids: tuple[int, ...]
    bands: tuple[Band, ...]
    band_set: BandSet = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.item_ids:
            raise ValueError("the demo questionnaire has no items")
        object.__setattr__(self, "item_ids", tuple(int(i) for i in self.item_ids))
        object.__setattr__(self, "band_set", BandSet(self.bands))
        object.__setattr__(self, "bands", self.band_set.bands)

    @classmethod
    def of(
        cls, questionnaire_id: int, item_ids: Iterable[int], bands: Iterable[Band | Sequence]
    ) -> "DemoQuestionnaire":
        return cls(id=int(questionnaire_id), item_ids=tuple(item_ids), bands=tuple(bands))

    def stage_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The lowest and highest score of each stage's band, by stage rank (0 basic …).

        A version may name fewer than four stages; a stage it does not name takes the band of
        the nearest one it does (the lower one on a tie).
        """
        bands = self.band_set.bands
        named = np.array([stage_rank(b.stage) for b in bands])
        nearest = np.abs(np.arange(len(STAGES))[:, None] - named[None, :]).argmin(axis=1)
        low = np.array([float(b.min_score) for b in bands])
        high = np.array([float(b.max_score) for b in bands])
        return low[nearest], high[nearest]


def assessments_draw(
    rng: np.random.Generator,
    population: Population,
    purchases: Purchases,
    contacts: pa.Table,
    *,
    window: params.Window,
    catalogue: Catalogue,
    questionnaire: DemoQuestionnaire | None,
    first_assessment_id: int,
    first_answer_id: int,
) -> dict[str, pa.Table]:
    """One chunk's assessments (by customer, answer date and role) and their answers.

    ``contacts`` are the chunk's contact people: a customer's own answers name one of them.
    Without a questionnaire there is nothing to answer and both tables are empty.
    """
    if questionnaire is None:
        return {
            "assessment": ASSESSMENT_SCHEMA.empty_table(),
            "assessment_answer": ANSWER_SCHEMA.empty_table(),
        }
    pop = population
    n = len(pop.ids)
    last = window.days - 1

    # Who is assessed: organisations in a live relationship, more of them the better tended.
    first_day = np.floor(np.where(pop.buyer, pop.first_purchase, window.days)).astype(np.int64)
    eligible = (
        np.isin(pop.kind, _ASSESSED_KINDS)
        & pop.buyer
        & (first_day <= last - params.ASSESSMENT_MIN_DAYS)
        & (purchases.last_day >= last - params.ASSESSMENT_ACTIVE_DAYS)
    )
    assessed = eligible & (rng.random(n) < np.asarray(params.ASSESSED_SHARE)[pop.level])
    who = np.flatnonzero(assessed)
    k = len(who)

    # The true stage and, within its band, the true mean score.
    low, high = questionnaire.stage_bounds()
    stage = _draw_rows(rng, np.asarray(params.LATENT_STAGE_SHARES)[pop.level[who]])
    true_score = _score_in_band(rng, stage, low, high)
    earliest = first_day[who] + params.ASSESSMENT_MIN_DAYS

    # The current round, in the last months; the company's raters, maybe the customer too.
    start = np.maximum(earliest, last - params.ASSESSMENT_RECENT_DAYS)
    day = start + (rng.random(k) * (last - start + 1)).astype(np.int64)
    company = _company_roles(rng, k, params.RATER_COUNT_SHARES)
    own = rng.random(k) < params.CUSTOMER_ANSWER_SHARE
    shifted = rng.random(k) < params.PERCEPTION_SHIFT_SHARE
    step = np.where(rng.random(k) < params.PERCEPTION_LOWER_SHARE, -1, 1)
    step = np.where((stage + step < 0) | (stage + step >= len(STAGES)), -step, step)
    perceived = stage + np.where(shifted, step, 0)
    own_score = _score_in_band(rng, perceived, low, high)

    # An older round, more than a year before (outside the validity window), by fewer raters.
    older_latest = last - ASSESSMENT_VALIDITY_DAYS - params.ASSESSMENT_ROUND_DAYS
    older = (earliest <= older_latest) & (rng.random(k) < params.OLDER_ASSESSMENT_SHARE)
    old_day = earliest + (rng.random(k) * np.maximum(older_latest - earliest + 1, 0)).astype(
        np.int64
    )
    old_stage = np.maximum(stage - (rng.random(k) < params.OLDER_STAGE_LOWER_SHARE), 0)
    old_score = _score_in_band(rng, old_stage, low, high)
    old_company = _company_roles(rng, k, params.OLDER_RATER_COUNT_SHARES) & older[:, None]

    # One row per assessment: the relationship (index into ``who``), role, round day, true score.
    now_j, now_role = np.nonzero(company)
    own_j = np.flatnonzero(own)
    old_j, old_role = np.nonzero(old_company)
    j = np.concatenate([now_j, own_j, old_j])
    role = np.concatenate([now_role, np.full(len(own_j), CUSTOMER_ROLE), old_role])
    round_day = np.concatenate([day[now_j], day[own_j], old_day[old_j]])
    target = np.concatenate([true_score[now_j], own_score[own_j], old_score[old_j]])
    m = len(j)
    answered = np.minimum(round_day + rng.integers(0, params.ASSESSMENT_ROUND_DAYS, m), last)

    # The answers: true score + rater bias + the item's lead or lag + noise, on the 1–5 scale.
    items = len(questionnaire.item_ids)
    item_effect = rng.normal(0.0, params.ITEM_EFFECT_SD, (k, items))
    bias = rng.normal(0.0, params.RATER_BIAS_SD, m)
    noise = rng.normal(0.0, params.ANSWER_NOISE_SD, (m, items))
    scores = np.clip(
        np.rint(target[:, None] + bias[:, None] + item_effect[j] + noise), SCORE_MIN, SCORE_MAX
    ).astype(np.int16)
    mean = scores.sum(axis=1, dtype=np.int64) / items
    band = questionnaire.band_set.indexes(mean)
    band_rank = np.array([stage_rank(b.stage) for b in questionnaire.band_set.bands])[band]

    customer = who[j]
    rater = _raters(rng, pop, catalogue, customer, role)
    rater_name = _contact_names(rng, pop, contacts, customer, role == CUSTOMER_ROLE)
    noted = rng.random(m) < params.ASSESSMENT_NOTE_SHARE
    note = _NOTE_FIRST[band_rank] + (rng.random(m) * _NOTE_COUNT[band_rank]).astype(np.int64)
    created = window.utc_seconds(answered, local_seconds(rng, m, OFFICE_HOURS))

    order = np.lexsort((role, answered, customer))
    customer, role, answered, rater, band, noted, note, created, mean, scores = (
        a[order]
        for a in (customer, role, answered, rater, band, noted, note, created, mean, scores)
    )
    rater_name = rater_name.take(pa.array(order, pa.int64()))
    ids = np.arange(m, dtype=np.int64) + first_assessment_id
    assessment = pa.table(
        {
            "id": ids,
            "created_at": timestamps(created),
            "updated_at": timestamps(created),
            "customer_id": pop.ids[customer],
            "questionnaire_id": np.full(m, questionnaire.id, dtype=np.int64),
            "rater_role": pick(ROLES, role),
            "rater_id": optional_ids(rater),
            "rater_name": rater_name,
            "answered_on": dates(window.start_epoch_day + answered),
            "mean_score": mean,
            "stage": pick([b.stage for b in questionnaire.band_set.bands], band),
            "notes": where(noted, pick(_NOTES, note), ""),
        },
        schema=ASSESSMENT_SCHEMA,
    )
    answer = pa.table(
        {
            "id": np.arange(m * items, dtype=np.int64) + first_answer_id,
            "assessment_id": np.repeat(ids, items),
            "item_id": np.tile(np.asarray(questionnaire.item_ids, dtype=np.int64), m),
            "score": scores.ravel(),
        },
        schema=ANSWER_SCHEMA,
    )
    return {"assessment": assessment, "assessment_answer": answer}


def _draw_rows(rng: np.random.Generator, probabilities: np.ndarray) -> np.ndarray:
    """One index per row of ``probabilities`` (each row sums to 1)."""
    cumulative = np.cumsum(probabilities, axis=1)[:, :-1]
    return (rng.random(len(probabilities))[:, None] >= cumulative).sum(axis=1)


def _score_in_band(
    rng: np.random.Generator, stage: np.ndarray, low: np.ndarray, high: np.ndarray
) -> np.ndarray:
    """A mean score inside each stage's band, away from its edges."""
    lo, hi = params.STAGE_BAND_POSITION
    return low[stage] + rng.uniform(lo, hi, len(stage)) * (high[stage] - low[stage])


def _company_roles(rng: np.random.Generator, k: int, count_shares: Sequence[float]) -> np.ndarray:
    """(k, 3) mask of the company roles answering: 1, 2 … of them, drawn without repetition.

    Weighted sampling without replacement by random keys (Efraimidis–Spirakis): each role gets
    ``log(u) / weight``, and the roles with the largest keys are taken.
    """
    weights = np.array([params.RATER_ROLE_WEIGHTS[r] for r in ROLES[:CUSTOMER_ROLE]])
    count = choose(rng, k, count_shares) + 1
    keys = np.log(rng.random((k, len(weights)))) / weights
    rank = np.argsort(np.argsort(-keys, axis=1), axis=1)
    return rank < count[:, None]


def _raters(
    rng: np.random.Generator,
    pop: Population,
    catalogue: Catalogue,
    customer: np.ndarray,
    role: np.ndarray,
) -> np.ndarray:
    """The staff member behind each company assessment (0 for the customer's own answers).

    The sales manager is the account owner, or a rep of the team that covers the customer's
    region when nobody owns it; marketing staff another rep of that team; the senior manager the
    team's manager (the other sales team's manager when that one owns the account).
    """
    user_ids = catalogue.tables["user"].column("id").to_numpy()
    teams = (vocab.TEAM_EAST, vocab.TEAM_NATIONAL)
    reps = [
        np.array(
            [user_ids[i] for i, s in enumerate(vocab.STAFF) if s.role == "sales" and s.team == t]
        )
        for t in teams
    ]
    managers = np.array(
        [
            next(
                user_ids[i]
                for i, s in enumerate(vocab.STAFF)
                if s.role == "manager" and s.team == t
            )
            for t in teams
        ]
    )
    m = len(customer)
    east_region = [r for r, _, _ in vocab.REGIONS].index(vocab.EAST_REGION)
    team = np.where(pop.region[customer] == east_region, 0, 1)
    owner = pop.owner[customer]
    u, v = rng.random(m), rng.random(m)
    sales_manager = np.zeros(m, dtype=np.int64)
    marketing = np.zeros(m, dtype=np.int64)
    for t, team_reps in enumerate(reps):
        sel = team == t
        size = len(team_reps)
        mine = owner[sel][:, None] == team_reps[None, :]
        # The owner's place among the reps; a rep at random when the owner is not one.
        place = np.where(mine.any(axis=1), mine.argmax(axis=1), (u[sel] * size).astype(np.int64))
        sales_manager[sel] = np.where(owner[sel] > 0, owner[sel], team_reps[place])
        other = (place + 1 + (v[sel] * (size - 1)).astype(np.int64)) % size
        marketing[sel] = team_reps[other]
    senior = np.where(managers[team] == owner, managers[1 - team], managers[team])
    by_role = {
        RaterRole.MARKETING_STAFF: marketing,
        RaterRole.SALES_MANAGER: sales_manager,
        RaterRole.SENIOR_MANAGER: senior,
        RaterRole.CUSTOMER: np.zeros(m, dtype=np.int64),
    }
    return np.stack([by_role[r] for r in ROLES])[role, np.arange(m)]


def _contact_names(
    rng: np.random.Generator,
    pop: Population,
    contacts: pa.Table,
    customer: np.ndarray,
    own: np.ndarray,
) -> pa.Array:
    """For the customer's own answers, one of its contact people; '' for the company's."""
    m = len(customer)
    count = pop.contact_count[customer]
    position = (rng.random(m) * np.maximum(count, 1)).astype(np.int64)
    named = own & (count > 0)
    if not named.any():
        return pa.array([""] * m, pa.string())
    contact_ids = contacts.column("id").to_numpy()
    row = np.searchsorted(contact_ids, pop.contact_first[customer] + position)
    row = np.where(named, np.minimum(row, len(contact_ids) - 1), 0)
    return where(named, contacts.column("name").combine_chunks().take(pa.array(row)), "")
