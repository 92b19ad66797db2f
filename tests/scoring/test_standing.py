"""A scoring run places every customer in the hierarchy; history and migration between runs."""

import datetime as dt

import pytest

from guanxi.engagement.models import Case, Interaction
from guanxi.hierarchy.models import HierarchyPolicy
from guanxi.hierarchy.selectors import (
    distribution,
    gap_at_stake,
    level_evidence,
    migration_matrix,
)
from guanxi.hierarchy.services import bond_record
from guanxi.parties.models import Customer
from guanxi.sales.models import Order, OrderLine
from guanxi.scoring import services as scoring_services
from guanxi.scoring.models import CustomerScore, ScoreChange, ScoringRun
from guanxi.scoring.services import scoring_run_execute
from tests.scoring.test_services import AS_OF, SHANGHAI, _store

pytestmark = pytest.mark.django_db


def _at(days_before_as_of: int, hour: int = 10) -> dt.datetime:
    day = AS_OF - dt.timedelta(days=days_before_as_of)
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def _interaction(customer, days_ago, direction, purpose, n=[0]):  # noqa: B006 — a counter
    n[0] += 1
    return Interaction.objects.create(
        external_id=f"I-{n[0]}",
        customer=customer,
        occurred_at=_at(days_ago),
        channel="meeting" if purpose == "joint_work" else "phone",
        direction=direction,
        service_phase="after_sale",
        purpose=purpose,
    )


def _buyer(name: str, product, *, late: bool = False) -> Customer:
    """A business customer with four delivered purchases over the last year."""
    customer = Customer.objects.create(external_id=name, name=name, customer_type="business")
    for i, days_ago in enumerate((300, 200, 100, 40)):
        placed = _at(days_ago)
        promised = placed.date() + dt.timedelta(days=3)
        order = Order.objects.create(
            customer=customer,
            external_id=f"{name}-{i}",
            placed_at=placed,
            status="delivered",
            promised_delivery_on=promised,
            delivered_on=promised + dt.timedelta(days=4 if late else 0),
        )
        OrderLine.objects.create(
            order=order,
            line_no=1,
            product=product,
            quantity=5,
            unit_price_cents=200_000,
            unit_cost_cents=100_000,
        )
    return customer


@pytest.fixture
def hierarchy(product):
    """The 300-customer store plus four hand-made business customers."""
    _store()
    partner = _buyer("PARTNER", product)
    for days_ago in (250, 150, 60):
        _interaction(partner, days_ago, "outbound", "joint_work")
    careful = _buyer("CAREFUL", product)
    for days_ago in (300, 200, 100, 40):
        _interaction(careful, days_ago - 2, "outbound", "follow_up")
    neglected_star = _buyer("LATE-STAR", product, late=True)
    for days_ago in (330, 240, 150, 60):
        _interaction(neglected_star, days_ago, "outbound", "advice")
    bond_record(customer=careful, instrument="support_contract", started_on=_at(200).date())
    bond_record(
        customer=careful,
        instrument="club",
        started_on=_at(300).date(),
        ended_on=_at(100).date(),  # lapsed before as_of: not counted
    )
    return {"partner": partner, "careful": careful, "late": neglected_star}


def test_every_customer_gets_a_level_a_recommendation_a_gap_and_a_foundation(hierarchy):
    run = scoring_run_execute(as_of=AS_OF)
    scores = {s.customer_id: s for s in CustomerScore.objects.filter(run=run)}
    assert len(scores) == Customer.objects.count()

    partner = scores[hierarchy["partner"].pk]
    assert (partner.actual_level, partner.level_reason) == ("partnership", "joint_work")
    assert partner.level_joint_work == 3
    assert [i.purpose for i in level_evidence(partner)] == ["joint_work"] * 3

    careful = scores[hierarchy["careful"].pk]
    assert careful.actual_level == "accountable"
    assert (careful.level_purchases_judged, careful.level_purchases_followed) == (4, 4)
    assert (careful.bonds_structural, careful.bonds_social, careful.bonds_financial) == (1, 0, 0)

    late = scores[hierarchy["late"].pk]
    assert late.actual_level == "proactive"
    assert late.foundation_health == "at_risk" and late.health_reasons == "late_delivery"
    assert late.on_time_share == 0.0 and late.deliveries == 4
    assert late.health_alert, "a failing foundation at a proactive level is flagged loudest"
    assert careful.foundation_health == "ok" and not careful.health_alert

    # The hand-made customers are the only business ones: few customers, high margin.
    assert careful.segment.startswith("business/")
    assert careful.segment_size == "few"
    assert {s.recommended_level for s in scores.values()} >= {"basic"}
    for s in scores.values():
        order = ["basic", "reactive", "accountable", "proactive", "partnership"]
        expected = (
            "under_served"
            if order.index(s.recommended_level) > order.index(s.actual_level)
            else "over_served"
            if order.index(s.recommended_level) < order.index(s.actual_level)
            else "on_target"
        )
        assert s.level_gap == expected

    assert run.policy == HierarchyPolicy.current().to_policy().to_dict()
    layers = distribution(run, "actual_level")
    assert sum(c.customers for c in layers.values()) == len(scores)
    assert layers["partnership"].customers == 1
    stake = gap_at_stake(run)
    assert sum(g["customers"] for g in stake.values()) == len(scores)


