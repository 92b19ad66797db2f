"""Import throughput of a large orders file into PostgreSQL and SQLite, against a plain-Django peer.

    .venv/bin/python bench/import_orders.py                 # 1,000,000 order lines, both databases
    .venv/bin/python bench/import_orders.py --lines 100000 --backends sqlite
    .venv/bin/python bench/import_orders.py --skip-peer      # without the slow bulk_create peer

Generates ``bench/data/orders_<lines>.csv`` (git-ignored; kept between runs) with the customers
and products it references, then for each database: migrates a separate benchmark database
(PostgreSQL ``guanxi_bench``, SQLite ``bench/data/bench.sqlite3``), imports the customers and
products (not timed), and times, each in its own process so peak RSS is its own:

* ``peer``: the same rows through plain Django — ``csv`` + ``bulk_create`` of orders and lines in
  batches, without validation, error report or idempotence;
* ``import``: ``guanxi import orders`` into empty order tables (validation, COPY / executemany
  staging, set-based writes), timed without loading pyarrow and pandas (see ``_preload``);
* ``re-import``: the same file again — every row validated and compared, nothing rewritten;
* ``floor``: the database's own share — the imported orders and lines inserted again from a copy
  with ``INSERT … SELECT`` and every foreign key checked, no parsing (rolled back). No importer
  can be faster than this on the same machine.

It prints rows/s and peak RSS for each. Target: ≥ 50,000 rows/s for ``import`` on PostgreSQL.
"""

import argparse
import csv
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BENCH_DB = "guanxi_bench"
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
]


def generate(lines: int, seed: int = 7) -> dict[str, Path]:
    """Orders of 1–7 lines (4 on average) from lines/20 customers over 2,000 products."""
    DATA.mkdir(parents=True, exist_ok=True)
    paths = {
        "orders": DATA / f"orders_{lines}.csv",
        "customers": DATA / f"customers_{lines}.csv",
        "products": DATA / "products_2000.csv",
    }
    if all(p.exists() for p in paths.values()):
        return paths
    rng = random.Random(seed)
    n_customers = max(lines // 20, 10)
    with paths["customers"].open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["external_id", "name", "customer_type", "region"])
        for i in range(n_customers):
            w.writerow([f"C{i:07d}", f"客户{i}", rng.choice(["consumer", "business"]), "华东"])
    prices = []
    with paths["products"].open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["sku", "name", "unit_price", "unit_cost"])
        for i in range(2000):
            price = rng.randint(500, 200_000)
            prices.append(price)
            w.writerow(
                [f"SKU{i:05d}", f"产品{i}", f"{price / 100:.2f}", f"{price * 0.6 / 100:.2f}"]
            )
    start = dt.datetime(2021, 1, 1, 8)
    written, order = 0, 0
    with paths["orders"].open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        while written < lines:
            order += 1
            placed = start + dt.timedelta(minutes=rng.randint(0, 3 * 365 * 24 * 60))
            status = rng.choice(["placed", "shipped", "delivered", "delivered", "cancelled"])
            promised = (placed + dt.timedelta(days=7)).date().isoformat()
            delivered = (placed + dt.timedelta(days=5)).date().isoformat()
            head = [
                f"O{order:08d}",
                f"C{rng.randrange(n_customers):07d}",
                placed.isoformat(sep=" "),
                promised,
                delivered if status == "delivered" else "",
                rng.choice(["online", "offline"]),
                status,
            ]
            for line_no in range(1, min(rng.randint(1, 7), lines - written) + 1):
                sku = rng.randrange(2000)
                w.writerow(
                    [
                        *head,
                        line_no,
                        f"SKU{sku:05d}",
                        rng.randint(1, 20),
                        f"{prices[sku] / 100:.2f}",
                        f"{prices[sku] * 0.6 / 100:.2f}",
                    ]
                )
                written += 1
    return paths


# -- worker steps: run in a child process with GUANXI_DATABASE_URL set ---------------------------


def _django() -> None:
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings")
    import django

    django.setup()


