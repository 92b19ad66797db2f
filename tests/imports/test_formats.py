"""Files as a whole: encodings, CSV and XLSX, headers, and the errors about the file itself."""

import codecs
import datetime as dt
import io

import pytest
from openpyxl import Workbook

from guanxi.imports.formats import ImportFileError, datetime_text, encoding_detect
from guanxi.imports.services import import_run
from guanxi.parties.models import Customer
from guanxi.sales.models import Order

pytestmark = pytest.mark.django_db

CUSTOMERS = [
    ["客户编号", "客户名称", "类型", "地址"],
    ["C-1", "上海明远贸易有限公司", "企业客户", "上海市浦东新区世纪大道100号"],
    ["C-2", "王小明", "消费者", "北京市朝阳区"],
]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"a,b\n1,2\n", "utf-8"),
        (codecs.BOM_UTF8 + "名称\n王\n".encode(), "utf-8-sig"),
        ("名称\n王小明\n".encode(), "utf-8"),
        ("名称\n王小明\n".encode("gb18030"), "gb18030"),
        ("名称\n王\n".encode("utf-16"), "utf-16"),
        (b"", "utf-8"),
    ],
)
def test_encoding_is_detected_from_bom_or_strict_utf8(data, expected):
    assert encoding_detect(io.BytesIO(data)) == expected


def test_gb18030_after_a_megabyte_of_ascii_is_still_detected():
    data = b"id,name\n" + b"1,x\n" * 300_000 + "2,王小明\n".encode("gb18030")
    assert encoding_detect(io.BytesIO(data)) == "gb18030"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
def test_chinese_csv_in_each_encoding_imports_the_same(write_csv, encoding):
    path = write_csv(f"customers-{encoding}.csv", CUSTOMERS, encoding=encoding)
    result = import_run(entity="customers", path=path)
    assert result.ok, result.errors
    assert result.encoding == ("utf-8" if encoding == "utf-8" else encoding)
    assert Customer.objects.get(external_id="C-1").address == "上海市浦东新区世纪大道100号"
    assert Customer.objects.get(external_id="C-2").customer_type == "consumer"


def test_a_gb18030_file_read_as_utf8_says_to_use_gb18030(write_csv):
    path = write_csv("customers.csv", CUSTOMERS, encoding="gb18030")
    with pytest.raises(ImportFileError, match="--encoding gb18030"):
        import_run(entity="customers", path=path, encoding="utf-8")
    assert not Customer.objects.exists()


def test_an_unknown_encoding_name_is_refused(write_csv):
    path = write_csv("customers.csv", CUSTOMERS)
    with pytest.raises(ImportFileError, match="Unknown encoding 'klingon'"):
        import_run(entity="customers", path=path, encoding="klingon")


def test_tab_separated_text_is_read_too(tmp_path):
    path = tmp_path / "customers.txt"
    path.write_text("external_id\tname\tcustomer_type\nC-1\tAcme, Inc.\tbusiness\n")
    assert import_run(entity="customers", path=path).ok
    assert Customer.objects.get().name == "Acme, Inc."


def test_unknown_entity(write_csv):
    with pytest.raises(ImportFileError, match=r"Unknown entity 'suppliers'.*customers, contacts"):
        import_run(entity="suppliers", path=write_csv("x.csv", CUSTOMERS))


def test_missing_required_columns_are_named_and_the_expected_ones_listed(write_csv):
    path = write_csv("customers.csv", [["客户编号", "手机"], ["C-1", "138"]])
    with pytest.raises(ImportFileError) as error:
        import_run(entity="customers", path=path)
    message = error.value.message
    assert "no column for: name (客户名称), customer_type (客户类型)" in message
    assert "expected: external_id (客户编号), name (客户名称)" in message
    assert "is_active" in message


def test_two_headers_meaning_the_same_column_are_refused(write_csv):
    path = write_csv("c.csv", [["external_id", "客户编号", "name", "customer_type"]])
    with pytest.raises(ImportFileError, match="'external_id' and '客户编号' both mean external_id"):
        import_run(entity="customers", path=path)


def test_headers_ignore_case_spaces_marks_and_units(write_csv):
    path = write_csv(
        "p.csv",
        [["SKU*", "Name", "单价（元）", "Unit Cost (CNY)", "备注"], ["T-1", "茶", "12.50", "3"]],
    )
    result = import_run(entity="products", path=path)
    assert result.ok, result.errors
    assert result.ignored_columns == ["备注"]


def test_empty_files_are_refused(tmp_path, write_csv):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(codecs.BOM_UTF8)
    with pytest.raises(ImportFileError, match="is empty: row 1 must hold the column names"):
        import_run(entity="customers", path=empty)
    header_only = write_csv("header.csv", [CUSTOMERS[0], ["", "", "", ""]])
    with pytest.raises(ImportFileError, match="no data rows"):
        import_run(entity="customers", path=header_only)


