"""Export → import round-trips losslessly for every entity, in CSV and XLSX: Chinese text, tags,
money, users and timestamps (to the microsecond, and in the repeated hour when clocks go back)."""

import datetime as dt

import pytest
from django.test import override_settings

from guanxi.engagement.models import Case, Interaction
from guanxi.engagement.services import case_open, interaction_log
from guanxi.imports.services import export_run, import_run
from guanxi.parties.models import Contact, Customer
from guanxi.parties.services import contact_create, customer_create
from guanxi.sales.models import Order, OrderLine, Product
from guanxi.sales.services import LineInput, order_record

pytestmark = pytest.mark.django_db
ENTITIES = ("customers", "contacts", "products", "orders", "interactions", "cases")


def make_data(user, placed_at: dt.datetime) -> None:
    mei = user
    acme = customer_create(
        external_id="C-1",
        name="上海明远贸易有限公司",
        customer_type="business",
        owner=mei,
        region="华东",
        tags=["重点", "VIP"],
        phone="021-55501234",
        email="buy@mingyuan.example",
        address="上海市浦东新区世纪大道100号\n3楼",
        marketing_consent=True,
    )
    wang = customer_create(
        external_id="0571", name="王小明", customer_type="consumer", is_active=False
    )
    customer_create(external_id="=SUM(A1)", name="=1+1", customer_type="internal")
    zhang = contact_create(
        customer=acme, external_id="P-1", name="张伟", job_title="采购经理", is_primary=True
    )
    contact_create(customer=acme, external_id="P-2", name="刘洋", wechat_id="liu_yang")
    tea = Product.objects.create(
        sku="TEA-LJ",
        name="西湖龙井",
        category="绿茶",
        unit_price_cents=128_000,
        unit_cost_cents=76_050,
    )
    cup = Product.objects.create(
        sku="CUP", name="玻璃杯", unit_price_cents=4_550, unit_cost_cents=1, is_active=False
    )
    big = Product.objects.create(
        sku="BIG", name="整柜", unit_price_cents=9_999_999_999_999_99, unit_cost_cents=0
    )
    order = order_record(
        customer=acme,
        external_id="O-1",
        placed_at=placed_at,
        lines=[LineInput(tea, 10, 120_000), LineInput(cup, 3), LineInput(big, 1)],
        channel="offline",
        status="delivered",
        delivered_on=dt.date(2024, 3, 11),
        promised_delivery_on=dt.date(2024, 3, 12),
    )
    order_record(
        customer=wang,
        external_id="O-2",
        placed_at=dt.datetime(2024, 3, 8, 9, 15, 7, 123456, tzinfo=dt.UTC),
        lines=[LineInput(cup, 4)],
    )
    interaction_log(
        customer=acme,
        external_id="I-1",
        occurred_at=dt.datetime(2024, 3, 13, 8, 20, tzinfo=dt.UTC),
        channel="visit",
        direction="outbound",
        service_phase="after_sale",
        purpose="follow_up",
        contact=zhang,
        order=order,
        staff=mei,
        notes="回访：客户满意，\n计划五月再订",
    )
    interaction_log(
        customer=wang,
        external_id="I-2",
        occurred_at=dt.datetime(2024, 3, 9, 12, 5, 0, 1, tzinfo=dt.UTC),
        channel="chat",
        direction="inbound",
        service_phase="in_sale",
        purpose="other",
    )
    opened = dt.datetime(2024, 3, 10, 1, 0, tzinfo=dt.UTC)
    case_open(
        customer=wang,
        external_id="K-1",
        kind="complaint",
        subject="茶杯破损",
        description="两个茶杯有裂纹",
        severity="high",
        opened_at=opened,
        owner=mei,
        satisfaction="dissatisfied",
        status="closed",
        first_response_at=opened + dt.timedelta(minutes=30),
        resolved_at=opened + dt.timedelta(days=1),
        closed_at=opened + dt.timedelta(days=2, microseconds=7),
        resolution="已补发",
    )
    case_open(customer=acme, external_id="K-2", kind="question", subject="发票", contact=zhang)