def _clear_orders() -> None:
    from django.db import connection

    from guanxi.sales.models import Order, OrderLine

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"TRUNCATE {OrderLine._meta.db_table}, {Order._meta.db_table} "
                "RESTART IDENTITY CASCADE"
            )
        else:
            cursor.execute(f"DELETE FROM {OrderLine._meta.db_table}")
            cursor.execute(f"DELETE FROM {Order._meta.db_table}")
            cursor.execute("VACUUM")


def step_setup(paths: dict[str, Path]) -> dict:
    from django.core.management import call_command

    from guanxi.imports.services import import_run

    call_command("migrate", verbosity=0)
    for entity in ("customers", "products"):
        result = import_run(entity=entity, path=paths[entity])
        assert result.ok, result.errors[:5]
    _clear_orders()
    return {}


def step_clear(paths: dict[str, Path]) -> dict:
    _clear_orders()
    return {}


def _preload() -> None:
    """Load what the importer loads lazily — pyarrow, and pandas through it — so that loading
    modules is not timed as throughput. In this sandbox that is ~3 s per fresh process:
    PYTHONDONTWRITEBYTECODE is set and the virtualenv holds no compiled .pyc files for pandas."""
    import pyarrow as pa
    import pyarrow.compute
    import pyarrow.csv

    pyarrow.compute.sum(pa.array([0]))  # pyarrow imports pandas on its first conversion


def step_import(paths: dict[str, Path]) -> dict:
    from guanxi.imports.services import import_run

    _preload()
    started = time.perf_counter()
    result = import_run(entity="orders", path=paths["orders"])
    seconds = time.perf_counter() - started
    assert result.ok, result.errors[:5]
    return {
        "seconds": seconds,
        "rows": result.rows,
        "counts": {k: v.as_dict() for k, v in result.counts.items()},
        "timings": result.timings,
    }


def step_peer(paths: dict[str, Path]) -> dict:
    """Plain Django: csv + bulk_create, orders then their lines, 5,000 lines per batch."""
    from decimal import Decimal

    from django.db import transaction
    from django.utils import timezone

    from guanxi.parties.models import Customer
    from guanxi.sales.models import Order, OrderLine, Product

    tz = timezone.get_default_timezone()
    started = time.perf_counter()
    customers = dict(Customer.objects.values_list("external_id", "id"))
    products = dict(Product.objects.values_list("sku", "id"))
    rows = 0

    def cents(text: str) -> int:
        return int(Decimal(text) * 100)

    def date(text: str):
        return dt.date.fromisoformat(text) if text else None

    def flush(orders: list[tuple[Order, list[list[str]]]]) -> None:
        Order.objects.bulk_create([o for o, _ in orders])
        OrderLine.objects.bulk_create(
            [
                OrderLine(
                    order_id=order.pk,
                    line_no=int(r[7]),
                    product_id=products[r[8]],
                    quantity=int(r[9]),
                    unit_price_cents=cents(r[10]),
                    unit_cost_cents=cents(r[11]),
                )
                for order, lines in orders
                for r in lines
            ]
        )

    with transaction.atomic(), paths["orders"].open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        batch: list[tuple[Order, list[list[str]]]] = []
        in_batch = 0
        current = None
        for r in reader:
            rows += 1
            if current is None or current.external_id != r[0]:
                if in_batch >= 5000:
                    flush(batch)
                    batch, in_batch = [], 0
                current = Order(
                    external_id=r[0],
                    customer_id=customers[r[1]],
                    placed_at=dt.datetime.fromisoformat(r[2]).replace(tzinfo=tz),
                    promised_delivery_on=date(r[3]),
                    delivered_on=date(r[4]),
                    channel=r[5],
                    status=r[6],
                )
                batch.append((current, []))
            batch[-1][1].append(r)
            in_batch += 1
        flush(batch)
    return {"seconds": time.perf_counter() - started, "rows": rows}


