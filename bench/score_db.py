"""A full database scoring run end to end on PostgreSQL, against a naive Django peer.

    .venv/bin/python bench/score_db.py                       # 1,000,000 customers, ~10M order lines
    .venv/bin/python bench/score_db.py --customers 100000    # a smaller company

The data is the demo company (``guanxi demo --customers N --seed 1``), generated once into its own
database (default ``guanxi_bench_score``; created if missing) and reused while its customer count
matches; ``--regenerate`` drops it first. Each step runs in its own child process, so each peak RSS
is its own:

* ``score``: ``scoring_run_execute`` as of the demo's last day, as a nightly run would (a
  successful run as of the day before is kept to compare with, so the score-changes step has a
  day's changes to record; the first time it is created, untimed). Prints the run's own step
  timings (``ScoringRun.metadata["timings_s"]``: extraction, each engine step, the hierarchy
  standing, storing), the wall time of the whole call, peak RSS, the rows, and PASS/FAIL against
  the target: **≤ 30 s end to end for 1,000,000 customers**.
* the peers, the same work done the naive way:
  ``extract``: the purchases through the ORM (``.annotate(Sum(…)).values_list()`` into Python
  lists, then Arrow) against Guanxi's ``COPY … TO STDOUT`` into Arrow, over all the data; the
  two tables are compared.
  ``store``: ``CustomerScore.objects.bulk_create(batch_size=5000)`` against Guanxi's ``COPY …
  FROM STDIN`` for a sample of the run's scores (``--sample``, default 100,000), each into a new
  run inside one transaction that is rolled back (each timing includes the deferred foreign-key
  checks a commit would run).

It never touches the ``test`` database (nor any ``test_*`` one).
"""

import argparse
import datetime as dt
import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/guanxi_bench_score"
SEED = 1
TARGET_S = 30.0
TARGET_CUSTOMERS = 1_000_000
FORBIDDEN = {"test", "postgres", "template0", "template1"}


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- worker steps: run in a child process with GUANXI_DATABASE_URL set ---------------------------


def _django() -> None:
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings")
    import django

    django.setup()


def _as_of() -> dt.date:
    from guanxi.demo.params import DEFAULT_AS_OF

    return DEFAULT_AS_OF  # the demo's last day, which `guanxi demo` generates up to


def step_score(args: argparse.Namespace) -> dict:
    """One timed run, with a successful run of the day before kept to compare with."""
    started = time.perf_counter()
    from guanxi.scoring.choices import RunStatus
    from guanxi.scoring.models import ScoringRun
    from guanxi.scoring.services import scoring_run_execute

    imports = time.perf_counter() - started
    as_of = _as_of()
    before = as_of - dt.timedelta(days=1)
    previous = (
        ScoringRun.objects.filter(status=RunStatus.SUCCEEDED, as_of=before).order_by("-id").first()
    )
    # Earlier timed runs (and failed ones) go; the database keeps at most two runs.
    ScoringRun.objects.exclude(pk=previous.pk if previous else None).delete()
    previous_s = None
    if previous is None:
        clock = time.perf_counter()
        try:
            previous = scoring_run_execute(as_of=before, run_playbooks=False)
        except Exception as exc:
            return {"error": f"the run as of {before} failed: {type(exc).__name__}: {exc}"}
        previous_s = time.perf_counter() - clock

    clock = time.perf_counter()
    try:
        run = scoring_run_execute(as_of=as_of, run_playbooks=False)
    except Exception as exc:
        return {"error": f"the run as of {as_of} failed: {type(exc).__name__}: {exc}"}
    wall = time.perf_counter() - clock
    changes = {k: v for k, v in run.metadata.get("changes", {}).items() if k != "previous_run"}
    return {
        "run": run.pk,
        "as_of": as_of.isoformat(),
        "previous_run": previous.pk,
        "previous_as_of": before.isoformat(),
        "previous_s": previous_s,
        "imports_s": imports,
        "wall_s": wall,
        "duration_s": run.duration_s,
        # The in-memory dict keeps the order the steps ran in (jsonb does not).
        "timings": run.metadata.get("timings_s", {}),
        "n_customers": run.n_customers,
        "n_transactions": run.n_transactions,
        "changes": sum(changes.values()),
    }


