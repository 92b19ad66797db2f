"""The bulk CSV path (Arrow blocks, one parse per distinct cell, binary COPY on PostgreSQL) gives
exactly what the row reader gives: the same stored values, the same errors with the same rows,
columns and messages — and hands the file to the row reader wherever Arrow would read it
differently."""

import sys

import numpy as np
import pyarrow as pa
import pytest

from guanxi.core import pgcopy
from guanxi.imports import columnar, formats
from guanxi.imports.formats import ImportFileError
from guanxi.imports.services import import_run
from guanxi.sales.models import Order, OrderLine

pytestmark = pytest.mark.django_db

HEADER = [
    "order_external_id",
    "customer_external_id",
    "placed_at",
    "promised_delivery_on",
    "delivered_on",
    "channel",
    "status",
    "line_no",
    "sku",
    "quantity",
    "unit_price",
    "unit_cost",
    "备注",  # not a column of orders: ignored, but it still makes a row non-blank
]


def order_row(order: str, placed_at: str, **cells: str) -> list[str]:
    row = dict.fromkeys(HEADER, "")
    row.update(
        order_external_id=order,
        customer_external_id="C-1",
        placed_at=placed_at,
        sku="TEA-1",
        quantity="1",
    )
    row.update(cells)
    return [row[name] for name in HEADER]


GOOD_ROWS = [
    order_row(
        "O-1",
        "2024-03-05 14:30:00",
        promised_delivery_on="2024-03-10",
        unit_price="120.00",
        unit_cost="70",
        line_no="1",
        channel="online",
        status="placed",
    ),
    order_row(
        "O-1",
        "2024-03-05 14:30:00",
        promised_delivery_on="2024-03-10",
        unit_price="45.5",
        unit_cost="18.",
        line_no="2",
        sku="CUP-1",
        channel="online",
        status="placed",
    ),
    order_row(
        "O-2",
        "2024/3/5 9:05",
        promised_delivery_on="2024年3月12日",
        delivered_on="2024-03-11",
        channel="线下",
        status="已送达",
        quantity="1,000",
        unit_price="¥1,200.50",
        customer_external_id="C-2",
    ),
    order_row("O-3", "2024-03-05T08:00:00", customer_external_id="  C-1\u3000", quantity="007"),
    order_row("O-4", "2024-03-05 08:00", line_no="+3", unit_price=".5"),
    order_row("O-5", "2024-03-05", unit_price="0", 备注="备注\n跨两行"),
    order_row("O-6", "2024-03-05 08:00:00+08:00"),
    order_row("O-7", "45000"),
    order_row("O-8", "0999-12-31 23:00:00"),
    order_row("O-9", "1988-04-17 02:30:00"),  # skipped by the clocks going forward in Shanghai
    order_row("O-10", "1988-09-11 01:30:00"),  # repeated when they went back
    order_row("O-11", "2024-03-05 08:00:00.250000"),
    order_row("O-12", "20240305"),
]

BAD_ROWS = [
    order_row("B-1", "2024-02-30 10:00:00"),
    order_row("B-2", "2024-03-05 23:59:60"),
    order_row("B-3", "2024-03-05 24:00:00", quantity="0"),
    order_row("B-4", "2024-03-05", quantity="-1", unit_price="-1", unit_cost="1.234"),
    order_row("B-5", "2024-03-05", quantity="1.5", unit_price="abc", unit_cost="1e3"),
    order_row("B-6", "2024-03-05", sku="", quantity=""),
    order_row("B-7", "2024-03-05", sku="S" * 65, customer_external_id="   "),
    order_row("O" * 65, "2024-03-05"),
    order_row("B-8", "2024-03-05", channel="vip", status="", line_no="x"),
    order_row("B-9", "", promised_delivery_on="2024-03-05 10:00", delivered_on="3/5/2024"),
    order_row("B-10", "2024-03-05", quantity="99999999999"),
    order_row("B-11", "2024-03-05", status="delivered"),  # delivered needs delivered_on
    order_row("B-12", "2024-03-05", sku="NOPE", customer_external_id="C-404"),
]