def step_floor(paths: dict[str, Path]) -> dict:
    """What the database itself spends: the imported orders and lines inserted again from a copy
    (plain INSERT … SELECT, with every foreign key checked), no parsing. Rolled back."""
    from django.db import connection, transaction

    from guanxi.sales.models import Order, OrderLine

    orders, lines = Order._meta.db_table, OrderLine._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE floor_orders AS SELECT * FROM {orders}")
        cursor.execute(f"CREATE TEMPORARY TABLE floor_lines AS SELECT * FROM {lines}")
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {lines}, {orders} CASCADE")
        else:
            cursor.execute(f"DELETE FROM {lines}")
            cursor.execute(f"DELETE FROM {orders}")
        started = time.perf_counter()
        cursor.execute(f"INSERT INTO {orders} SELECT * FROM floor_orders")
        cursor.execute(f"INSERT INTO {lines} SELECT * FROM floor_lines")
        rows = cursor.rowcount
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the foreign-key checks of a commit
        else:
            cursor.execute("PRAGMA foreign_key_check")
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return {"seconds": seconds, "rows": rows}


STEPS = {
    "setup": step_setup,
    "clear": step_clear,
    "import": step_import,
    "peer": step_peer,
    "floor": step_floor,
}


def worker(step: str, lines: int) -> None:
    _django()
    result = STEPS[step](generate(lines))
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["load"] = os.getloadavg()[0]  # other work on the machine skews the figures
    print(json.dumps(result))


# -- the parent: one child process per step --------------------------------------------------------


def database_urls(backends: list[str], pg_url: str) -> dict[str, str]:
    urls = {}
    if "postgresql" in backends:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [PG_BENCH_DB]
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{PG_BENCH_DB}"')
        urls["postgresql"] = pg_url
    if "sqlite" in backends:
        db = DATA / "bench.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        urls["sqlite"] = f"sqlite:///{db}"
    return urls


def run_step(step: str, url: str, lines: int) -> dict:
    env = {
        **os.environ,
        "GUANXI_DATABASE_URL": url,
        "GUANXI_VAR_DIR": str(DATA / "var"),
        "GUANXI_DEBUG": "0",  # DEBUG keeps every query in memory
    }
    done = subprocess.run(
        [sys.executable, __file__, "--worker", step, "--lines", str(lines)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"step {step} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument("--pg-url", default=f"postgres://postgres@127.0.0.1:5432/{PG_BENCH_DB}")
    parser.add_argument(
        "--skip-peer", action="store_true", help="leave out the bulk_create peer (minutes)"
    )
    parser.add_argument("--worker", choices=STEPS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.lines)
        return

    started = time.perf_counter()
    paths = generate(args.lines)
    size = paths["orders"].stat().st_size / 2**20
    print(
        f"data: {paths['orders'].relative_to(ROOT)} ({args.lines:,} lines, {size:.0f} MiB), "
        f"generated or reused in {time.perf_counter() - started:.1f}s"
    )
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    results = []
    for backend, url in database_urls(backends, args.pg_url).items():
        run_step("setup", url, args.lines)
        if not args.skip_peer:
            results.append((backend, "peer (bulk_create)", run_step("peer", url, args.lines)))
            run_step("clear", url, args.lines)
        results.append((backend, "import (empty tables)", run_step("import", url, args.lines)))
        results.append((backend, "re-import (unchanged)", run_step("import", url, args.lines)))
        results.append((backend, "floor (INSERT…SELECT)", run_step("floor", url, args.lines)))

    print(
        f"\n{'database':<11} {'run':<23} {'rows':>10} {'seconds':>8} {'rows/s':>9} "
        f"{'peak RSS':>9} {'load':>5}"
    )
    for backend, name, r in results:
        print(
            f"{backend:<11} {name:<23} {r['rows']:>10,} {r['seconds']:>8.1f} "
            f"{r['rows'] / r['seconds']:>9,.0f} {r['peak_rss_mb']:>6.0f} MB {r['load']:>5.1f}"
        )
    print(f"\n{os.cpu_count()} CPUs; load: 1-minute load average at the end of each run.")
    for backend, name, r in results:
        if "counts" in r:
            steps = ", ".join(f"{step} {seconds:.1f}" for step, seconds in r["timings"].items())
            print(f"{backend} {name}: {r['counts']}\n    seconds by step: {steps}")


if __name__ == "__main__":
    main()
