"""The demo's partnership stage assessments: raters answer the B2B questionnaire by hidden level."""

import collections
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from io import StringIO

import numpy as np
import pyarrow as pa
import pytest
from django.core.management import call_command
from django.db import connection

from guanxi.assessments.banding import STAGES, BandSet, stage_rank
from guanxi.assessments.choices import (
    ASSESSMENT_VALIDITY_DAYS,
    COMPANY_RATER_ROLES,
    DEFAULT_BANDS,
    DEFAULT_QUESTIONNAIRE_CODE,
    RaterRole,
)
from guanxi.assessments.models import Assessment, AssessmentAnswer, Questionnaire, ScoreBand
from guanxi.assessments.selectors import partnership_stages, relationship_assessment
from guanxi.core.choices import Role
from guanxi.core.models import Event
from guanxi.demo import generator, params, vocab
from guanxi.demo.assessments import DemoQuestionnaire, assessments_draw
from guanxi.demo.generator import CHUNK_TABLES, TABLES, DemoGenerator
from guanxi.engagement.services import DEFAULT_RESOLUTION_TIME
from guanxi.parties.models import Customer
from tests.demo.conftest import AS_OF

EPOCH = dt.date(1970, 1, 1)
AS_OF_DAY = (AS_OF - EPOCH).days
# Ids as a database would hand them out, so the test sees they are passed through.
QUESTIONNAIRE = DemoQuestionnaire.of(7, range(101, 113), DEFAULT_BANDS)


@dataclass(frozen=True)
class Simulated:
    """Every chunk table, the hidden traits of the customers, and what each chunk's draw got."""

    tables: dict[str, pa.Table]
    ids: np.ndarray
    kind: np.ndarray
    level: np.ndarray
    owner: np.ndarray
    first_day: np.ndarray  # epoch day of each customer's first purchase; -1 for prospects
    calls: list[tuple]  # (population, purchases, contacts, keyword arguments) per chunk
    user_ids: np.ndarray


def _generator(customers: int, seed: int, questionnaire: DemoQuestionnaire | None):
    return DemoGenerator(
        customers=customers,
        seed=seed,
        as_of=AS_OF,
        first_ids=dict.fromkeys(TABLES, 1),
        group_ids={name: i for i, name in enumerate(Role.values, 1)},
        password_hash="!",
        deadlines={str(s): int(d.total_seconds()) for s, d in DEFAULT_RESOLUTION_TIME.items()},
        questionnaire=questionnaire,
    )


def _tables(demo: DemoGenerator) -> dict[str, pa.Table]:
    parts: dict[str, list[pa.Table]] = {name: [] for name in CHUNK_TABLES}
    for chunk in demo.chunks():
        for name in CHUNK_TABLES:
            parts[name].append(chunk.tables[name])
    return {name: pa.concat_tables(tables) for name, tables in parts.items()}


def _simulate(
    monkeypatch: pytest.MonkeyPatch,
    customers: int,
    seed: int,
    questionnaire: DemoQuestionnaire | None = QUESTIONNAIRE,
) -> Simulated:
    """Run the generator without a database, keeping what assessments_draw is given."""
    calls: list[tuple] = []
    draw = generator.assessments_draw

    def spy(rng, population, purchases, contacts, **kwargs):
        calls.append((population, purchases, contacts, kwargs))
        return draw(rng, population, purchases, contacts, **kwargs)

    monkeypatch.setattr(generator, "assessments_draw", spy)
    demo = _generator(customers, seed, questionnaire)
    tables = _tables(demo)
    first_days = []
    for population, *_ in calls:
        first = np.full(len(population.ids), -1, dtype=np.int64)
        first[population.buyer] = demo.window.start_epoch_day + np.floor(
            population.first_purchase[population.buyer]
        ).astype(np.int64)
        first_days.append(first)
    return Simulated(
        tables=tables,
        ids=np.concatenate([c[0].ids for c in calls]),
        kind=np.concatenate([c[0].kind for c in calls]),
        level=np.concatenate([c[0].level for c in calls]),
        owner=np.concatenate([c[0].owner for c in calls]),
        first_day=np.concatenate(first_days),
        calls=calls,
        user_ids=demo.catalogue.tables["user"].column("id").to_numpy(),
    )


