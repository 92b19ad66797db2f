"""The generated demo company tells the story docs/demo.md promises (read-only tests)."""

import datetime as dt
import re
import zoneinfo
from collections import Counter
from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, F, Max, Min, Q, Sum

from guanxi.core.models import Event, StaffProfile, Team
from guanxi.engagement.models import Case, Interaction, SurveyResponse
from guanxi.parties.models import Contact, Customer
from guanxi.sales.choices import PURCHASE_STATUSES
from guanxi.sales.models import LINE_PROFIT, Order, OrderLine, Product
from tests.demo.conftest import AS_OF, STORY_CUSTOMERS

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("story")]

FEEDBACK_CHANNELS = ("hotline", "feedback_card", "web_form")


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def test_customer_types_come_in_the_designed_proportions():
    counts = Counter(Customer.objects.values_list("customer_type", flat=True))
    assert sum(counts.values()) == STORY_CUSTOMERS
    assert 0.80 <= _share(counts["consumer"], STORY_CUSTOMERS) <= 0.90
    assert 0.07 <= _share(counts["business"], STORY_CUSTOMERS) <= 0.13
    assert 0.02 <= _share(counts["channel"], STORY_CUSTOMERS) <= 0.07
    assert 0 < counts["internal"] <= 0.03 * STORY_CUSTOMERS


def test_customers_look_like_a_chinese_company_s_customers():
    names = list(Customer.objects.values_list("name", flat=True))
    chinese = [n for n in names if re.search(r"[\u4e00-\u9fff]", n)]
    assert 0.6 * len(names) < len(chinese) < len(names)  # mostly Chinese, some English names
    phones = Customer.objects.exclude(phone="").values_list("phone", flat=True)
    assert phones.count() > 0.8 * STORY_CUSTOMERS
    assert all(re.fullmatch(r"1[3-9]\d{9}", p) for p in phones)
    emails = Customer.objects.exclude(email="").values_list("email", flat=True)
    assert all(re.fullmatch(r"[^@\s]+@example\.(com|net|org)", e) for e in emails)
    assert Customer.objects.exclude(wechat_id="").count() > 0.4 * STORY_CUSTOMERS
    assert Customer.objects.exclude(address="").count() > 0.7 * STORY_CUSTOMERS
    consent = Customer.objects.filter(marketing_consent=True).count()
    assert 0.5 <= _share(consent, STORY_CUSTOMERS) <= 0.7
    assert set(Customer.objects.values_list("region", flat=True)) >= {
        "华东",
        "华北",
        "华南",
        "西南",
    }
    assert Customer.objects.filter(tags__isnull=False).distinct().count() > 0.3 * STORY_CUSTOMERS


def test_organisations_have_owners_and_contacts_consumers_are_mostly_in_the_pool():
    organisations = Customer.objects.filter(customer_type__in=["business", "channel"])
    assert organisations.filter(owner__isnull=True).count() < 0.1 * organisations.count()
    consumers = Customer.objects.filter(customer_type="consumer")
    owned = consumers.filter(owner__isnull=False).count()
    assert 0 < owned < 0.3 * consumers.count()
    assert not Contact.objects.exclude(customer__customer_type__in=["business", "channel"]).exists()
    per_customer = organisations.annotate(
        people=Count("contacts"), primaries=Count("contacts", filter=Q(contacts__is_primary=True))
    )
    assert all(c.people >= 1 and c.primaries == 1 for c in per_customer)


def test_staff_teams_and_the_demo_login():
    user_model = get_user_model()
    demo = user_model.objects.get(username="demo")
    assert demo.is_superuser and demo.groups.filter(name="admin").exists()
    assert authenticate(username="demo", password="guanxi-demo") == demo
    for role in ("manager", "sales", "service", "analyst"):
        assert user_model.objects.filter(groups__name=role).exists(), role
    assert 2 <= Team.objects.count() <= 4
    assert StaffProfile.objects.count() == user_model.objects.count()
    assert StaffProfile.objects.filter(team__isnull=False).count() >= user_model.objects.count() - 1
    names = user_model.objects.values_list("first_name", flat=True)
    assert {"王芳", "李伟"} <= set(names)
    assert all(
        e.endswith("@example.com") for e in user_model.objects.values_list("email", flat=True)
    )


