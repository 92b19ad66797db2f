"""Re-importing a file changes nothing; a changed row updates its record; orders files are the
truth for the orders they contain; a dry run writes nothing; each run leaves one audit event."""

import datetime as dt

import pytest

from guanxi.core.models import Event
from guanxi.engagement.models import Case, Interaction
from guanxi.imports.services import import_run
from guanxi.parties.models import Contact, Customer, Tag
from guanxi.sales.models import Order, OrderLine, Product

from .conftest import SAMPLES

pytestmark = pytest.mark.django_db
ENTITIES = ("customers", "contacts", "products", "orders", "interactions", "cases")
MODELS = (Customer, Contact, Product, Order, OrderLine, Interaction, Case, Tag)


def counts(result) -> dict[str, tuple[int, int, int, int]]:
    return {k: (c.created, c.updated, c.unchanged, c.deleted) for k, c in result.counts.items()}


def snapshot() -> dict[str, list]:
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in MODELS} | {
        "tags": list(Customer.tags.through.objects.order_by("pk").values())
    }


def test_the_samples_import_and_reimporting_them_changes_nothing(samples_imported):
    before = snapshot()
    assert (Customer.objects.count(), Order.objects.count(), OrderLine.objects.count()) == (5, 3, 5)
    for entity in ENTITIES:
        result = import_run(entity=entity, path=SAMPLES / f"{entity}.csv")
        assert result.ok
        assert all(c.created == c.updated == c.deleted == 0 for c in result.counts.values())
        assert sum(c.unchanged for c in result.counts.values()) > 0
    # Same rows, same values, and updated_at untouched: unchanged records are not rewritten.
    assert snapshot() == before


def test_a_changed_row_updates_its_record_and_only_that_one(write_csv, samples_imported):
    untouched = Customer.objects.get(external_id="C-1002").updated_at
    path = write_csv(
        "customers.csv",
        [
            ["客户编号", "客户名称", "类型", "手机"],
            ["C-1001", "上海明远贸易有限公司", "企业客户", "021-55509999"],
            ["C-1002", "王小明", "消费者", "13800138000"],
            ["C-2001", "新客户", "consumer", ""],
        ],
    )
    result = import_run(entity="customers", path=path)
    assert counts(result) == {"customers": (1, 1, 1, 0)}
    changed = Customer.objects.get(external_id="C-1001")
    assert changed.phone == "021-55509999"
    assert changed.updated_at > changed.created_at
    assert Customer.objects.get(external_id="C-1002").updated_at == untouched


def test_columns_the_file_leaves_out_keep_their_stored_values(write_csv, samples_imported):
    before = Customer.objects.get(external_id="C-1002")
    path = write_csv("c.csv", [["客户编号", "客户名称", "类型"], ["C-1002", "王晓明", "消费者"]])
    assert counts(import_run(entity="customers", path=path)) == {"customers": (0, 1, 0, 0)}
    after = Customer.objects.get(external_id="C-1002")
    assert after.name == "王晓明"
    assert (after.phone, after.email, after.marketing_consent) == (
        before.phone,
        before.email,
        before.marketing_consent,
    )
    assert [t.name for t in after.tags.all()] == ["会员"]


def test_a_tags_column_sets_the_customers_tags_exactly(write_csv, samples_imported):
    header = ["external_id", "name", "customer_type", "tags"]
    path = write_csv(
        "c.csv", [header, ["C-1001", "上海明远贸易有限公司", "business", "华东, 新标签"]]
    )
    result = import_run(entity="customers", path=path)
    assert counts(result) == {"customers": (0, 1, 0, 0)}  # tags alone make an update
    customer = Customer.objects.get(external_id="C-1001")
    assert sorted(t.name for t in customer.tags.all()) == ["华东", "新标签"]
    assert customer.updated_at > customer.created_at
    assert counts(import_run(entity="customers", path=path)) == {"customers": (0, 0, 1, 0)}
    path = write_csv("c2.csv", [header, ["C-1001", "上海明远贸易有限公司", "business", ""]])
    import_run(entity="customers", path=path)
    assert not customer.tags.exists()