def natural() -> dict[str, list]:
    """Every record by natural keys (no ids, no timestamps of the rows themselves)."""
    return {
        "customers": [
            (
                *values,
                sorted(
                    Customer.objects.get(external_id=values[0]).tags.values_list("name", flat=True)
                ),
            )
            for values in Customer.objects.order_by("external_id").values_list(
                "external_id",
                "name",
                "customer_type",
                "owner__username",
                "region",
                "phone",
                "email",
                "wechat_id",
                "address",
                "marketing_consent",
                "is_active",
            )
        ],
        "contacts": list(
            Contact.objects.order_by("external_id").values_list(
                "external_id",
                "customer__external_id",
                "name",
                "job_title",
                "phone",
                "email",
                "wechat_id",
                "is_primary",
            )
        ),
        "products": list(
            Product.objects.order_by("sku").values_list(
                "sku", "name", "category", "unit_price_cents", "unit_cost_cents", "is_active"
            )
        ),
        "orders": list(
            Order.objects.order_by("external_id").values_list(
                "external_id",
                "customer__external_id",
                "placed_at",
                "promised_delivery_on",
                "delivered_on",
                "channel",
                "status",
            )
        ),
        "lines": list(
            OrderLine.objects.order_by("order__external_id", "line_no").values_list(
                "order__external_id",
                "line_no",
                "product__sku",
                "quantity",
                "unit_price_cents",
                "unit_cost_cents",
            )
        ),
        "interactions": list(
            Interaction.objects.order_by("external_id").values_list(
                "external_id",
                "customer__external_id",
                "contact__external_id",
                "order__external_id",
                "occurred_at",
                "channel",
                "direction",
                "service_phase",
                "purpose",
                "staff__username",
                "notes",
            )
        ),
        "cases": list(
            Case.objects.order_by("external_id").values_list(
                "external_id",
                "customer__external_id",
                "contact__external_id",
                "order__external_id",
                "kind",
                "category",
                "subject",
                "description",
                "satisfaction",
                "severity",
                "status",
                "opened_at",
                "first_response_at",
                "resolved_at",
                "closed_at",
                "due_at",
                "owner__username",
                "resolution",
            )
        ),
    }


def delete_all() -> None:
    for model in (Case, Interaction, OrderLine, Order, Contact, Customer, Product):
        model.objects.all().delete()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize(
    ("zone", "placed_at"),
    [
        ("Asia/Shanghai", dt.datetime(2024, 3, 5, 6, 30, 15, 250_000, tzinfo=dt.UTC)),
        # 02:30 the second time round in Berlin: only an offset tells it from the first.
        ("Europe/Berlin", dt.datetime(2024, 10, 27, 1, 30, tzinfo=dt.UTC)),
    ],
)
def test_export_then_import_is_lossless_for_every_entity(tmp_path, user, fmt, zone, placed_at):
    with override_settings(TIME_ZONE=zone):
        make_data(user, placed_at)
        before = natural()
        files = {}
        for entity in ENTITIES:
            files[entity] = tmp_path / f"{entity}.{fmt}"
            assert export_run(entity=entity, path=files[entity]).rows > 0

        for entity in ENTITIES:  # into the same database: nothing to do
            result = import_run(entity=entity, path=files[entity])
            assert result.ok, result.errors
            assert all(c.created == c.updated == c.deleted == 0 for c in result.counts.values())

        delete_all()
        for entity in ENTITIES:  # into an empty one: the same records again
            result = import_run(entity=entity, path=files[entity])
            assert result.ok, result.errors
        assert natural() == before


def test_chinese_headers_round_trip_too(tmp_path, user):
    make_data(user, dt.datetime(2024, 3, 5, 6, 30, tzinfo=dt.UTC))
    before = natural()
    path = tmp_path / "orders.csv"
    export_run(entity="orders", path=path, headers="zh")
    assert path.read_text("utf-8-sig").startswith("订单编号,客户编号,下单时间")
    OrderLine.objects.all().delete()
    assert import_run(entity="orders", path=path).ok
    assert natural() == before


def test_csv_export_is_utf8_with_bom_unless_told_otherwise(tmp_path, user):
    make_data(user, dt.datetime(2024, 3, 5, 6, 30, tzinfo=dt.UTC))
    path = tmp_path / "customers.csv"
    export_run(entity="customers", path=path)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfexternal_id,name,customer_type,owner,region,tags,")
    assert "上海明远贸易有限公司,business,mei,华东" in data.decode("utf-8-sig")
    export_run(entity="customers", path=path, encoding="gb18030")
    assert "上海明远贸易有限公司" in path.read_bytes().decode("gb18030")
    result = import_run(entity="customers", path=path)
    assert result.encoding == "gb18030"
    assert result.ok


def test_money_and_times_are_written_as_people_read_them(tmp_path, user):
    make_data(user, dt.datetime(2024, 3, 5, 6, 30, tzinfo=dt.UTC))
    path = tmp_path / "orders.csv"
    export_run(entity="orders", path=path)
    lines = path.read_text("utf-8-sig").splitlines()
    assert lines[1] == (
        "O-1,C-1,2024-03-05 14:30:00,2024-03-12,2024-03-11,offline,delivered,1,TEA-LJ,10,"
        "1200.00,760.50"
    )
    assert lines[3].endswith(",BIG,1,9999999999999.99,0.00")


def test_export_streams_without_a_query_per_row(tmp_path, user, django_assert_max_num_queries):
    make_data(user, dt.datetime(2024, 3, 5, 6, 30, tzinfo=dt.UTC))
    for i in range(50):
        customer_create(
            external_id=f"X-{i}", name="客户", customer_type="consumer", tags=["a", "b"]
        )
    for entity in ENTITIES:
        with django_assert_max_num_queries(6):
            export_run(entity=entity, path=tmp_path / f"{entity}.csv")
