"""docs/import.md documents every column, alias and allowed value the code accepts, and every
sample file in docs/samples imports cleanly (CSV and XLSX alike)."""

import re
from pathlib import Path

import pytest

from guanxi.imports.parsing import enum_spellings
from guanxi.imports.schemas import SCHEMAS
from guanxi.imports.services import import_run
from guanxi.sales.models import Order, OrderLine

from .conftest import SAMPLES

DOC = Path(__file__).resolve().parents[2] / "docs" / "import.md"


def _section(text: str, entity: str) -> str:
    match = re.search(rf"^### {entity}\b.*?(?=^### |\Z)", text, re.M | re.S)
    assert match, f"docs/import.md has no section for {entity}"
    return match.group(0)


@pytest.mark.parametrize("entity", list(SCHEMAS))
def test_the_docs_list_every_column_with_its_chinese_headers_and_requiredness(entity):
    section = _section(DOC.read_text("utf-8"), entity)
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `(\w+)` \|.*$", section, re.M)}
    schema = SCHEMAS[entity]
    assert list(rows) == [c.name for c in schema.columns]
    for column in schema.columns:
        cells = [c.strip() for c in rows[column.name].split("|")]
        assert cells[2] == ", ".join(column.aliases), column.name
        assert cells[3] == ("yes" if column.required else ""), column.name


def test_the_docs_list_every_allowed_value_with_both_labels():
    text = DOC.read_text("utf-8")
    for schema in SCHEMAS.values():
        for column in schema.columns:
            if column.choices is not None:
                for value, english, chinese in enum_spellings(column.choices):
                    assert f"`{value}` ({english}, {chinese})" in text


def test_there_is_a_sample_for_every_entity():
    assert {p.stem for p in SAMPLES.glob("*.csv")} == set(SCHEMAS)


@pytest.mark.django_db
def test_the_orders_sample_reads_the_same_from_xlsx_as_from_csv(samples_imported):
    def lines():
        return list(
            OrderLine.objects.order_by("order__external_id", "line_no").values_list(
                "order__external_id",
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

    from_csv = lines()
    OrderLine.objects.all().delete()
    Order.objects.filter(interactions=None, cases=None).delete()
    result = import_run(entity="orders", path=SAMPLES / "orders.xlsx")
    assert result.ok, result.errors
    assert lines() == from_csv