@pytest.fixture(scope="module")
def simulated() -> Simulated:
    """6,000 customers (seed 11) in chunks of 2,500, so ids run on across chunks."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(generator, "CHUNK_SIZE", 2_500)
        return _simulate(monkeypatch, 6_000, 11)


def _epoch_days(column: pa.ChunkedArray) -> np.ndarray:
    return column.cast(pa.int32()).to_numpy(zero_copy_only=False).astype(np.int64)


def _column(table: pa.Table, name: str) -> np.ndarray:
    return np.asarray(table.column(name).to_pylist())


def _position(simulated: Simulated, customer_ids: np.ndarray) -> np.ndarray:
    return np.searchsorted(simulated.ids, customer_ids)


def _in_window(assessments: pa.Table) -> np.ndarray:
    return _epoch_days(assessments.column("answered_on")) >= AS_OF_DAY - ASSESSMENT_VALIDITY_DAYS


def _views(assessments: pa.Table, bands: BandSet) -> dict[int, tuple[str | None, str | None]]:
    """customer id → (company stage, customer stage) from the assessments in the window.

    The demo has at most one assessment per role and customer in the window, so the latest per
    role is the only one; the company's score is the mean of its raters' mean scores.
    """
    window = _in_window(assessments)
    company: dict[int, list[float]] = collections.defaultdict(list)
    own: dict[int, float] = {}
    for customer, role, score in zip(
        _column(assessments, "customer_id")[window],
        _column(assessments, "rater_role")[window],
        _column(assessments, "mean_score")[window],
        strict=True,
    ):
        if role == RaterRole.CUSTOMER:
            own[int(customer)] = float(score)
        else:
            company[int(customer)].append(float(score))
    return {
        c: (
            bands.stage(float(np.mean(company[c]))) if c in company else None,
            bands.stage(own[c]) if c in own else None,
        )
        for c in set(company) | set(own)
    }


def test_assessments_come_after_the_bonds_in_the_chunk_tables():
    assert CHUNK_TABLES[-3:] == ("bond", "assessment", "assessment_answer")


def test_the_same_seed_gives_the_same_assessments_and_another_seed_others(monkeypatch, simulated):
    monkeypatch.setattr(generator, "CHUNK_SIZE", 2_500)
    again = _simulate(monkeypatch, 6_000, 11)
    other = _simulate(monkeypatch, 6_000, 12)
    for name in ("assessment", "assessment_answer"):
        assert again.tables[name].equals(simulated.tables[name]), name
        assert not other.tables[name].equals(simulated.tables[name]), name


def test_assessments_draw_from_their_own_stream_and_leave_the_other_tables_alone(
    monkeypatch, simulated
):
    """Without a questionnaire there are no assessments, and every other table is the same."""
    monkeypatch.setattr(generator, "CHUNK_SIZE", 2_500)
    without = _tables(_generator(6_000, 11, None))
    for name in CHUNK_TABLES:
        if name in ("assessment", "assessment_answer"):
            assert without[name].num_rows == 0
            assert without[name].schema.equals(simulated.tables[name].schema)
        else:
            assert without[name].equals(simulated.tables[name]), name


def test_ids_run_on_and_every_assessment_answers_each_item_once(simulated):
    assessments = simulated.tables["assessment"]
    answers = simulated.tables["assessment_answer"]
    m = assessments.num_rows
    assert m > 300
    assert _column(assessments, "id").tolist() == list(range(1, m + 1))
    assert _column(answers, "id").tolist() == list(range(1, answers.num_rows + 1))
    assert set(_column(assessments, "questionnaire_id")) == {QUESTIONNAIRE.id}
    items = len(QUESTIONNAIRE.item_ids)
    assert answers.num_rows == m * items
    assert (
        _column(answers, "assessment_id").reshape(m, items) == np.arange(1, m + 1)[:, None]
    ).all()
    assert (_column(answers, "item_id").reshape(m, items) == QUESTIONNAIRE.item_ids).all()
    scores = _column(answers, "score")
    assert scores.min() == 1 and scores.max() == 5
    # Ordered by customer, then answer date, then role (the company's first).
    customer = _column(assessments, "customer_id")
    day = _epoch_days(assessments.column("answered_on"))
    assert (np.diff(customer * 100_000 + day) >= 0).all()


def test_only_business_and_channel_customers_who_bought_are_assessed(simulated):
    assessments = simulated.tables["assessment"]
    position = _position(simulated, _column(assessments, "customer_id"))
    kinds = {params.TYPE_CODES[k] for k in simulated.kind[position]}
    assert kinds == {"business", "channel"}
    first = simulated.first_day[position]
    assert (first >= 0).all()
    day = _epoch_days(assessments.column("answered_on"))
    assert (day >= first + params.ASSESSMENT_MIN_DAYS).all() and (day <= AS_OF_DAY).all()
    # The current round in the last months; some relationships also have an older one that the
    # validity window ignores.
    window = _in_window(assessments)
    recent = AS_OF_DAY - params.ASSESSMENT_RECENT_DAYS
    assert (day[window] >= recent).all()
    older = ~window
    assert 0 < older.sum() < window.sum()
    assert (day[older] < AS_OF_DAY - ASSESSMENT_VALIDITY_DAYS).all()
    assert set(_column(assessments, "rater_role")[older]) <= set(COMPANY_RATER_ROLES)


def test_stored_scores_and_stages_follow_the_answers_and_the_bands(simulated):
    assessments = simulated.tables["assessment"]
    items = len(QUESTIONNAIRE.item_ids)
    scores = _column(simulated.tables["assessment_answer"], "score").reshape(-1, items)
    mean = _column(assessments, "mean_score")
    assert np.allclose(mean, scores.mean(axis=1), rtol=0, atol=1e-12)
    bands = BandSet(DEFAULT_BANDS)
    stages = _column(assessments, "stage")
    assert stages.tolist() == [bands.stage(float(s)) for s in mean]
    assert set(stages) == set(STAGES)


def test_the_stage_is_computed_with_the_questionnaires_own_bands(simulated):
    """A version with other bands (and only three stages) gets its stages from those bands."""
    bands = (
        ("basic", Decimal("1.00"), Decimal("2.50")),
        ("cooperative", Decimal("2.50"), Decimal("3.50")),
        ("integrated", Decimal("3.50"), Decimal("5.00")),
    )
    other = DemoQuestionnaire.of(9, range(201, 207), bands)
    population, purchases, contacts, kwargs = simulated.calls[0]
    kwargs = {**kwargs, "questionnaire": other}
    tables = assessments_draw(np.random.default_rng(1), population, purchases, contacts, **kwargs)
    assessments, answers = tables["assessment"], tables["assessment_answer"]
    assert assessments.num_rows > 50
    assert answers.num_rows == 6 * assessments.num_rows
    assert set(_column(answers, "item_id")) == set(range(201, 207))
    mean = _column(assessments, "mean_score")
    assert np.allclose(mean, _column(answers, "score").reshape(-1, 6).mean(axis=1))
    stages = _column(assessments, "stage").tolist()
    assert stages == [BandSet(bands).stage(float(s)) for s in mean]
    assert set(stages) == {"basic", "cooperative", "integrated"}


def test_raters_are_demo_staff_and_the_customer_answers_for_itself(simulated):
    assessments = simulated.tables["assessment"]
    role = _column(assessments, "rater_role")
    rater = assessments.column("rater_id")
    name = _column(assessments, "rater_name")
    own = role == RaterRole.CUSTOMER
    assert set(role) == {*COMPANY_RATER_ROLES, RaterRole.CUSTOMER}
    assert rater.is_null().to_numpy(zero_copy_only=False).tolist() == own.tolist()
    assert (name[own] != "").all() and (name[~own] == "").all()
    staff = rater.drop_null().to_numpy()
    assert np.isin(staff, simulated.user_ids).all()
    # Each role answers once per round: once per customer in the validity window.
    window = _in_window(assessments)
    pairs = list(zip(_column(assessments, "customer_id")[window], role[window], strict=True))
    assert len(pairs) == len(set(pairs))
    # The sales manager is the account owner when there is one.
    sales = role == RaterRole.SALES_MANAGER
    owner = simulated.owner[_position(simulated, _column(assessments, "customer_id"))]
    owned = sales & (owner > 0)
    assert owned.any()
    values = rater.fill_null(0).to_numpy()
    assert (values[owned] == owner[owned]).all()
    managers = [simulated.user_ids[i] for i, s in enumerate(vocab.STAFF) if s.role == Role.MANAGER]
    assert np.isin(values[role == RaterRole.SENIOR_MANAGER], managers).all()


def test_the_higher_the_level_the_more_relationships_are_assessed(simulated):
    assessed = np.isin(simulated.ids, _column(simulated.tables["assessment"], "customer_id"))
    organisation = (simulated.kind == 1) | (simulated.kind == 2)
    buyers = organisation & (simulated.first_day >= 0)
    shares = [float(assessed[buyers & (simulated.level == lv)].mean()) for lv in range(5)]
    assert shares == sorted(shares)
    assert shares[params.BASIC] == 0
    assert shares[params.REACTIVE] < 0.15
    assert shares[params.PARTNERSHIP] > 0.6


def test_stages_follow_the_level_and_some_customers_see_it_otherwise(simulated):
    views = _views(simulated.tables["assessment"], BandSet(DEFAULT_BANDS))
    level = dict(zip(simulated.ids.tolist(), simulated.level.tolist(), strict=True))
    by_level: dict[int, list[int]] = collections.defaultdict(list)
    for customer, (company, _) in views.items():
        assert company is not None  # every assessed relationship has the company's view
        by_level[level[customer]].append(stage_rank(company))
    means = [np.mean(by_level[lv]) for lv in sorted(by_level)]
    assert sorted(by_level) == [
        params.REACTIVE,
        params.ACCOUNTABLE,
        params.PROACTIVE,
        params.PARTNERSHIP,
    ]
    assert means == sorted(means)
    assert {stage for stage, _ in views.values()} == set(STAGES)
    both = [(c, o) for c, o in views.values() if o is not None]
    gaps = sum(c != o for c, o in both)
    assert 0.25 < len(both) / len(views) < 0.55  # about 40 % of the customers answer too
    assert 0.08 < gaps / len(both) < 0.4


@pytest.mark.django_db
def test_the_command_writes_the_assessments_and_flush_removes_them():
    questionnaire = Questionnaire.objects.get(code=DEFAULT_QUESTIONNAIRE_CODE, is_active=True)
    out = StringIO()
    call_command("demo", "--customers", "2000", "--quiet", stdout=out)
    count = Assessment.objects.count()
    answers = AssessmentAnswer.objects.count()
    items = questionnaire.items.count()
    assert count > 100 and answers == count * items
    text = out.getvalue()
    assert f"{count:,}" in text and f"{answers:,}" in text and "stage assessments" in text
    rows = Event.objects.get(kind="demo.generated").data["rows"]
    assert rows["assessment"] == count and rows["assessment_answer"] == answers
    assert set(Assessment.objects.values_list("questionnaire", flat=True)) == {questionnaire.pk}
    assert set(Assessment.objects.values_list("customer__customer_type", flat=True)) == {
        "business",
        "channel",
    }
    assert questionnaire.is_locked
    connection.check_constraints()

    # The stored score and stage are what the answers and the questionnaire's bands give.
    bands = BandSet(ScoreBand.objects.filter(questionnaire=questionnaire))
    scores: dict[int, list[int]] = collections.defaultdict(list)
    for assessment, score in AssessmentAnswer.objects.values_list("assessment", "score"):
        scores[assessment].append(score)
    for pk, mean, stage in Assessment.objects.values_list("pk", "mean_score", "stage"):
        assert len(scores[pk]) == items
        assert mean == pytest.approx(sum(scores[pk]) / items, abs=1e-12)
        assert stage == bands.stage(mean)

    # Where the relationships stand on the demo's reference date: all four stages, some gaps.
    stages = partnership_stages(as_of=AS_OF).to_pydict()
    assert set(stages["partnership_stage"]) == set(STAGES)
    assert any(stages["perception_gap"])
    assert any(stages["partnership_stage_customer"])
    gap = stages["customer_id"][stages["perception_gap"].index(True)]
    view = relationship_assessment(gap, as_of=AS_OF)
    assert view.perception_gap and view.stage_difference != 0
    assert view.customer_assessment is not None and view.customer_assessment.rater is None
    assert all(a.rater.email.endswith("@example.com") for a in view.company_assessments)

    call_command("demo", "--customers", "300", "--flush", "--quiet", stdout=StringIO())
    latest = Event.objects.filter(kind="demo.generated").latest("id").data["rows"]
    assert Assessment.objects.count() == latest["assessment"] < count
    assert AssessmentAnswer.objects.count() == latest["assessment_answer"]
    flushed = Event.objects.filter(kind="demo.flushed").latest("id").data["deleted"]
    assert flushed["assessments.Assessment"] == count
    assert flushed["assessments.AssessmentAnswer"] == answers
    assert "assessments.Questionnaire" not in flushed
    questionnaire.refresh_from_db()
    assert questionnaire.is_active and questionnaire.items.count() == items
    first = Assessment.objects.order_by("id").values_list("id", flat=True).first()
    assert first in (None, 1)  # numbered from the first free id again
    assert not Assessment.objects.exclude(customer__in=Customer.objects.all()).exists()
    connection.check_constraints()
