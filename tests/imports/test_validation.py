"""Every row is validated; one bad row means nothing is written, and each error names its row
(as Excel numbers it: the header is row 1), its column, its value and how to fix it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.core.models import Event
from guanxi.engagement.models import Case, Interaction
from guanxi.imports.services import import_run
from guanxi.parties.models import Contact, Customer, Tag
from guanxi.parties.services import contact_create
from guanxi.sales.models import Order, OrderLine, Product

pytestmark = pytest.mark.django_db

ORDER_HEADER = [
    "订单编号",
    "客户编号",
    "下单时间",
    "状态",
    "实际交付日期",
    "行号",
    "商品编码",
    "数量",
    "单价",
]
CUSTOMER_HEADER = ["external_id", "name", "customer_type", "email", "owner"]


def errors_of(result) -> list[tuple[int, str, str]]:
    return [(e.row, e.column, e.value) for e in result.errors]


def message_for(result, row: int, column: str) -> str:
    return next(e.message for e in result.errors if (e.row, e.column) == (row, column))


def nothing_written() -> None:
    assert not Order.objects.exists()
    assert not OrderLine.objects.exists()
    assert not Event.objects.filter(kind="import.completed").exists()


def test_bad_types_required_cells_and_quantities_are_all_reported(write_csv, catalogue):
    path = write_csv(
        "orders.csv",
        [
            ORDER_HEADER,
            ["O-1", "C-1", "2024/3/5 14:30", "已下单", "", "1", "TEA-1", "2", "120.00"],
            ["O-2", "C-1", "2024/13/5", "placed", "", "1", "TEA-1", "0", "12.345"],
            ["O-3", "", "2024/3/5", "placed", "", "x", "", "-1", "abc"],
        ],
    )
    result = import_run(entity="orders", path=path)
    assert not result.ok
    assert errors_of(result) == [
        (3, "下单时间", "2024/13/5"),
        (3, "数量", "0"),
        (3, "单价", "12.345"),
        (4, "客户编号", ""),
        (4, "行号", "x"),
        (4, "商品编码", ""),
        (4, "数量", "-1"),
        (4, "单价", "abc"),
    ]
    assert "not a real date" in message_for(result, 3, "下单时间")
    assert "positive whole number" in message_for(result, 3, "数量")
    assert "at most 2 decimal places" in message_for(result, 3, "单价")
    assert "required" in message_for(result, 4, "客户编号")
    nothing_written()


def test_unknown_customers_and_products_are_reported_with_how_to_fix(write_csv, catalogue):
    path = write_csv(
        "orders.csv",
        [
            ORDER_HEADER,
            ["O-1", "C-404", "2024-03-05", "placed", "", "1", "TEA-1", "1", ""],
            ["O-1", "C-404", "2024-03-05", "placed", "", "2", "NOPE", "1", ""],
            ["O-2", "C-1", "2024-03-05", "placed", "", "1", "NOPE", "1", ""],
        ],
    )
    result = import_run(entity="orders", path=path)
    assert errors_of(result) == [
        (2, "客户编号", "C-404"),
        (3, "商品编码", "NOPE"),
        (4, "商品编码", "NOPE"),
    ]
    assert "Import the customers file first" in message_for(result, 2, "客户编号")
    assert "No product has the SKU 'NOPE'" in message_for(result, 3, "商品编码")
    nothing_written()


def test_duplicates_inside_the_file_name_the_first_row(write_csv, catalogue):
    path = write_csv(
        "customers.csv",
        [
            ["external_id", "name", "customer_type"],
            ["C-9", "A", "consumer"],
            ["C-10", "B", "consumer"],
            ["C-9", "C", "consumer"],
        ],
    )
    result = import_run(entity="customers", path=path)
    assert errors_of(result) == [(4, "external_id", "C-9")]
    assert "already on row 2" in result.errors[0].message
    assert Customer.objects.count() == 2  # the catalogue's, nothing more


def test_duplicate_order_lines_and_lines_that_disagree_about_their_order(write_csv, catalogue):
    path = write_csv(
        "orders.csv",
        [
            ORDER_HEADER,
            ["O-1", "C-1", "2024-03-05 10:00", "placed", "", "1", "TEA-1", "1", ""],
            ["O-1", "C-1", "2024-03-05 10:00", "placed", "", "1", "CUP-1", "1", ""],
            ["O-1", "C-2", "2024-03-05 11:00", "placed", "", "3", "CUP-1", "1", ""],
        ],
    )
    result = import_run(entity="orders", path=path)
    assert errors_of(result) == [
        (3, "行号", "1"),
        (4, "客户编号", "C-2"),
        (4, "下单时间", "2024-03-05 11:00:00"),
    ]
    assert "already has line 1 on row 2" in message_for(result, 3, "行号")
    assert "first line (row 2) has 'C-1'" in message_for(result, 4, "客户编号")
    assert "'2024-03-05 10:00:00'" in message_for(result, 4, "下单时间")
    nothing_written()


def test_unknown_enum_values_list_the_allowed_ones(write_csv):
    path = write_csv(
        "customers.csv",
        [CUSTOMER_HEADER, ["C-9", "A", "vip", "", ""], ["C-8", "B", "消费者", "", ""]],
    )
    result = import_run(entity="customers", path=path)
    assert errors_of(result) == [(2, "customer_type", "vip")]
    assert "consumer (消费者), business (企业客户), channel (渠道客户)" in result.errors[0].message
    assert not Customer.objects.exists()


def test_field_lengths_emails_and_unknown_users(write_csv):
    path = write_csv(
        "customers.csv",
        [CUSTOMER_HEADER, ["C-" + "9" * 70, "名" * 201, "consumer", "not-an-email", "nobody"]],
    )
    result = import_run(entity="customers", path=path)
    assert [e.column for e in result.errors] == [
        "external_id",
        "name",
        "email",
        "owner",
    ]
    assert "72 characters long; this column takes at most 64" in result.errors[0].message
    assert "at most 200" in result.errors[1].message
    assert "email address" in result.errors[2].message
    assert "No user is called 'nobody'" in result.errors[3].message
    assert not Customer.objects.exists()


def test_contacts_only_for_business_and_channel_customers(write_csv, catalogue):
    path = write_csv(
        "contacts.csv",
        [
            ["联系人编号", "客户编号", "姓名", "主要联系人"],
            ["P-1", "C-1", "张伟", "是"],
            ["P-2", "C-2", "王小明", "否"],
        ],
    )
    result = import_run(entity="contacts", path=path)
    assert errors_of(result) == [(3, "客户编号", "C-2")]
    assert "customer 'C-2' is a consumer customer" in result.errors[0].message
    assert not Contact.objects.exists()


def test_one_primary_contact_per_customer_in_the_file_and_in_the_database(write_csv, catalogue):
    contact_create(
        customer=Customer.objects.get(external_id="C-1"),
        external_id="P-0",
        name="老王",
        is_primary=True,
    )
    header = ["external_id", "customer_external_id", "name", "is_primary"]
    path = write_csv(
        "contacts.csv", [header, ["P-1", "C-1", "张伟", "yes"], ["P-2", "C-1", "刘洋", "yes"]]
    )
    result = import_run(entity="contacts", path=path)
    assert errors_of(result) == [
        (2, "is_primary", "C-1"),
        (3, "is_primary", "C-1"),
        (3, "is_primary", "C-1"),
    ]
    assert "already has the primary contact 'P-0'" in result.errors[0].message
    assert "already has a primary contact on row 2" in result.errors[1].message

    # Moving "primary" from P-0 to P-1 in one file works: demotions are written first.
    path = write_csv(
        "move.csv", [header, ["P-1", "C-1", "张伟", "yes"], ["P-0", "C-1", "老王", "no"]]
    )
    assert import_run(entity="contacts", path=path).ok
    assert Contact.objects.get(is_primary=True).external_id == "P-1"


def test_a_customer_with_contacts_cannot_become_a_consumer(write_csv, catalogue):
    contact_create(customer=Customer.objects.get(external_id="C-1"), external_id="P-1", name="张伟")
    path = write_csv(
        "c.csv", [["external_id", "name", "customer_type"], ["C-1", "明远", "consumer"]]
    )
    result = import_run(entity="customers", path=path)
    assert errors_of(result) == [(2, "customer_type", "consumer")]
    assert "has contact people" in result.errors[0].message


def test_interactions_refer_to_contacts_and_orders_of_the_same_customer(
    write_csv, samples_imported
):
    path = write_csv(
        "interactions.csv",
        [
            [
                "external_id",
                "customer_external_id",
                "contact_external_id",
                "order_external_id",
                "occurred_at",
                "channel",
                "direction",
                "service_phase",
                "purpose",
            ],
            [
                "I-9",
                "C-1002",
                "P-1",
                "O-2024-0001",
                "2024-03-01",
                "电话",
                "企业发起",
                "售后",
                "回访",
            ],
            ["I-10", "C-1002", "P-404", "", "2024-03-01", "phone", "outbound", "售后", "survey"],
        ],
    )
    result = import_run(entity="interactions", path=path)
    assert errors_of(result) == [
        (2, "contact_external_id", "P-1"),
        (2, "order_external_id", "O-2024-0001"),
        (3, "contact_external_id", "P-404"),
    ]
    assert "belongs to customer 'C-1001', not to 'C-1002'" in result.errors[0].message
    assert not Interaction.objects.filter(external_id__in=["I-9", "I-10"]).exists()


def test_rules_between_columns_use_the_stored_value_of_columns_the_file_leaves_out(
    write_csv, samples_imported
):
    # K-1 is stored as resolved; a file that only changes its status to closed needs closed_at.
    path = write_csv(
        "cases.csv",
        [
            [
                "external_id",
                "customer_external_id",
                "kind",
                "subject",
                "opened_at",
                "status",
                "due_at",
            ],
            ["K-1", "C-1002", "complaint", "茶杯破损", "2024-03-10 09:00", "closed", ""],
            ["K-9", "C-1002", "question", "发票", "2024-03-10 09:00", "resolved", "2024-03-09"],
        ],
    )
    result = import_run(entity="cases", path=path)
    assert errors_of(result) == [
        (2, "closed_at", ""),
        (3, "due_at", "2024-03-09 00:00:00"),
        (3, "resolved_at", ""),
    ]
    assert "A closed case needs the time it was closed" in result.errors[0].message
    assert "deadline (due_at) is before the case was opened" in result.errors[1].message
    assert Case.objects.get(external_id="K-1").status == "resolved"


def test_a_delivered_order_needs_its_delivery_date(write_csv, catalogue):
    path = write_csv(
        "orders.csv",
        [ORDER_HEADER, ["O-1", "C-1", "2024-03-05", "已送达", "", "", "TEA-1", "1", ""]],
    )
    result = import_run(entity="orders", path=path)
    assert errors_of(result) == [(2, "实际交付日期", "")]
    assert "needs its actual delivery date" in result.errors[0].message
    nothing_written()


def test_the_error_list_is_capped_but_every_error_is_counted(write_csv):
    rows = [["external_id", "name", "customer_type"]]
    rows += [[f"C-{i}", "A", "vip"] for i in range(30)] + [["C-0", "A", "consumer"]]
    result = import_run(entity="customers", path=write_csv("c.csv", rows), max_errors=10)
    assert result.error_count == 31
    assert len(result.errors) == 10
    assert result.errors_omitted == 21
    assert [e.row for e in result.errors] == list(range(2, 12))


def test_validation_makes_a_fixed_number_of_queries_whatever_the_number_of_rows(
    write_csv, catalogue
):
    def orders(n: int):
        rows = [ORDER_HEADER]
        for i in range(n):
            rows.append(
                [f"O-{i}", f"C-{1 + i % 2}", "2024-03-05", "placed", "", "1", "TEA-1", "1", ""]
            )
            rows.append(
                [f"O-{i}", f"C-{1 + i % 2}", "2024-03-05", "placed", "", "2", "NOPE", "1", ""]
            )
        return write_csv(f"orders-{n}.csv", rows)

    counts = []
    for n in (10, 500):
        with CaptureQueriesContext(connection) as queries:
            result = import_run(entity="orders", path=orders(n), batch_size=100, dry_run=True)
        assert result.error_count == n  # one unknown SKU per order
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_a_valid_file_validates_within_a_small_query_budget(
    write_csv, catalogue, django_assert_max_num_queries
):
    rows = [ORDER_HEADER] + [
        [f"O-{i}", "C-1", "2024-03-05", "placed", "", "", sku, "1", ""]
        for i in range(1000)
        for sku in ("TEA-1", "CUP-1")
    ]
    path = write_csv("orders.csv", rows)
    with django_assert_max_num_queries(40):
        result = import_run(entity="orders", path=path, batch_size=250, dry_run=True)
    assert result.ok
    assert result.counts["order_lines"].created == 2000
    nothing_written()


def test_a_bad_tag_or_product_row_leaves_tags_and_products_untouched(write_csv):
    path = write_csv(
        "c.csv",
        [
            ["external_id", "name", "customer_type", "tags"],
            ["C-1", "A", "consumer", "vip"],
            ["C-2", "B", "x", "new"],
        ],
    )
    assert not import_run(entity="customers", path=path).ok
    assert not Tag.objects.exists()
    path = write_csv("p.csv", [["sku", "name", "unit_price", "unit_cost"], ["T", "茶", "-1", "1"]])
    result = import_run(entity="products", path=path)
    assert errors_of(result) == [(2, "unit_price", "-1")]
    assert not Product.objects.exists()
