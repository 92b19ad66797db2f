import datetime as dt
import time

import pyarrow as pa
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from guanxi.assessments.models import Assessment
from guanxi.assessments.selectors import (
    PARTNERSHIP_STAGES_SCHEMA,
    partnership_stages,
    relationship_assessment,
    validity_window,
)
from guanxi.assessments.services import questionnaire_activate, questionnaire_new_version

from .conftest import AS_OF

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def test_each_role_counts_with_its_latest_assessment_in_the_window(customer, record):
    # Marketing staff answered twice: the later answer replaces the earlier.
    record(customer, "marketing_staff", 1, on=AS_OF - 200 * DAY)
    marketing = record(customer, "marketing_staff", 3, on=AS_OF - 10 * DAY)
    # Two on the same day: the one recorded last counts.
    record(customer, "sales_manager", 5, on=AS_OF - 5 * DAY)
    sales = record(customer, "sales_manager", 2, on=AS_OF - 5 * DAY)
    # The senior manager's answer has lapsed (older than the window).
    record(customer, "senior_manager", 5, on=AS_OF - 366 * DAY)
    # Answered after the as-of date: not yet known on it.
    record(customer, "senior_manager", 5, on=AS_OF + 3 * DAY)

    view = relationship_assessment(customer, as_of=AS_OF)
    assert view.latest == {"marketing_staff": marketing, "sales_manager": sales}
    assert view.company_assessments == [marketing, sales]
    assert view.company_score == pytest.approx(2.5)  # mean of 3.0 and 2.0
    assert view.company_stage == "cooperative"
    assert view.customer_score is None and view.customer_stage is None
    assert view.customer_assessment is None
    assert view.perception_gap is False and view.stage_difference is None

    later = relationship_assessment(customer, as_of=AS_OF + 3 * DAY)
    assert later.latest["senior_manager"].mean_score == 5
    assert later.company_score == pytest.approx((3 + 2 + 5) / 3)
    assert later.company_stage == "interdependent"


def test_the_window_edge_and_its_setting(customer, record):
    record(customer, "marketing_staff", 4, on=AS_OF - 365 * DAY)
    assert validity_window(AS_OF) == (AS_OF - 365 * DAY, AS_OF)
    assert relationship_assessment(customer, as_of=AS_OF).company_stage == "integrated"
    assert relationship_assessment(customer, as_of=AS_OF + DAY).company_stage is None
    with override_settings(GUANXI_ASSESSMENT_VALIDITY_DAYS=180):
        assert relationship_assessment(customer, as_of=AS_OF).latest == {}


def test_the_company_stage_is_the_band_of_the_mean_of_the_roles(customer, record):
    record(customer, "marketing_staff", (1, 2), on=AS_OF - DAY)  # 1.5, basic on its own
    record(customer, "sales_manager", (2, 3), on=AS_OF - DAY)  # 2.5
    record(customer, "senior_manager", 3, on=AS_OF - DAY)  # 3.0, interdependent on its own
    view = relationship_assessment(customer, as_of=AS_OF)
    assert view.company_score == pytest.approx(7 / 3)
    assert view.company_stage == "cooperative"


def test_a_perception_gap_is_flagged_when_the_stages_differ(customer, record):
    record(customer, "sales_manager", 4, on=AS_OF - 20 * DAY)  # integrated
    record(customer, "senior_manager", (3, 4), on=AS_OF - 20 * DAY)  # 3.5
    own = record(customer, "customer", 2, on=AS_OF - 15 * DAY, rater_name="Mr Li")
    view = relationship_assessment(customer, as_of=AS_OF)
    assert view.company_score == pytest.approx(3.75)
    assert (view.company_stage, view.customer_stage) == ("interdependent", "cooperative")
    assert view.customer_assessment == own and own.rater_display == "Mr Li"
    assert view.stage_difference == 1
    assert view.perception_gap is True


def test_no_perception_gap_when_the_stages_agree_or_one_side_is_missing(make_customer, record):
    agree = make_customer()
    record(agree, "marketing_staff", 3, on=AS_OF - DAY)
    record(agree, "customer", (3, 4), on=AS_OF - DAY)  # 3.5: same stage, different score
    view = relationship_assessment(agree, as_of=AS_OF)
    assert view.company_stage == view.customer_stage == "interdependent"
    assert view.perception_gap is False and view.stage_difference == 0

    only_customer = make_customer()
    record(only_customer, "customer", 5, on=AS_OF - DAY)
    view = relationship_assessment(only_customer, as_of=AS_OF)
    assert view.company_stage is None and view.customer_stage == "integrated"
    assert view.perception_gap is False


def test_nothing_in_the_window_gives_an_empty_view(customer):
    view = relationship_assessment(customer, as_of=AS_OF)
    assert view.latest == {} and view.company_stage is None and not view.perception_gap


def test_the_company_stage_uses_the_bands_of_the_newest_company_answer(
    customer, questionnaire, record
):
    record(customer, "marketing_staff", (2, 3), on=AS_OF - 30 * DAY)  # 2.5 on v1
    v2 = questionnaire_new_version(questionnaire)
    from guanxi.assessments.services import questionnaire_bands_set

    questionnaire_bands_set(
        questionnaire=v2,
        bands=[("basic", 1, "1.5"), ("cooperative", "1.5", "2.5"), ("interdependent", "2.5", 5)],
    )
    questionnaire_activate(questionnaire=v2)
    record(customer, "sales_manager", (2, 3), on=AS_OF - DAY, q=v2)  # 2.5 on v2
    view = relationship_assessment(customer, as_of=AS_OF)
    assert view.latest["marketing_staff"].stage == "cooperative"
    assert view.latest["sales_manager"].stage == "interdependent"
    assert view.company_stage == "interdependent"  # v2's bands: the newest company answer