def write_rows(write_csv, rows: list[list[str]], name: str = "orders.csv"):
    return write_csv(name, [HEADER, *rows])


@pytest.fixture
def bulk_spy(monkeypatch):
    """Counts the blocks the bulk path parsed, so a test knows which path ran."""
    parsed = []
    original = columnar.BlockParser.parse

    def parse(self, first_row, block):
        parsed.append(block.num_rows)
        return original(self, first_row, block)

    monkeypatch.setattr(columnar.BlockParser, "parse", parse)
    return parsed


def rows_only(monkeypatch):
    def unsupported(table, **kwargs):
        raise columnar.Unsupported
        yield  # pragma: no cover - makes this a generator like the real one

    monkeypatch.setattr(columnar, "blocks", unsupported)


def stored() -> list[tuple]:
    return list(
        OrderLine.objects.order_by("order__external_id", "line_no").values_list(
            "order__external_id",
            "order__customer__external_id",
            "order__placed_at",
            "order__promised_delivery_on",
            "order__delivered_on",
            "order__channel",
            "order__status",
            "line_no",
            "product__sku",
            "quantity",
            "unit_price_cents",
            "unit_cost_cents",
        )
    )


def report(result) -> tuple:
    return (
        result.rows,
        result.error_count,
        [(e.row, e.column, e.value, e.message) for e in result.errors],
        {k: c.as_dict() for k, c in result.counts.items()},
    )


def test_good_rows_store_the_same_values_on_both_paths(write_csv, catalogue, monkeypatch, bulk_spy):
    path = write_rows(write_csv, GOOD_ROWS)
    bulk = import_run(entity="orders", path=path)
    assert bulk.ok, bulk.errors
    assert bulk_spy, "the bulk path did not run"
    by_bulk = stored()
    assert len(by_bulk) == len(GOOD_ROWS)
    OrderLine.objects.all().delete()
    Order.objects.all().delete()

    rows_only(monkeypatch)
    by_rows = import_run(entity="orders", path=path)
    assert report(by_rows) == report(bulk)
    assert stored() == by_bulk


def test_bad_rows_give_the_same_errors_on_both_paths(write_csv, catalogue, monkeypatch, bulk_spy):
    path = write_rows(write_csv, [*GOOD_ROWS, *BAD_ROWS])
    bulk = import_run(entity="orders", path=path)
    assert bulk_spy
    rows_only(monkeypatch)
    by_rows = import_run(entity="orders", path=path)
    assert report(bulk) == report(by_rows)
    assert bulk.error_count >= len(BAD_ROWS)
    # The rows are numbered as Excel numbers them, past the line break inside row 7's cell.
    first_bad = len(GOOD_ROWS) + 2
    assert {e.row for e in bulk.errors} == set(range(first_bad, first_bad + len(BAD_ROWS)))
    assert not Order.objects.exists()


def test_errors_name_row_and_column_across_blocks(write_csv, catalogue, monkeypatch, bulk_spy):
    """Several blocks (a tiny block size), blank lines and rows of spaces in between: each error
    still names its row as Excel numbers it, and nothing is written."""
    rows = []
    for i in range(300):
        rows.append(order_row(f"O-{i}", "2024-03-05 10:00:00"))
        if i % 50 == 7:
            rows.append([""] * len(HEADER))
            rows.append([" "] * len(HEADER))
    rows.append(order_row("O-bad", "2024-03-05 10:00:00", quantity="0"))
    path = write_rows(write_csv, rows)
    monkeypatch.setattr(columnar, "BLOCK_SIZE", 4096)
    result = import_run(entity="orders", path=path)
    assert len(bulk_spy) > 3
    assert result.rows == 301
    assert [(e.row, e.column, e.value) for e in result.errors] == [(len(rows) + 1, "quantity", "0")]
    assert "positive whole number" in result.errors[0].message
    assert not Order.objects.exists()