def _digest(table) -> str:
    """The same purchases give the same digest, whatever order they were read in."""
    import pyarrow as pa

    ordered = table.sort_by([(name, "ascending") for name in table.column_names])
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, ordered.schema) as writer:
        writer.write_table(ordered.combine_chunks())
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()[:16]


def step_extract_copy(args: argparse.Namespace) -> dict:
    """Guanxi's extraction, as the run does it: COPY … TO STDOUT into Arrow."""
    from guanxi.scoring.extract import transactions_extract

    started = time.perf_counter()
    table = transactions_extract(as_of=_as_of())
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": table.num_rows, "digest": _digest(table)}


def step_extract_orm(args: argparse.Namespace) -> dict:
    """The naive extraction: the ORM's aggregation, row by row into Python lists, then Arrow."""
    import zoneinfo

    import pyarrow as pa
    from django.conf import settings
    from django.db.models import BigIntegerField, F, Sum
    from django.db.models.functions import Cast

    from guanxi.sales.models import Order
    from guanxi.scoring.extract import TRANSACTIONS_SCHEMA

    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    cutoff = dt.datetime.combine(_as_of() + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    started = time.perf_counter()
    quantity, price, cost = (
        F("lines__quantity"),
        F("lines__unit_price_cents"),
        F("lines__unit_cost_cents"),
    )
    purchases = (
        Order.objects.purchases()
        .filter(placed_at__lt=cutoff)
        .annotate(
            amount=Cast(Sum(quantity * price), BigIntegerField()),
            profit=Cast(Sum(quantity * (price - cost)), BigIntegerField()),
        )
        .filter(amount__isnull=False)  # orders with lines, like the extraction's inner join
        .values_list("customer_id", "placed_at", "amount", "profit")
    )
    customers, days, amounts, profits = [], [], [], []
    for customer_id, placed_at, amount, profit in purchases.iterator(chunk_size=20_000):
        customers.append(customer_id)
        days.append(placed_at.astimezone(tz).date())
        amounts.append(amount)
        profits.append(profit)
    table = pa.table([customers, days, amounts, profits], schema=TRANSACTIONS_SCHEMA)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": table.num_rows, "digest": _digest(table)}


def _score_sample(run_id: int, limit: int):
    """``limit`` of a run's stored scores as an Arrow table in ``scores_store``'s columns."""
    import pyarrow as pa
    from django.db import connection

    from guanxi.scoring import store
    from guanxi.scoring.models import CustomerScore

    types = {
        "BooleanField": pa.bool_(),
        "CharField": pa.string(),
        "DateField": pa.date32(),
        "FloatField": pa.float64(),
    }
    fields = {f.column: f for f in CustomerScore._meta.concrete_fields}
    names = [c for c in store._COLUMNS if c != "run_id"]
    schema = pa.schema([(c, types.get(fields[c].get_internal_type(), pa.int64())) for c in names])
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(q(c) for c in names)} FROM {q(CustomerScore._meta.db_table)} "
            "WHERE run_id = %s ORDER BY customer_id LIMIT %s",
            [run_id, limit],
        )
        columns = list(zip(*cursor.fetchall(), strict=True))
    return pa.table([pa.array(c, f.type) for c, f in zip(columns, schema, strict=True)], schema)


def step_store(args: argparse.Namespace) -> dict:
    """COPY against bulk_create for the same sample of scores, each into a new run; rolled back."""
    from django.db import connection, transaction

    from guanxi.scoring.choices import RunStatus
    from guanxi.scoring.models import CustomerScore, ScoringRun
    from guanxi.scoring.store import scores_store

    def checked() -> None:
        # The foreign-key checks a commit would run (they are deferred, and this is rolled back).
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    latest = ScoringRun.objects.filter(status=RunStatus.SUCCEEDED).order_by("-id").first()
    sample = _score_sample(latest.pk, args.sample)
    result = {"rows": sample.num_rows}
    with transaction.atomic():
        run = ScoringRun.objects.create(as_of=latest.as_of)
        started = time.perf_counter()
        scores_store(run_id=run.pk, table=sample)
        checked()
        result["copy_s"] = time.perf_counter() - started

        run = ScoringRun.objects.create(as_of=latest.as_of)
        started = time.perf_counter()
        CustomerScore.objects.bulk_create(
            [CustomerScore(run_id=run.pk, **row) for row in sample.to_pylist()], batch_size=5000
        )
        checked()
        result["bulk_create_s"] = time.perf_counter() - started
        transaction.set_rollback(True)
    return result