def test_partnership_stages_table(make_customer, record):
    gap, agree, own_only, company_only, lapsed, never = (make_customer() for _ in range(6))
    record(gap, "sales_manager", 4, on=AS_OF - DAY)
    record(gap, "customer", 1, on=AS_OF - DAY)
    record(agree, "marketing_staff", 2, on=AS_OF - 100 * DAY)
    record(agree, "senior_manager", 2, on=AS_OF - 50 * DAY)
    record(agree, "customer", (2, 3), on=AS_OF - 40 * DAY)
    record(own_only, "customer", 3, on=AS_OF - DAY)
    record(company_only, "marketing_staff", 1, on=AS_OF - DAY)
    record(lapsed, "marketing_staff", 5, on=AS_OF - 400 * DAY)
    assert never.pk

    with CaptureQueriesContext(connection) as queries:
        table = partnership_stages(as_of=AS_OF)
    assert len(queries) <= 2
    assert table.schema == PARTNERSHIP_STAGES_SCHEMA
    assert table.schema.field("customer_id").type == pa.int64()
    assert table.to_pylist() == [
        {
            "customer_id": gap.pk,
            "partnership_stage": "integrated",
            "partnership_stage_customer": "basic",
            "perception_gap": True,
        },
        {
            "customer_id": agree.pk,
            "partnership_stage": "cooperative",
            "partnership_stage_customer": "cooperative",
            "perception_gap": False,
        },
        {
            "customer_id": own_only.pk,
            "partnership_stage": "",
            "partnership_stage_customer": "interdependent",
            "perception_gap": False,
        },
        {
            "customer_id": company_only.pk,
            "partnership_stage": "basic",
            "partnership_stage_customer": "",
            "perception_gap": False,
        },
    ]
    # The selector for one customer agrees with the table.
    view = relationship_assessment(gap, as_of=AS_OF)
    assert (view.company_stage, view.customer_stage, view.perception_gap) == (
        "integrated",
        "basic",
        True,
    )


def test_partnership_stages_is_empty_without_assessments(db):
    table = partnership_stages(as_of=AS_OF)
    assert table.num_rows == 0 and table.schema == PARTNERSHIP_STAGES_SCHEMA


@pytest.mark.slow
def test_partnership_stages_scales_with_a_constant_number_of_queries(
    make_customer, questionnaire, record
):
    """Many assessments on many customers: the same two queries, in well under a few seconds."""
    from guanxi.parties.models import Customer

    Customer.objects.bulk_create(
        Customer(external_id=f"B-{n}", name=f"Bulk {n}", customer_type="business")
        for n in range(2000)
    )
    ids = list(Customer.objects.filter(external_id__startswith="B-").values_list("pk", flat=True))
    roles = ["marketing_staff", "sales_manager", "senior_manager", "customer"]
    stages = ["basic", "cooperative", "interdependent", "integrated"]
    rows = [
        Assessment(
            customer_id=ids[n % len(ids)],
            questionnaire=questionnaire,
            rater_role=roles[n % 4],
            answered_on=AS_OF - dt.timedelta(days=(n // 7) % 500),
            mean_score=1 + (n % 9) / 2,
            stage=stages[min(int((n % 9) / 2), 3)],
        )
        for n in range(20_000)
    ]
    Assessment.objects.bulk_create(rows, batch_size=2000)
    start = AS_OF - dt.timedelta(days=365)
    expected = sorted({a.customer_id for a in rows if a.answered_on >= start})
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        table = partnership_stages(as_of=AS_OF)
    elapsed = time.perf_counter() - started
    assert len(queries) <= 2
    assert table.column("customer_id").to_pylist() == expected
    assert elapsed < 5


def test_the_table_agrees_with_the_per_customer_selector_on_mixed_data(
    make_customer, questionnaire
):
    """Random raters, dates and two versions with different bands: both paths give the same."""
    import random

    from guanxi.assessments.services import questionnaire_bands_set

    v2 = questionnaire_new_version(questionnaire)
    questionnaire_bands_set(
        questionnaire=v2,
        bands=[("basic", 1, "1.5"), ("cooperative", "1.5", "2.5"), ("interdependent", "2.5", 5)],
    )
    rng = random.Random(7)
    customers = [make_customer(rng.choice(["business", "channel"])) for _ in range(25)]
    roles = ["marketing_staff", "sales_manager", "senior_manager", "customer"]
    Assessment.objects.bulk_create(
        Assessment(
            customer=rng.choice(customers),
            questionnaire=rng.choice([questionnaire, v2]),
            rater_role=rng.choice(roles),
            answered_on=AS_OF - dt.timedelta(days=rng.randrange(0, 420)),
            mean_score=rng.randrange(12, 61) / 12,
            stage="basic",  # not read by the aggregation
        )
        for _ in range(150)
    )
    table = partnership_stages(as_of=AS_OF).to_pylist()
    expected = []
    for customer in sorted(customers, key=lambda c: c.pk):
        view = relationship_assessment(customer, as_of=AS_OF)
        if view.latest:
            expected.append(
                {
                    "customer_id": customer.pk,
                    "partnership_stage": view.company_stage or "",
                    "partnership_stage_customer": view.customer_stage or "",
                    "perception_gap": view.perception_gap,
                }
            )
    assert table == expected
    assert any(row["perception_gap"] for row in table)
    assert any(not row["perception_gap"] for row in table)