def test_empty_lines_are_numbered_like_the_csv_module_does(write_csv, catalogue, bulk_spy):
    path = write_rows(write_csv, [order_row("O-1", "2024-03-05")])
    with path.open("a", encoding="utf-8", newline="") as file:
        file.write("\n\n" + ",".join(order_row("O-2", "2024-13-05")) + "\n")
    result = import_run(entity="orders", path=path)
    assert bulk_spy
    assert [(e.row, e.column) for e in result.errors] == [(5, "placed_at")]


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(
            lambda text: text + "O-x,C-1,2024-03-05,,,,,,TEA-1,1,,,,extra\n", id="wide row"
        ),
        pytest.param(lambda text: text + "O-x,C-1\n", id="narrow row"),
        pytest.param(
            lambda text: text.replace("备注", '"备注', 1).replace("\n", '\nx"\n', 1),
            id="quote open on the header",
        ),
    ],
)
def test_files_arrow_reads_differently_go_to_the_row_reader(
    write_csv, catalogue, monkeypatch, damage
):
    path = write_rows(write_csv, [order_row(f"O-{i}", "2024-03-05") for i in range(200)])
    path.write_text(damage(path.read_text(encoding="utf-8")), encoding="utf-8")
    monkeypatch.setattr(columnar, "BLOCK_SIZE", 2048)  # the wide row comes blocks later
    bulk = import_run(entity="orders", path=path, dry_run=True)
    rows_only(monkeypatch)
    assert report(bulk) == report(import_run(entity="orders", path=path, dry_run=True))


def test_bytes_that_are_not_utf8_late_in_the_file_are_reported_as_before(
    write_csv, catalogue, monkeypatch, bulk_spy
):
    path = write_rows(write_csv, [order_row(f"O-{i}", "2024-03-05") for i in range(2000)])
    path.write_bytes(path.read_bytes() + "O-x,王\n".encode("gb18030"))
    monkeypatch.setattr(columnar, "BLOCK_SIZE", 16384)
    # Detection reads up to the first chunk with text in it, here the header: UTF-8.
    monkeypatch.setattr(formats, "_SCAN_CHUNK", 1024)
    with pytest.raises(ImportFileError, match="is not valid utf-8") as bulk:
        import_run(entity="orders", path=path)
    assert bulk_spy, "Arrow read blocks before it met the bad bytes"
    rows_only(monkeypatch)
    with pytest.raises(ImportFileError) as by_rows:
        import_run(entity="orders", path=path)
    assert str(bulk.value) == str(by_rows.value)
    assert not Order.objects.exists()


def test_a_cell_over_the_csv_field_limit_is_refused_as_before(write_csv, catalogue):
    path = write_rows(write_csv, [order_row("O-1", "2024-03-05", 备注="x" * 200_000)])
    with pytest.raises(ImportFileError, match="Row 2 cannot be read as CSV"):
        import_run(entity="orders", path=path)


def test_the_whitespace_list_is_pythons():
    spaces = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())
    assert spaces == columnar.PYTHON_SPACE


def test_the_joined_copy_encoder_writes_the_same_bytes():
    rng = np.random.default_rng(7)
    n = 2_000
    columns = [
        ("int8", pa.array(rng.integers(-(10**15), 10**15, n))),
        ("bool", pa.array(rng.random(n) > 0.5, mask=rng.random(n) > 0.8)),
        ("text", pa.array([None if i % 7 == 0 else f"订单-{i}" * (i % 3) for i in range(n)])),
        ("date", pa.array(rng.integers(-1000, 20000, n).astype("int32"), pa.date32())),
        ("timestamptz", pa.array(rng.integers(0, 10**15, n), pa.timestamp("us", tz="UTC"))),
        ("int8", pa.array(rng.integers(0, 100, n), mask=rng.random(n) > 0.5)),
    ]
    assert pgcopy.encode_joined(columns) == bytes(pgcopy.encode(columns))
    sliced = [(t, c.slice(100, 50)) for t, c in columns]
    assert pgcopy.encode_joined(sliced) == bytes(pgcopy.encode(sliced))
    # A long stream sent in batches: the signature once at the start, the trailer at the end.
    batches = [
        pgcopy.encode_joined(
            [(t, c.slice(start, 700)) for t, c in columns],
            signature=start == 0,
            trailer=start + 700 >= n,
        )
        for start in range(0, n, 700)
    ]
    assert b"".join(batches) == bytes(pgcopy.encode(columns))