STEPS = {
    "score": step_score,
    "extract-copy": step_extract_copy,
    "extract-orm": step_extract_orm,
    "store": step_store,
}


def worker(args: argparse.Namespace) -> None:
    _django()
    result = STEPS[args.worker](args)
    result["peak_rss_mib"] = peak_rss_mib()
    result["load"] = os.getloadavg()[0]  # other work on the machine skews the figures
    print(json.dumps(result))


# -- the parent ------------------------------------------------------------------------------------


def _database_name(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        sys.exit(f"--database-url must be a PostgreSQL URL, not {url!r}")
    name = parts.path.lstrip("/")
    if not name or name in FORBIDDEN or name.startswith("test_"):
        sys.exit(f"refusing to use the database {name!r}: pick a benchmark database of its own")
    return name


def _admin_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))


def database_ensure(url: str, regenerate: bool) -> str:
    """Create the benchmark database if it is missing (dropped first with ``regenerate``)."""
    import psycopg

    name = _database_name(url)
    with psycopg.connect(_admin_url(url), autocommit=True) as conn:
        if regenerate:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
        return conn.execute("SHOW server_version").fetchone()[0]


def _sql(url: str, statement: str):
    import psycopg

    with psycopg.connect(
        urlunsplit(urlsplit(url)._replace(scheme="postgresql")), autocommit=True
    ) as c:
        cursor = c.execute(statement)
        row = cursor.fetchone() if cursor.description else None
    return row[0] if row else None


def _env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "GUANXI_DATABASE_URL": url,
        "GUANXI_VAR_DIR": str(DATA / "var"),
        "GUANXI_DEBUG": "0",  # DEBUG keeps every query in memory
    }


def guanxi(url: str, *argv: str) -> None:
    subprocess.run([sys.executable, "-m", "guanxi", *argv], env=_env(url), check=True)


def run_step(step: str, args: argparse.Namespace) -> dict:
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--worker",
            step,
            "--customers",
            str(args.customers),
            "--sample",
            str(args.sample),
            "--database-url",
            args.database_url,
        ],
        env=_env(args.database_url),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"step {step} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def data_ensure(args: argparse.Namespace) -> str:
    """Migrate, and generate the demo company unless it is there with the right size."""
    url = args.database_url
    guanxi(url, "migrate", "--noinput", "-v", "0")
    existing = _sql(url, "SELECT count(*) FROM parties_customer")
    if existing == args.customers:
        return "reused"
    print(
        f"generating the demo company: {args.customers:,} customers, seed {SEED} "
        f"({'replacing ' + format(existing, ',') + ' customers; ' if existing else ''}"
        "about 190 s for 1,000,000) …",
        flush=True,
    )
    started = time.perf_counter()
    flush = ["--flush"] if existing else []
    guanxi(
        url,
        "demo",
        "--customers",
        str(args.customers),
        "--seed",
        str(SEED),
        "--quiet",
        "--no-score",
        *flush,
    )
    _sql(url, "VACUUM (ANALYZE)")  # fresh statistics, as a database in use has
    return f"generated in {time.perf_counter() - started:.0f} s"


def _row(label: str, seconds: float | None, note: str = "") -> str:
    shown = "" if seconds is None else f"{seconds:9.2f}"
    return f"  {label:<34}{shown:>9}  {note}".rstrip()


