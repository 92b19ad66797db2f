"""The demo's bonds: financial, social and structural ties that follow the hidden level."""

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from io import StringIO

import numpy as np
import pyarrow as pa
import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Min

from guanxi.core.choices import Role
from guanxi.core.models import Event
from guanxi.demo import generator, params
from guanxi.demo.generator import CHUNK_TABLES, TABLES, DemoGenerator
from guanxi.engagement.services import DEFAULT_RESOLUTION_TIME
from guanxi.hierarchy.choices import BOND_KIND_OF, BondInstrument, BondKind
from guanxi.hierarchy.models import Bond
from guanxi.sales.models import Order
from tests.demo.conftest import AS_OF

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class Simulated:
    """Every chunk table, plus the hidden traits of the customers behind the bonds."""

    tables: dict[str, pa.Table]
    ids: np.ndarray
    kind: np.ndarray
    level: np.ndarray
    first_day: np.ndarray  # epoch day of each customer's first order; -1 for prospects


def _simulate(monkeypatch: pytest.MonkeyPatch, customers: int, seed: int) -> Simulated:
    """Run the generator without a database, keeping the hidden traits bonds_draw is given."""
    seen: list[tuple] = []
    draw = generator.bonds_draw

    def spy(rng, population, purchases, **kwargs):
        seen.append((population, purchases))
        return draw(rng, population, purchases, **kwargs)

    monkeypatch.setattr(generator, "bonds_draw", spy)
    demo = DemoGenerator(
        customers=customers,
        seed=seed,
        as_of=AS_OF,
        first_ids=dict.fromkeys(TABLES, 1),
        group_ids={name: i for i, name in enumerate(Role.values, 1)},
        password_hash="!",
        deadlines={str(s): int(d.total_seconds()) for s, d in DEFAULT_RESOLUTION_TIME.items()},
    )
    parts: dict[str, list[pa.Table]] = {name: [] for name in CHUNK_TABLES}
    for chunk in demo.chunks():
        for name in CHUNK_TABLES:
            parts[name].append(chunk.tables[name])
    first_days = []
    for population, purchases in seen:
        first = np.full(len(population.ids), -1, dtype=np.int64)
        first[population.buyer] = demo.window.start_epoch_day + np.floor(
            population.first_purchase[population.buyer]
        ).astype(np.int64)
        assert (purchases.last_day[population.buyer] >= 0).all()
        first_days.append(first)
    return Simulated(
        tables={name: pa.concat_tables(tables) for name, tables in parts.items()},
        ids=np.concatenate([p.ids for p, _ in seen]),
        kind=np.concatenate([p.kind for p, _ in seen]),
        level=np.concatenate([p.level for p, _ in seen]),
        first_day=np.concatenate(first_days),
    )