def test_products_span_low_margin_commodities_and_high_margin_lines():
    assert 50 <= Product.objects.count() <= 200
    margins = {}
    for category in Product.objects.values_list("category", flat=True).distinct():
        rows = Product.objects.filter(category=category)
        price = sum(rows.values_list("unit_price_cents", flat=True))
        cost = sum(rows.values_list("unit_cost_cents", flat=True))
        margins[category] = 1 - cost / price
    assert len(margins) >= 5
    assert min(margins.values()) < 0.25 < 0.5 < max(margins.values())


def test_orders_are_mostly_delivered_some_cancelled_returned_or_late():
    orders = Order.objects.count()
    statuses = Counter(Order.objects.values_list("status", flat=True))
    assert _share(statuses["delivered"], orders) > 0.85
    assert 0.02 <= _share(statuses["cancelled"] + statuses["returned"], orders) <= 0.06
    assert statuses["cancelled"] and statuses["returned"]
    delivered = Order.objects.filter(delivered_on__isnull=False)
    late = delivered.filter(delivered_on__gt=F("promised_delivery_on")).count()
    assert 0.02 < _share(late, delivered.count()) < 0.15
    assert Order.objects.filter(channel="online").exists()
    assert Order.objects.filter(channel="offline").exists()


def test_baskets_are_bigger_for_organisations():
    def lines_per_order(kind: str) -> float:
        orders = Order.objects.filter(customer__customer_type=kind)
        return OrderLine.objects.filter(order__in=orders).count() / orders.count()

    assert 1.8 <= lines_per_order("consumer") <= 3.2
    assert lines_per_order("business") > lines_per_order("consumer") + 0.8
    per_buyer = {
        kind: Order.objects.filter(customer__customer_type=kind).count()
        / Customer.objects.filter(customer_type=kind, orders__isnull=False).distinct().count()
        for kind in ("consumer", "business", "channel")
    }
    assert (
        per_buyer["channel"] > per_buyer["consumer"]
        and per_buyer["business"] > per_buyer["consumer"]
    )


def test_prospects_have_no_orders_and_first_purchases_spread_over_the_years():
    prospects = Customer.objects.filter(orders__isnull=True)
    assert 0.03 * STORY_CUSTOMERS < prospects.count() < 0.2 * STORY_CUSTOMERS
    first = (
        Order.objects.values("customer")
        .annotate(first=Min("placed_at"))
        .values_list("first", flat=True)
    )
    years = Counter(f.year for f in first)
    assert len(years) >= 3


def test_nothing_happens_after_the_reference_date():
    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    end = dt.datetime.combine(AS_OF + dt.timedelta(days=1), dt.time(), tzinfo=shanghai)
    start = dt.datetime.combine(AS_OF.replace(year=AS_OF.year - 3), dt.time(), tzinfo=shanghai)
    checks = [
        (Order, "placed_at"),
        (Interaction, "occurred_at"),
        (Case, "opened_at"),
        (Case, "resolved_at"),
        (Case, "closed_at"),
        (SurveyResponse, "answered_at"),
        (Customer, "created_at"),
    ]
    for model, field in checks:
        bounds = model.objects.aggregate(first=Min(field), last=Max(field))
        assert start <= bounds["first"] and bounds["last"] < end, (model.__name__, field, bounds)
    assert Order.objects.aggregate(last=Max("delivered_on"))["last"] <= AS_OF


def _after_sale_contacts() -> dict[int, set[str]]:
    """For each customer, which kinds of after-sale contact they had."""
    kinds: dict[int, set[str]] = {}
    rows = Interaction.objects.values_list("customer_id", "direction", "purpose", "channel")
    for customer, direction, purpose, channel in rows:
        if direction == "inbound" and channel in FEEDBACK_CHANNELS:
            kinds.setdefault(customer, set()).add("inbound_feedback")
        elif direction == "outbound":
            kinds.setdefault(customer, set()).add(purpose)
    return kinds


def test_every_relationship_level_leaves_its_pattern_in_the_interactions():
    kinds = _after_sale_contacts()
    buyers = set(Order.objects.values_list("customer_id", flat=True))
    # basic: buyers the company never contacted after a sale and who never wrote in
    assert len(buyers - set(kinds)) > 0.3 * len(buyers)
    # reactive: only inbound contact through the feedback channels
    assert sum(1 for k in kinds.values() if k == {"inbound_feedback"}) > 20
    # accountable: follow-up calls within 7 days after purchases
    follow_ups = Interaction.objects.filter(purpose="follow_up", direction="outbound")
    assert follow_ups.count() > 100
    assert all(
        dt.timedelta(0) < occurred - placed <= dt.timedelta(days=7)
        for occurred, placed in follow_ups.values_list("occurred_at", "order__placed_at")
    )
    # proactive: regular outbound advice and offers
    regular = (
        Interaction.objects.filter(direction="outbound", purpose__in=["advice", "offer"])
        .values("customer")
        .annotate(n=Count("id"))
        .filter(n__gte=3)
    )
    assert regular.count() > 20
    # partnership: joint work with business (and channel) customers only
    joint = Interaction.objects.filter(purpose="joint_work")
    assert joint.filter(customer__customer_type="business").exists()
    assert not joint.exclude(customer__customer_type__in=["business", "channel"]).exists()
    assert set(joint.values_list("channel", flat=True)) <= {"meeting", "visit"}