def test_unknown_extension_needs_format(tmp_path):
    path = tmp_path / "customers.dat"
    path.write_text("external_id,name,customer_type\nC-1,A,consumer\n")
    with pytest.raises(ImportFileError, match="--format csv"):
        import_run(entity="customers", path=path)
    assert import_run(entity="customers", path=path, fmt="csv").ok


def test_a_file_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "customers.xlsx"
    path.write_text("not a zip")
    with pytest.raises(ImportFileError, match=r"not an Excel \.xlsx workbook"):
        import_run(entity="customers", path=path)


def test_xlsx_with_date_cells_serial_numbers_and_numeric_ids(tmp_path, catalogue):
    wb = Workbook()
    ws = wb.active
    ws.append(["订单编号", "客户编号", "下单时间", "承诺交付日期", "商品编码", "数量", "单价"])
    ws.append(
        [1001, "C-1", dt.datetime(2024, 3, 5, 14, 30), dt.date(2024, 3, 12), "TEA-1", 2, 99.5]
    )
    ws.append([1002, "C-2", 45356.5, 45363, "CUP-1", 3.0, None])
    ws.append([None] * 7)  # an empty row in the middle is skipped but still counted
    ws.append(["1003", "C-2", "2024年3月6日 9:00", None, "CUP-1", 1, "45.50"])
    path = tmp_path / "orders.xlsx"
    wb.save(path)

    result = import_run(entity="orders", path=path)
    assert result.ok, result.errors
    tz = dt.timezone(dt.timedelta(hours=8))
    first = Order.objects.get(external_id="1001")
    assert first.placed_at == dt.datetime(2024, 3, 5, 14, 30, tzinfo=tz)
    assert first.promised_delivery_on == dt.date(2024, 3, 12)
    assert first.lines.get().unit_price_cents == 9_950
    second = Order.objects.get(external_id="1002")
    assert second.placed_at == dt.datetime(2024, 3, 5, 12, 0, tzinfo=tz)
    assert second.promised_delivery_on == dt.date(2024, 3, 12)
    assert second.lines.get().unit_price_cents == 4_550  # empty: the product's price
    assert Order.objects.get(external_id="1003").placed_at.astimezone(tz).hour == 9


def test_xlsx_row_numbers_match_what_excel_shows(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["external_id", "name", "customer_type"])
    ws.append(["C-1", "A", "consumer"])
    ws.append([None, None, None])
    ws.append(["C-2", "B", "nobody"])
    path = tmp_path / "customers.xlsx"
    wb.save(path)
    result = import_run(entity="customers", path=path)
    assert [(e.row, e.column) for e in result.errors] == [(4, "customer_type")]


def test_xlsx_sheet_can_be_chosen(tmp_path):
    wb = Workbook()
    wb.active.append(["nothing", "here"])
    ws = wb.create_sheet("客户")
    ws.append(["external_id", "name", "customer_type"])
    ws.append(["C-1", "A", "consumer"])
    path = tmp_path / "book.xlsx"
    wb.save(path)
    assert import_run(entity="customers", path=path, sheet="客户").ok
    with pytest.raises(ImportFileError, match="no sheet called 'x'; its sheets are: Sheet, 客户"):
        import_run(entity="customers", path=path, sheet="x")


def test_datetime_text_adds_an_offset_only_where_the_wall_clock_is_ambiguous():
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    first = dt.datetime(2024, 10, 27, 0, 30, tzinfo=dt.UTC)  # 02:30 CEST
    second = dt.datetime(2024, 10, 27, 1, 30, tzinfo=dt.UTC)  # 02:30 CET, the repeated hour
    assert datetime_text(first, berlin) == "2024-10-27 02:30:00"
    assert datetime_text(second, berlin) == "2024-10-27 02:30:00+01:00"
    assert datetime_text(dt.datetime(2024, 3, 5, 6, 30, 0, 5, tzinfo=dt.UTC), berlin) == (
        "2024-03-05 07:30:00.000005"
    )


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ImportFileError, match=r"There is no file at .*nope\.csv"):
        import_run(entity="customers", path=tmp_path / "nope.csv")


def test_progress_is_reported_in_bytes_read_up_to_the_file_size(write_csv):
    rows = [["external_id", "name", "customer_type"]] + [
        [f"C-{i}", "王小明", "consumer"] for i in range(120)
    ]
    path = write_csv("c.csv", rows)
    calls = []
    import_run(entity="customers", path=path, batch_size=50, progress=lambda *a: calls.append(a))
    size = path.stat().st_size
    assert len(calls) == 3  # two full batches, then the end
    assert all(total == size for _, total in calls)
    assert calls[-1][0] == size
    assert calls[0][0] <= calls[1][0] <= size