@pytest.fixture(scope="module")
def simulated() -> Simulated:
    """6,000 customers (seed 11) in chunks of 2,500, so ids run on across chunks."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(generator, "CHUNK_SIZE", 2_500)
        return _simulate(monkeypatch, 6_000, 11)


def _epoch_days(column: pa.ChunkedArray) -> np.ndarray:
    return column.cast(pa.int32()).to_numpy(zero_copy_only=False).astype(np.int64)


def test_bonds_come_after_the_surveys_in_the_chunk_tables():
    assert CHUNK_TABLES.index("bond") == CHUNK_TABLES.index("survey") + 1


def test_the_same_seed_gives_the_same_bonds_and_another_seed_others(monkeypatch, simulated):
    monkeypatch.setattr(generator, "CHUNK_SIZE", 2_500)
    again = _simulate(monkeypatch, 6_000, 11)
    assert again.tables["bond"].equals(simulated.tables["bond"])
    other = _simulate(monkeypatch, 6_000, 12)
    assert not other.tables["bond"].equals(simulated.tables["bond"])


def test_bonds_draw_from_their_own_stream_and_leave_the_other_tables_alone(monkeypatch, simulated):
    """Without the bond stage every other table comes out exactly the same."""
    monkeypatch.setattr(generator, "CHUNK_SIZE", 2_500)
    empty = simulated.tables["bond"].slice(0, 0)
    monkeypatch.setattr(generator, "bonds_draw", lambda *args, **kwargs: empty)
    demo = DemoGenerator(
        customers=6_000,
        seed=11,
        as_of=AS_OF,
        first_ids=dict.fromkeys(TABLES, 1),
        group_ids={name: i for i, name in enumerate(Role.values, 1)},
        password_hash="!",
        deadlines={str(s): int(d.total_seconds()) for s, d in DEFAULT_RESOLUTION_TIME.items()},
    )
    chunks = list(demo.chunks())
    for name in CHUNK_TABLES:
        if name != "bond":
            without = pa.concat_tables([chunk.tables[name] for chunk in chunks])
            assert without.equals(simulated.tables[name]), name


def test_ids_run_on_and_rows_are_ordered_by_customer_and_start(simulated):
    bonds = simulated.tables["bond"]
    assert bonds.num_rows > 500
    assert bonds.column("id").to_pylist() == list(range(1, bonds.num_rows + 1))
    customer = bonds.column("customer_id").to_numpy()
    start = _epoch_days(bonds.column("started_on"))
    key = customer * 100_000 + start
    assert (np.diff(key) >= 0).all()


def test_every_kind_matches_its_instrument(simulated):
    bonds = simulated.tables["bond"]
    instruments = bonds.column("instrument").to_pylist()
    kinds = bonds.column("kind").to_pylist()
    assert set(instruments) <= set(BondInstrument.values)
    assert all(kind == BOND_KIND_OF[i] for i, kind in zip(instruments, kinds, strict=True))
    assert set(kinds) == set(BondKind.values)
    assert len(set(instruments)) == len(BondInstrument.values)  # every instrument shows up


def test_bonds_start_after_the_first_purchase_and_end_after_they_start(simulated):
    bonds = simulated.tables["bond"]
    position = np.searchsorted(simulated.ids, bonds.column("customer_id").to_numpy())
    first = simulated.first_day[position]
    assert (first >= 0).all()  # only buyers have bonds
    start = _epoch_days(bonds.column("started_on"))
    as_of = (AS_OF - EPOCH).days
    assert (start >= first).all() and (start <= as_of).all()
    ended_on = bonds.column("ended_on")
    ended = ended_on.is_valid().to_numpy(zero_copy_only=False)
    end = _epoch_days(ended_on.fill_null(0))
    assert (end[ended] >= start[ended]).all() and (end[ended] <= as_of).all()
    # Some memberships lapsed and contracts expired; most ties still hold.
    assert 0.1 < ended.mean() < 0.5
    # Some customers joined the loyalty programme at the till, on the day of their first order.
    assert (start == first).mean() > 0.1
    created = bonds.column("created_at").to_pylist()
    assert all(
        c.astimezone(SHANGHAI).date() == EPOCH + dt.timedelta(days=int(s))
        for c, s in zip(created, start, strict=True)
    )


def _any_share(simulated: Simulated, select: np.ndarray) -> float:
    holders = np.isin(simulated.ids, simulated.tables["bond"].column("customer_id").to_numpy())
    return float(holders[select].mean())


def _kind_share(simulated: Simulated, select: np.ndarray, kind: str) -> float:
    bonds = simulated.tables["bond"]
    of_kind = np.array(bonds.column("kind").to_pylist()) == kind
    holders = np.isin(simulated.ids, bonds.column("customer_id").to_numpy()[of_kind])
    return float(holders[select].mean())


def test_the_higher_the_level_the_more_customers_hold_a_bond(simulated):
    shares = [_any_share(simulated, simulated.level == level) for level in range(5)]
    assert shares == sorted(shares)
    assert shares[params.BASIC] < 0.05
    assert shares[params.PARTNERSHIP] > 0.75
    assert shares[params.PARTNERSHIP] > 15 * shares[params.BASIC]


def test_consumers_get_financial_bonds_organisations_social_and_structural_ones(simulated):
    kind, level = simulated.kind, simulated.level
    consumer, organisation, internal = kind == 0, (kind == 1) | (kind == 2), kind == 3
    assert _kind_share(simulated, consumer, "structural") == 0
    assert _kind_share(simulated, consumer, "financial") > 2 * _kind_share(
        simulated, consumer, "social"
    )
    high = organisation & (level >= params.PROACTIVE)
    low = organisation & (level <= params.REACTIVE)
    for bond_kind in ("social", "structural"):
        assert _kind_share(simulated, high, bond_kind) > 4 * _kind_share(simulated, low, bond_kind)
    assert _kind_share(simulated, high, "structural") > 0.25
    assert _any_share(simulated, internal) < 0.15


@pytest.mark.django_db
def test_the_command_writes_the_bonds_and_flush_removes_them():
    out = StringIO()
    call_command("demo", "--customers", "2000", "--quiet", stdout=out)
    bonds = Bond.objects.count()
    assert bonds > 200
    assert f"{bonds:,}" in out.getvalue() and "bonds" in out.getvalue()
    assert Event.objects.get(kind="demo.generated").data["rows"]["bond"] == bonds
    assert not Bond.objects.exclude(customer__external_id__startswith="DEMO-").exists()
    for instrument, kind in Bond.objects.values_list("instrument", "kind").distinct():
        assert kind == BOND_KIND_OF[instrument]
    first_order = dict(
        Order.objects.values("customer")
        .annotate(first=Min("placed_at"))
        .values_list("customer", "first")
    )
    rows = Bond.objects.values_list("customer_id", "started_on", "ended_on", "recorded_by__email")
    for customer, started_on, ended_on, recorder in rows:
        assert first_order[customer].astimezone(SHANGHAI).date() <= started_on <= AS_OF
        assert ended_on is None or started_on <= ended_on <= AS_OF
        assert recorder is None or recorder.endswith("@example.com")
    assert Bond.objects.filter(ended_on__isnull=True).exists()
    assert Bond.objects.filter(ended_on__isnull=False).exists()
    connection.check_constraints()

    call_command("demo", "--customers", "300", "--flush", "--quiet", stdout=StringIO())
    latest = Event.objects.filter(kind="demo.generated").latest("id")
    assert 0 < Bond.objects.count() == latest.data["rows"]["bond"] < bonds
    flushed = Event.objects.filter(kind="demo.flushed").latest("id").data["deleted"]
    assert flushed["hierarchy.Bond"] == bonds
    # The new demo's bonds were numbered from the first free id again.
    assert Bond.objects.order_by("id").values_list("id", flat=True).first() == 1
    connection.check_constraints()
