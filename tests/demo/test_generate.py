"""Generating, regenerating and removing the demo company; the command's interface."""

import datetime as dt
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Max

from guanxi.demo import generator
from guanxi.demo.run import demo_generate
from guanxi.parties.models import Customer
from guanxi.parties.services import customer_create
from guanxi.sales.models import Order, OrderLine, Product
from tests.demo.conftest import AS_OF, table_digest

pytestmark = pytest.mark.django_db


def test_the_same_seed_gives_the_same_rows_and_another_seed_other_rows():
    demo_generate(customers=400, seed=7, as_of=AS_OF)
    first = table_digest()
    demo_generate(customers=400, seed=7, as_of=AS_OF, flush=True)
    assert table_digest() == first
    demo_generate(customers=400, seed=8, as_of=AS_OF, flush=True)
    other = table_digest()
    assert other["customer"] != first["customer"]
    assert other["order_line"] != first["order_line"]
    assert other["product"] != first["product"]  # prices are drawn from the seed too


def test_customers_are_simulated_in_chunks_with_continuous_ids(monkeypatch):
    monkeypatch.setattr(generator, "CHUNK_SIZE", 150)
    summary = demo_generate(customers=400, seed=3, as_of=AS_OF)
    for model in (Customer, Order, OrderLine):
        ids = list(model.objects.order_by("id").values_list("id", flat=True))
        assert ids == list(range(1, len(ids) + 1))
    assert summary.counts["customer"] == 400
    connection.check_constraints()  # every foreign key points at a row


def test_the_reference_date_bounds_the_history():
    as_of = dt.date(2025, 12, 31)
    demo_generate(customers=300, seed=1, as_of=as_of)
    last = Order.objects.aggregate(last=Max("placed_at"))["last"]
    assert last.date() <= as_of
    assert Order.objects.aggregate(last=Max("delivered_on"))["last"] <= as_of


def test_the_command_prints_counts_the_login_and_the_address():
    out = StringIO()
    call_command("demo", "--customers", "300", "--seed", "2", "--quiet", stdout=out)
    text = out.getvalue()
    assert "300 customers" in text and "order lines" in text
    assert f"{OrderLine.objects.count():,}" in text
    assert "demo" in text and "guanxi-demo" in text and "http://127.0.0.1:8000/" in text


def test_flush_removes_only_what_the_demo_made():
    real_user = get_user_model().objects.create_user(username="mei", password="s3cret-pass-word")
    real_product = Product.objects.create(
        sku="TEA-1", name="Green tea", unit_price_cents=12_000, unit_cost_cents=7_000
    )
    demo_generate(customers=300, seed=4, as_of=AS_OF)
    demo_generate(customers=200, seed=4, as_of=AS_OF, flush=True)
    assert Customer.objects.count() == 200
    assert Customer.objects.exclude(external_id__startswith="DEMO-").count() == 0
    real_user.refresh_from_db()
    real_product.refresh_from_db()
    connection.check_constraints()


def test_other_customers_are_never_mixed_with_the_demo():
    customer_create(external_id="C-1", name="Acme Trading", customer_type="business")
    for flush in ([], ["--flush"]):
        with pytest.raises(CommandError, match="1 customers that the demo did not make"):
            call_command("demo", "--customers", "100", "--quiet", *flush)
    assert Customer.objects.filter(external_id="C-1").exists()


def test_at_least_one_customer_is_needed():
    with pytest.raises(CommandError, match="at least one"):
        call_command("demo", "--customers", "0", "--quiet")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the index rebuild is PostgreSQL's")
def test_indexes_and_constraints_are_rebuilt_as_they_were():
    def schema() -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
                FROM pg_constraint WHERE connamespace = 'public'::regnamespace
                UNION ALL
                SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'
                ORDER BY 1, 2, 3
                """
            )
            return cursor.fetchall()

    before = schema()
    demo_generate(customers=300, seed=6, as_of=AS_OF)
    assert schema() == before


def test_a_real_user_with_a_demo_staff_name_is_not_overwritten():
    get_user_model().objects.create_user(username="li.wei", email="li.wei@acme.cn")
    with pytest.raises(CommandError, match=r"li\.wei"):
        call_command("demo", "--customers", "100", "--quiet")
