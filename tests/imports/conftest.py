"""Fixtures for import and export tests: files written on the fly and a small catalogue."""

import csv
from pathlib import Path

import pytest

from guanxi.imports.services import import_run

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"


@pytest.fixture
def write_csv(tmp_path):
    """Write rows (header first) as a CSV file and return its path."""

    def write(name: str, rows: list[list], *, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        with path.open("w", encoding=encoding, newline="") as file:
            csv.writer(file).writerows(rows)
        return path

    return write


@pytest.fixture
def catalogue(db):
    """Two customers (business C-1, consumer C-2) and two products (TEA-1, CUP-1)."""
    from guanxi.parties.services import customer_create
    from guanxi.sales.models import Product

    customer_create(external_id="C-1", name="上海明远贸易", customer_type="business")
    customer_create(external_id="C-2", name="王小明", customer_type="consumer")
    Product.objects.create(sku="TEA-1", name="龙井", unit_price_cents=12_000, unit_cost_cents=7_000)
    Product.objects.create(sku="CUP-1", name="茶杯", unit_price_cents=4_550, unit_cost_cents=1_800)


@pytest.fixture
def samples_imported(db):
    """Every sample file in docs/samples imported, in dependency order."""
    for entity in ("customers", "contacts", "products", "orders", "interactions", "cases"):
        result = import_run(entity=entity, path=SAMPLES / f"{entity}.csv")
        assert result.ok, result.errors