def test_reimporting_an_order_with_changed_lines_replaces_them(write_csv, samples_imported):
    order = Order.objects.get(external_id="O-2024-0001")
    header = [
        "order_external_id",
        "customer_external_id",
        "placed_at",
        "status",
        "delivered_on",
        "line_no",
        "sku",
        "quantity",
        "unit_price",
    ]
    head = ["O-2024-0001", "C-1001", "2024/3/5 14:30", "delivered", "2024-03-11"]
    path = write_csv(
        "orders.csv",
        [
            header,
            [*head, "1", "TEA-LJ-250", "12", "1200"],  # quantity changed
            [*head, "3", "CUP-GLASS", "1", ""],  # new line; line 2 (GIFT-BOX) is gone
        ],
    )
    result = import_run(entity="orders", path=path)
    assert counts(result) == {"orders": (0, 1, 0, 0), "order_lines": (1, 1, 0, 1)}
    lines = list(order.lines.order_by("line_no").values_list("line_no", "product__sku", "quantity"))
    assert lines == [(1, "TEA-LJ-250", 12), (3, "CUP-GLASS", 1)]
    order.refresh_from_db()
    assert order.updated_at > order.created_at
    # Other orders in the database are not touched by a file that does not mention them.
    assert Order.objects.get(external_id="O-2024-0002").lines.count() == 2
    assert counts(import_run(entity="orders", path=path)) == {
        "orders": (0, 0, 1, 0),
        "order_lines": (0, 0, 2, 0),
    }


def test_empty_prices_take_the_products_then_keep_the_lines(write_csv, catalogue):
    header = [
        "order_external_id",
        "customer_external_id",
        "placed_at",
        "sku",
        "quantity",
        "unit_price",
        "unit_cost",
    ]
    path = write_csv("o.csv", [header, ["O-1", "C-1", "2024-03-05", "TEA-1", "2", "", ""]])
    import_run(entity="orders", path=path)
    line = OrderLine.objects.get()
    assert (line.line_no, line.unit_price_cents, line.unit_cost_cents) == (1, 12_000, 7_000)
    Product.objects.filter(sku="TEA-1").update(unit_price_cents=15_000)
    # The product's price changed since; re-importing the file does not reprice the old line.
    assert counts(import_run(entity="orders", path=path))["order_lines"] == (0, 0, 1, 0)
    assert OrderLine.objects.get().unit_price_cents == 12_000


def test_line_numbers_default_to_the_position_within_the_order(write_csv, catalogue):
    header = ["order_external_id", "customer_external_id", "placed_at", "sku", "quantity"]
    path = write_csv(
        "o.csv",
        [
            header,
            ["O-1", "C-1", "2024-03-05", "TEA-1", "1"],
            ["O-2", "C-2", "2024-03-06", "CUP-1", "5"],
            ["O-1", "C-1", "2024-03-05", "CUP-1", "2"],
        ],
    )
    assert import_run(entity="orders", path=path).ok
    assert list(
        OrderLine.objects.order_by("order__external_id", "line_no").values_list(
            "order__external_id", "line_no", "product__sku"
        )
    ) == [("O-1", 1, "TEA-1"), ("O-1", 2, "CUP-1"), ("O-2", 1, "CUP-1")]
    assert list(Order.objects.order_by("pk").values_list("external_id", flat=True)) == [
        "O-1",
        "O-2",
    ]  # created in file order


def test_a_dry_run_validates_and_counts_but_writes_nothing(samples_imported, write_csv):
    before = snapshot()
    events = Event.objects.count()
    path = write_csv(
        "c.csv",
        [["客户编号", "客户名称", "类型"], ["C-1001", "改名", "企业客户"], ["C-9", "新", "消费者"]],
    )
    result = import_run(entity="customers", path=path, dry_run=True)
    assert result.ok and result.dry_run
    assert counts(result) == {"customers": (1, 1, 0, 0)}
    assert snapshot() == before
    assert Event.objects.count() == events


