import datetime as dt
import zoneinfo

import numpy as np
import pytest

from guanxi.core.models import Event
from guanxi.parties.models import Customer
from guanxi.sales.models import Order, OrderLine, Product
from guanxi.scoring.extract import transactions_extract
from guanxi.scoring.models import CustomerScore, ScoringRun
from guanxi.scoring.services import scoring_run_execute

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
AS_OF = dt.date(2025, 6, 30)


def _store(n_customers: int = 300, seed: int = 7) -> None:
    """A small buy-till-you-die store: enough repeat buyers for the models to be identified."""
    rng = np.random.default_rng(seed)
    product = Product.objects.create(
        sku="P-1", name="Tea", unit_price_cents=10_000, unit_cost_cents=6_000
    )
    customers = Customer.objects.bulk_create(
        Customer(external_id=f"C-{i}", name=f"Customer {i}", customer_type="consumer")
        for i in range(n_customers)
    )
    orders, lines = [], []
    start = dt.datetime(2024, 1, 1, 10, tzinfo=SHANGHAI)
    for c in customers[:-5]:  # the last five never buy: prospects
        day, rate = float(rng.integers(0, 200)), rng.gamma(2.0, 1 / 40)
        while day < 545:
            orders.append(
                Order(
                    customer=c,
                    external_id=f"O-{len(orders)}",
                    placed_at=start + dt.timedelta(days=day),
                    status="delivered",
                    delivered_on=(start + dt.timedelta(days=day + 2)).date(),
                )
            )
            if rng.random() < 0.15:
                break
            day += rng.exponential(1 / rate)
    Order.objects.bulk_create(orders)
    # Customers differ in what they usually spend (Gamma-Gamma needs that heterogeneity).
    basket = {c.pk: rng.lognormal(0.0, 0.6) for c in customers}
    for o in orders:
        price = int(10_000 * basket[o.customer.pk] * rng.lognormal(0.0, 0.3))
        lines.append(
            OrderLine(
                order=o,
                line_no=1,
                product=product,
                quantity=int(rng.integers(1, 4)),
                unit_price_cents=price,
                unit_cost_cents=price * 6 // 10,
            )
        )
    OrderLine.objects.bulk_create(lines)


def test_a_run_scores_every_customer_and_keeps_its_diagnostics():
    _store()
    run = scoring_run_execute(as_of=AS_OF)

    assert run.status == "succeeded"
    assert run.n_customers == Customer.objects.count() == CustomerScore.objects.count()
    assert run.n_transactions == Order.objects.filter(placed_at__date__lte=AS_OF).count()
    assert set(run.metadata["models"]) >= {"bgnbd", "gamma_gamma"}
    assert run.progress == 1.0 and run.duration_s > 0

    prospects = CustomerScore.objects.filter(
        customer__external_id__in=[f"C-{i}" for i in range(295, 300)]
    )
    assert set(prospects.values_list("lifecycle_stage", flat=True)) == {"prospect"}
    assert set(CustomerScore.objects.values_list("abc_class", flat=True)) == {"A", "B", "C"}
    stages = set(CustomerScore.objects.values_list("lifecycle_stage", flat=True))
    assert len(stages) >= 4
    assert Event.objects.filter(kind="scoring_run.succeeded").count() == 1


def test_scores_are_integer_cents_of_purchases_only():
    _store(n_customers=120)
    customer = Customer.objects.filter(orders__isnull=False).first()
    order = customer.orders.first()
    order.status = "cancelled"
    order.save()
    scoring_run_execute(as_of=AS_OF)

    score = CustomerScore.objects.get(customer=customer)
    lines = OrderLine.objects.filter(
        order__customer=customer,
        order__status__in=["placed", "shipped", "delivered"],
        order__placed_at__date__lte=AS_OF,
    )
    assert score.revenue_cents == sum(ln.amount_cents for ln in lines)
    assert score.profit_cents == sum(ln.profit_cents for ln in lines)


def test_the_business_day_is_the_local_date_and_later_orders_are_left_out(customer, product):
    late_evening = dt.datetime(2025, 6, 30, 23, 30, tzinfo=SHANGHAI)  # 15:30 UTC, still June 30
    next_morning = dt.datetime(2025, 7, 1, 0, 30, tzinfo=SHANGHAI)  # June 30 16:30 UTC
    for i, when in enumerate([late_evening, next_morning]):
        order = Order.objects.create(customer=customer, external_id=f"T-{i}", placed_at=when)
        OrderLine.objects.create(
            order=order,
            line_no=1,
            product=product,
            quantity=1,
            unit_price_cents=100,
            unit_cost_cents=50,
        )
    table = transactions_extract(as_of=AS_OF)
    assert table.num_rows == 1
    assert table.column("ts").to_pylist() == [AS_OF]
    assert table.column("amount_cents").to_pylist() == [100]
    assert table.column("profit_cents").to_pylist() == [50]


def test_a_failed_run_keeps_no_scores_and_says_why(customer, product):
    order = Order.objects.create(
        customer=customer, external_id="ONLY", placed_at=dt.datetime(2025, 1, 1, tzinfo=SHANGHAI)
    )
    OrderLine.objects.create(
        order=order, line_no=1, product=product, quantity=1, unit_price_cents=1, unit_cost_cents=0
    )
    with pytest.raises(Exception) as err:
        scoring_run_execute(as_of=AS_OF)
    run = ScoringRun.objects.get()
    assert run.status == "failed"
    assert run.error and str(err.value) in run.error
    assert CustomerScore.objects.count() == 0
    assert Event.objects.filter(kind="scoring_run.failed").count() == 1