def report_score(r: dict) -> bool:
    timings = dict(r["timings"])
    print(
        f"\nscoring run #{r['run']} as of {r['as_of']}: {r['n_customers']:,} customers scored "
        f"from {r['n_transactions']:,} purchases; compared with run #{r['previous_run']} as of "
        f"{r['previous_as_of']}: {r['changes']:,} changes recorded"
    )
    if r["previous_s"] is not None:
        print(f"  (run #{r['previous_run']} was created first, untimed: {r['previous_s']:.1f} s)")
    print(f"  {'step':<34}{'seconds':>9}")
    shown = 0.0
    if "extract" in timings:
        shown += timings["extract"]
        print(_row("extract (COPY → Arrow)", timings.pop("extract")))
    engine_total = timings.pop("total", None)
    standing = {k: timings.pop(k) for k in list(timings) if k.startswith("standing")}
    store = timings.pop("store", None)
    changes = timings.pop("changes", None)
    for name, seconds in timings.items():  # the engine's steps, in the order they ran
        print(_row(f"  engine: {name}", seconds))
    if engine_total is not None:
        print(_row("engine total (wall)", engine_total, "fits overlap RFM + ABC in a thread"))
        shown += engine_total
    for name, seconds in standing.items():
        print(_row(name, seconds))
        shown += seconds
    if store is not None:
        print(_row("store (binary COPY)", store))
        shown += store
    if changes is not None:
        print(_row("score changes (INSERT … SELECT)", changes))
        shown += changes
    print(_row("other (run row, progress, events)", r["wall_s"] - shown))
    print(_row("ScoringRun.duration_s", r["duration_s"]))
    print(_row("end to end (scoring_run_execute)", r["wall_s"]))
    print(f"  peak RSS {r['peak_rss_mib']:,.0f} MiB; imports before the run {r['imports_s']:.1f} s")
    ok = r["wall_s"] <= TARGET_S
    scale = (
        ""
        if r["n_customers"] >= TARGET_CUSTOMERS
        else f" (the target is for {TARGET_CUSTOMERS:,} customers; this run had "
        f"{r['n_customers']:,})"
    )
    print(f"target ≤ {TARGET_S:.0f} s end to end: {'PASS' if ok else 'FAIL'}{scale}")
    return ok


def report_peers(copy: dict, orm: dict, store: dict) -> None:
    print(
        f"\n{'peer comparison':<50} {'rows':>10} {'seconds':>8} {'rows/s':>10} "
        f"{'peak RSS':>9} {'load':>5}"
    )
    lines = [
        ("extract: COPY → Arrow (Guanxi)", copy["rows"], copy["seconds"], copy),
        ("extract: ORM values_list → lists → Arrow (peer)", orm["rows"], orm["seconds"], orm),
        ("store: COPY, sample (Guanxi)", store["rows"], store["copy_s"], store),
        (
            "store: bulk_create(batch_size=5000), sample (peer)",
            store["rows"],
            store["bulk_create_s"],
            store,
        ),
    ]
    for label, rows, seconds, r in lines:
        print(
            f"{label:<50} {rows:>10,} {seconds:>8.2f} {rows / seconds:>10,.0f} "
            f"{r['peak_rss_mib']:>5,.0f} MiB {r['load']:>5.1f}"
        )
    same = "identical" if copy["digest"] == orm["digest"] else "DIFFERENT"
    print(
        f"extraction: the ORM takes {orm['seconds'] / copy['seconds']:.1f}× as long; "
        f"the two tables are {same}"
    )
    print(
        f"store: bulk_create takes {store['bulk_create_s'] / store['copy_s']:.1f}× as long as "
        "COPY (both rolled back; the store peaks share one process)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument(
        "--sample", type=int, default=100_000, help="scores stored by each store peer"
    )
    parser.add_argument("--skip-peers", action="store_true", help="only the scoring run")
    parser.add_argument(
        "--regenerate", action="store_true", help="drop the benchmark database and start over"
    )
    parser.add_argument("--worker", choices=STEPS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _database_name(args.database_url)
        worker(args)
        return 0

    version = database_ensure(args.database_url, args.regenerate)
    data = data_ensure(args)
    url = args.database_url
    lines = _sql(url, "SELECT count(*) FROM sales_orderline")
    orders = _sql(url, "SELECT count(*) FROM sales_order")
    print(
        f"data: {args.customers:,} customers, {orders:,} orders, {lines:,} order lines "
        f"(guanxi demo --seed {SEED}; {data}); PostgreSQL {version}, "
        f"database {_database_name(url)}"
    )
    _sql(url, "ANALYZE")
    load_before = os.getloadavg()
    score = run_step("score", args)
    if "error" in score:
        print(f"\nthe scoring run failed: {score['error']}")
        return 1
    ok = report_score(score)
    if not args.skip_peers:
        copy = run_step("extract-copy", args)
        orm = run_step("extract-orm", args)
        store = run_step("store", args)
        report_peers(copy, orm, store)
    load_after = os.getloadavg()
    print(
        f"\nload average (1, 5, 15 min) before: {', '.join(f'{x:.2f}' for x in load_before)}; "
        f"after: {', '.join(f'{x:.2f}' for x in load_after)}; cores: {os.cpu_count()}"
    )
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())