def test_each_import_records_one_summary_event_with_its_actor(catalogue, user, write_csv):
    rows = [["sku", "name", "unit_price", "unit_cost"]] + [
        [f"P-{i}", "茶", "1.00", "0.50"] for i in range(25)
    ]
    result = import_run(entity="products", path=write_csv("products.csv", rows), actor=user)
    assert result.ok
    event = Event.objects.get(kind="import.completed")
    assert event.actor == user
    assert event.data == {
        "entity": "products",
        "file": "products.csv",
        "format": "csv",
        "rows": 25,
        "counts": {"products": {"created": 25, "updated": 0, "unchanged": 0}},
    }
    assert Event.objects.count() == 1 + Event.objects.exclude(kind="import.completed").count()
    assert not Event.objects.filter(kind__startswith="product").exists()


def test_changed_interactions_and_cases_update(write_csv, samples_imported):
    path = write_csv(
        "cases.csv",
        [
            ["工单编号", "客户编号", "类型", "主题", "受理时间", "状态", "首次响应时间"],
            [
                "K-2",
                "C-1001",
                "反馈",
                "希望增加小包装",
                "2024-03-15 11:00",
                "处理中",
                "2024-03-15 12:00",
            ],
        ],
    )
    assert counts(import_run(entity="cases", path=path)) == {"cases": (0, 1, 0, 0)}
    case = Case.objects.get(external_id="K-2")
    assert case.status == "in_progress"
    assert case.first_response_at == dt.datetime(2024, 3, 15, 4, 0, tzinfo=dt.UTC)
    assert case.satisfaction == "very_satisfied"  # not in the file: kept


def test_an_import_leaves_the_connections_settings_as_it_found_them(write_csv):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's page cache is the setting an import changes for its run")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA main.cache_size")
        before = cursor.fetchone()[0]
        path = write_csv("c.csv", [["external_id", "name", "customer_type"], ["C-1", "A", "x"]])
        assert not import_run(entity="customers", path=path).ok  # a rolled-back run, too
        import_run(
            entity="customers",
            path=write_csv(
                "d.csv", [["external_id", "name", "customer_type"], ["C-1", "A", "consumer"]]
            ),
        )
        cursor.execute("PRAGMA main.cache_size")
        assert cursor.fetchone()[0] == before


def test_a_line_saved_meanwhile_by_someone_else_stops_the_import_cleanly(
    write_csv, catalogue, monkeypatch
):
    """New lines are written with a plain INSERT of the lines the counts found new (see
    ``Merge.insert_new``): a line with the same order and line_no saved by someone else after
    the counts makes the import stop with a message that says what to do, and write nothing."""
    from guanxi.imports import merges
    from guanxi.imports.formats import ImportFileError

    order = Order.objects.create(
        external_id="O-1",
        customer=Customer.objects.get(external_id="C-1"),
        placed_at=dt.datetime(2024, 3, 4, 16, tzinfo=dt.UTC),
    )
    header = ["order_external_id", "customer_external_id", "placed_at", "sku", "quantity"]
    path = write_csv("o.csv", [header, ["O-1", "C-1", "2024-03-05", "TEA-1", "2"]])
    write = merges.OrderMerge.write

    def write_after_someone_else(self, now):
        OrderLine.objects.create(
            order=order,
            line_no=1,
            product=Product.objects.get(sku="CUP-1"),
            quantity=1,
            unit_price_cents=1,
            unit_cost_cents=1,
        )
        write(self, now)

    monkeypatch.setattr(merges.OrderMerge, "write", write_after_someone_else)
    with pytest.raises(ImportFileError, match="Import the file again"):
        import_run(entity="orders", path=path)
    assert not OrderLine.objects.exists()
    order.refresh_from_db()
    assert order.placed_at == dt.datetime(2024, 3, 4, 16, tzinfo=dt.UTC)
    assert not Event.objects.filter(kind="import.completed").exists()