def test_the_policy_is_read_from_the_admin_row(hierarchy):
    policy = HierarchyPolicy.current()
    policy.partnership_min_joint_work = 5
    policy.save()
    run = scoring_run_execute(as_of=AS_OF)
    partner = CustomerScore.objects.get(run=run, customer=hierarchy["partner"])
    assert partner.actual_level != "partnership"
    assert run.policy["partnership_min_joint_work"] == 5


def test_changes_between_runs_are_recorded_and_counted(hierarchy, product):
    first = scoring_run_execute(as_of=AS_OF)
    assert not ScoreChange.objects.exists(), "nothing to compare the first run with"

    careful = hierarchy["careful"]
    _interaction(careful, 5, "outbound", "joint_work")
    _interaction(careful, 3, "inbound", "joint_work")
    Case.objects.filter(customer=careful).delete()
    newcomer = Customer.objects.create(external_id="NEW", name="New", customer_type="consumer")
    second = scoring_run_execute(as_of=AS_OF)

    change = ScoreChange.objects.get(run=second, customer=careful, measure="actual_level")
    assert (change.from_value, change.to_value, change.previous_run) == (
        "accountable",
        "partnership",
        first,
    )
    # A newcomer: every measure with a value (a consumer has no partnership stage).
    arrived = ScoreChange.objects.filter(run=second, customer=newcomer, from_value="")
    assert arrived.count() == 6
    assert not arrived.filter(measure="partnership_stage").exists()
    assert (
        second.metadata["changes"]["actual_level"]
        == ScoreChange.objects.filter(run=second, measure="actual_level").count()
    )

    matrix = migration_matrix(from_run=first, to_run=second, measure="actual_level")
    assert matrix.cell("accountable", "partnership").customers == 1
    assert matrix.entered == 1 and matrix.left == 0
    assert matrix.moved == 1
    assert matrix.cell("partnership", "partnership").customers == 1
    total = sum(c.customers for c in matrix.cells.values())
    assert total == CustomerScore.objects.filter(run=first).count()
    expected_profit = sum(
        CustomerScore.objects.filter(run=second, customer__scores__run=first).values_list(
            "profit_cents", flat=True
        )
    )
    assert sum(c.profit_cents for c in matrix.cells.values()) == expected_profit


def test_a_run_failing_while_storing_leaves_no_scores_and_no_changes(hierarchy, monkeypatch):
    scoring_run_execute(as_of=AS_OF)

    def broken(run):
        raise RuntimeError("disk full")

    monkeypatch.setattr(scoring_services, "score_changes_record", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        scoring_run_execute(as_of=AS_OF)
    failed = ScoringRun.objects.get(status="failed")
    assert "disk full" in failed.error
    assert not CustomerScore.objects.filter(run=failed).exists()
    assert not ScoreChange.objects.exists()


def test_the_run_issues_the_playbooks_tasks_for_the_new_standing(hierarchy):
    from guanxi.playbooks.models import Task

    run = scoring_run_execute(as_of=AS_OF)
    assert run.metadata["playbooks"]["today"] == "2025-07-01"
    assert run.metadata["playbooks"]["created"] == Task.objects.count() > 0
    late = Task.objects.filter(customer=hierarchy["late"], status="open")
    assert any("foundation" in t.reason_key for t in late), [t.reason_key for t in late]
    again = scoring_run_execute(as_of=AS_OF)
    assert again.metadata["playbooks"]["created"] == 0, "no second open task for the same reason"