def test_valuable_customers_are_sometimes_under_served_and_cheap_ones_over_served():
    lines = OrderLine.objects.filter(order__status__in=PURCHASE_STATUSES)
    profit = dict(
        lines.values("order__customer")
        .annotate(p=Sum(LINE_PROFIT))
        .values_list("order__customer", "p")
    )
    ranked = sorted(profit, key=lambda c: (-profit[c], c))
    top, bottom = ranked[: len(ranked) // 10], ranked[len(ranked) // 2 :]
    kinds = _after_sale_contacts()
    outbound = {"follow_up", "advice", "offer", "joint_work"}
    neglected = [c for c in top if not (kinds.get(c, set()) & outbound)]
    pampered = [c for c in bottom if kinds.get(c, set()) & {"advice", "offer"}]
    assert 0 < len(neglected) < len(top) // 2
    assert pampered
    partners = {c for c, k in kinds.items() if "joint_work" in k}
    assert len(partners & set(top)) > len(partners & set(bottom))


def test_cases_cover_the_lifecycle_and_one_owner_is_late_more_often():
    statuses = Counter(Case.objects.values_list("status", flat=True))
    assert set(statuses) == {"open", "in_progress", "resolved", "closed"}
    assert set(Case.objects.values_list("kind", flat=True)) == {"complaint", "feedback", "question"}
    assert {"dissatisfied", "satisfied", "very_satisfied"} <= set(
        Case.objects.values_list("satisfaction", flat=True)
    )
    resolved = Case.objects.filter(resolved_at__isnull=False)
    assert resolved.filter(first_response_at__isnull=False).count() == resolved.count()
    late = resolved.filter(resolved_at__gt=F("due_at")).count()
    assert 0.05 < _share(late, resolved.count()) < 0.5
    per_owner = resolved.values("owner__username").annotate(
        n=Count("id"), late=Count("id", filter=Q(resolved_at__gt=F("due_at")))
    )
    shares = {r["owner__username"]: r["late"] / r["n"] for r in per_owner}
    assert shares["sun.li"] > 2 * max(v for k, v in shares.items() if k != "sun.li")


def test_survey_scores_follow_satisfaction():
    def mean_csat(satisfaction: str) -> float:
        scores = SurveyResponse.objects.filter(
            case__satisfaction=satisfaction, csat__isnull=False
        ).values_list("csat", flat=True)
        return sum(scores) / len(scores)

    assert mean_csat("dissatisfied") + 1.5 < mean_csat("satisfied") < mean_csat("very_satisfied")
    assert SurveyResponse.objects.filter(nps__isnull=False, case__isnull=True).exists()


def test_one_summary_event_records_the_counts(story):
    event = Event.objects.get(kind="demo.generated")
    assert event.data["customers"] == STORY_CUSTOMERS
    assert (
        event.data["rows"]["order_line"] == OrderLine.objects.count() == story.counts["order_line"]
    )
    assert event.data["as_of"] == AS_OF.isoformat()
    assert Event.objects.count() == 1  # no event per row


def test_new_rows_get_fresh_ids_after_the_bulk_load():
    from guanxi.parties.services import customer_create

    top = Customer.objects.aggregate(top=Max("id"))["top"]
    customer = customer_create(external_id="REAL-1", name="Real customer", customer_type="consumer")
    assert customer.id > top
    connection.check_constraints()


def test_a_second_run_without_flush_is_refused_or_kept():
    with pytest.raises(CommandError, match="--flush"):
        call_command("demo", "--customers", "100", "--quiet")
    out = StringIO()
    call_command("demo", "--customers", "100", "--keep-existing", stdout=out)
    assert "kept" in out.getvalue() and "guanxi-demo" in out.getvalue()
    assert Customer.objects.count() == STORY_CUSTOMERS
