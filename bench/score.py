"""Benchmark: Guanxi's scoring pipeline against lifetimes 0.11.3 on the same simulated data.

    .venv/bin/python bench/score.py                      # 1,000,000 customers, ~10M transactions
    .venv/bin/python bench/score.py --customers 100000   # smaller run

The data (a buy-till-you-die simulation with a fixed seed) is written once to ``bench/data/`` and
reused. Each side runs in its own fresh process, so each peak RSS is its own: Guanxi in this
virtualenv, lifetimes in ``bench/.venv-lifetimes`` (created with uv on first use, see
``--setup-lifetimes``). The two exchange nothing but Parquet and JSON files. The printed table
gives each step's time on both sides, the ratio, each process's peak RSS and the relative
difference of every fitted parameter.

Both sides fit the same thing: days as the time unit, one transaction per customer-day, Gamma-Gamma
on the repeat buyers' mean repeat spend in currency units, lifetimes with ``penalizer_coef=0`` and
CLV over 12 periods of 30 days at 1 % per period (lifetimes' ``time=12, freq="D"``).

This module imports only the standard library at the top: the lifetimes worker runs it in a
virtualenv that has neither Guanxi nor Ibis.
"""

from __future__ import annotations

import argparse
import datetime as dt
import glob
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
DATA = BENCH / "data"
LIFETIMES_VENV = BENCH / ".venv-lifetimes"
LIFETIMES_PACKAGES = [
    "lifetimes==0.11.3",
    "setuptools<81",  # lifetimes imports pkg_resources
    "pandas==3.1.1",
    "numpy==2.4.6",
    "scipy==1.17.1",
    "autograd==1.9.1",
    "pyarrow==26.0.1",
]
START = dt.date(2022, 1, 1)
HORIZON_DAYS = 1095
AS_OF = START + dt.timedelta(days=HORIZON_DAYS)  # the day after the last possible purchase
CLV_PERIODS, PERIOD_DAYS, DISCOUNT = 12, 30, 0.01


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- data --------------------------------------------------------------------------------------


def simulate(n_customers: int, seed: int) -> Any:
    """A buy-till-you-die population: (customer_id, ts, amount_cents, profit_cents) in Arrow.

    Customers arrive uniformly over the first two years of a three-year window and buy at once.
    Each then buys as a Poisson process (rate ~ Gamma(0.9, 1/28) per day) and after every purchase
    drops out with probability p ~ Beta(0.8, 6) (BG/NBD). Spend per purchase is Gamma(6, ν) with
    ν ~ Gamma(4, 1/15) per customer (Gamma-Gamma); margins are Beta(4, 12) per customer, with 3 % of
    lines sold at a loss; 5 % of purchases are recorded as two order lines.
    """
    import numpy as np
    import pyarrow as pa

    from guanxi.analytics.simulate import purchase_days

    rng = np.random.default_rng(seed)
    birth = rng.uniform(0, HORIZON_DAYS * 2 / 3, n_customers)
    rate = rng.gamma(0.9, 1 / 28.0, n_customers)
    dropout = rng.beta(0.8, 6.0, n_customers)
    # Repeat purchases before dropping out, capped near what the window can hold.
    cap = np.ceil(rate * (HORIZON_DAYS - birth) * 3 + 10).astype(np.int64)
    customer, day = purchase_days(
        rng, birth=birth, rate=rate, dropout=dropout, horizon=HORIZON_DAYS, max_repeats=cap
    )

    split = rng.random(customer.size) < 0.05
    customer = np.concatenate([customer, customer[split]])
    day = np.concatenate([day, day[split]])
    scale = rng.gamma(4.0, 1 / 15.0, n_customers)
    amount = np.maximum(np.rint(rng.gamma(6.0, 1.0, customer.size) / scale[customer] * 100), 1)
    margin = rng.beta(4.0, 12.0, n_customers)[customer]
    margin[rng.random(customer.size) < 0.03] = -0.1
    order = np.argsort(day, kind="stable")  # exported in time order, as an order system would
    stamp = np.datetime64(START, "us") + (day[order] * 86_400e6).astype("timedelta64[us]")
    return pa.table(
        {
            "customer_id": pa.array(customer[order].astype(np.int64) + 1),
            "ts": pa.array(stamp, pa.timestamp("us")),
            "amount_cents": pa.array(amount[order].astype(np.int64)),
            "profit_cents": pa.array(np.rint(amount * margin)[order].astype(np.int64)),
        }
    )


def dataset(n_customers: int, seed: int) -> Path:
    """The Parquet file for (n_customers, seed), generated on first use."""
    path = DATA / f"transactions-{n_customers}-seed{seed}.parquet"
    if path.exists():
        return path
    import pyarrow.parquet as pq

    DATA.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    table = simulate(n_customers, seed)
    partial = path.with_suffix(".partial")
    pq.write_table(table, partial)
    partial.rename(path)
    print(
        f"generated {table.num_rows:,} transactions for {n_customers:,} customers "
        f"in {time.perf_counter() - started:.1f} s → {path.relative_to(BENCH.parent)}"
    )
    return path


# --- Guanxi worker ----------------------------------------------------------------------------


def guanxi_worker(data: Path, out: Path) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from guanxi.analytics.config import ScoringConfig
    from guanxi.analytics.pipeline import score

    config = ScoringConfig(
        time_unit="day",
        clv_horizon_periods=CLV_PERIODS,
        clv_period_days=PERIOD_DAYS,
        discount_rate=DISCOUNT,
    )
    # Warm up on a small population first: the first query of a process pays one-off imports
    # and engine start-up, which are not the pipeline's cost.
    score(simulate(3_000, seed=1), AS_OF, config)
    started = time.perf_counter()
    result = score(data, AS_OF, config)
    wall = time.perf_counter() - started
    t = result.table
    margin = pc.divide(
        pc.cast(t["profit_cents"], pa.float64()), pc.cast(t["revenue_cents"], pa.float64())
    )
    pq.write_table(
        pa.table(
            {
                "customer_id": t["customer_id"],
                "x": t["x"],
                "t_x": t["t_x"],
                "T": t["T"],
                "margin": margin,
                "clv": pc.divide(t["clv_cents"], 100.0),
            }
        ),
        out.with_suffix(".parquet"),
    )
    report = {
        "timings": result.metadata["timings_s"],
        "wall": wall,
        "models": result.metadata["models"],
        "rows": result.metadata["rows"],
        "peak_rss_mib": peak_rss_mib(),
    }
    out.write_text(json.dumps(report))


# --- lifetimes worker (runs in bench/.venv-lifetimes) -----------------------------------------


def lifetimes_worker(data: Path, out: Path) -> None:
    import warnings

    warnings.filterwarnings("ignore")  # lifetimes and pandas 3 disagree loudly about dtypes
    import pandas as pd
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import ConvergenceError, summary_data_from_transaction_data

    timings: dict[str, float] = {}

    def timed(step: str, started: float) -> None:
        timings[step] = time.perf_counter() - started

    started = time.perf_counter()
    tx = pd.read_parquet(data, columns=["customer_id", "ts", "amount_cents"])
    tx["amount"] = tx["amount_cents"] / 100.0
    timed("load", started)

    started = time.perf_counter()
    summary = summary_data_from_transaction_data(
        tx,
        "customer_id",
        "ts",
        monetary_value_col="amount",
        observation_period_end=pd.Timestamp(AS_OF),
        freq="D",
    )
    timed("summary", started)
    del tx

    started = time.perf_counter()
    bgf = BetaGeoFitter(penalizer_coef=0.0)
    bgf.fit(summary["frequency"], summary["recency"], summary["T"])
    timed("fit_bgnbd", started)

    started = time.perf_counter()
    repeat = summary[summary["frequency"] > 0]
    notes = []
    try:
        ggf = GammaGammaFitter(penalizer_coef=0.0).fit(
            repeat["frequency"], repeat["monetary_value"]
        )
    except ConvergenceError:
        # BFGS often stops on "precision loss" with the gradient already ~1e-7; lifetimes then
        # raises. Its own remedy is a penalizer, which changes the answer; a looser gradient
        # tolerance does not, so retry with that (the retry's time is counted).
        notes.append(
            "lifetimes' Gamma-Gamma fit failed at its default tol=1e-7; refitted with 1e-6"
        )
        ggf = GammaGammaFitter(penalizer_coef=0.0).fit(
            repeat["frequency"], repeat["monetary_value"], tol=1e-6
        )
    timed("fit_gamma_gamma", started)

    started = time.perf_counter()
    clv = ggf.customer_lifetime_value(
        bgf,
        summary["frequency"],
        summary["recency"],
        summary["T"],
        summary["monetary_value"],
        time=CLV_PERIODS,
        discount_rate=DISCOUNT,
        freq="D",
    )
    timed("clv", started)

    frame = summary.assign(clv=clv).reset_index()
    frame.to_parquet(out.with_suffix(".parquet"), index=False)
    report = {
        "timings": timings,
        "params": {
            "bgnbd": {k: float(v) for k, v in bgf.params_.items()},
            "gamma_gamma": {k: float(v) for k, v in ggf.params_.items()},
        },
        "peak_rss_mib": peak_rss_mib(),
        "notes": notes,
    }
    out.write_text(json.dumps(report))


# --- orchestration ----------------------------------------------------------------------------


def setup_lifetimes(interpreter: str | None) -> Path:
    """Create ``bench/.venv-lifetimes`` with uv unless it exists; return its python."""
    python = LIFETIMES_VENV / "bin" / "python"
    if python.exists():
        return python
    uv = shutil.which("uv") or str(BENCH.parent / ".bootstrap" / "bin" / "uv")  # make bootstraps it
    interpreter = interpreter or _find_interpreter()
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    subprocess.run([uv, "venv", "--python", interpreter, str(LIFETIMES_VENV)], check=True, env=env)
    subprocess.run(
        [uv, "pip", "install", "--python", str(python), *LIFETIMES_PACKAGES], check=True, env=env
    )
    return python


def _find_interpreter() -> str:
    """A Python 3.11 or 3.12 for lifetimes (its dependencies predate 3.13)."""
    for name in ("python3.11", "python3.12"):
        found = shutil.which(name)
        if found:
            return found
    for pattern in (
        "/root/.pyenv/versions/3.11*/bin/python3.11",
        "/root/.pyenv/versions/3.12*/bin/python3.12",
    ):
        matches = sorted(glob.glob(pattern))
        if matches:
            return matches[-1]
    raise SystemExit("no python3.11 or python3.12 found: pass --lifetimes-interpreter")


def run_worker(python: Path | str, kind: str, data: Path, out: Path) -> dict[str, Any]:
    command = [str(python), str(Path(__file__).resolve()), "--worker", kind]
    command += ["--data", str(data), "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": ""}
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"the {kind} worker failed (exit {done.returncode})")
    print(f"{kind}: done in {time.perf_counter() - started:.1f} s (process wall time)")
    return json.loads(out.read_text())


def compare(guanxi: dict[str, Any], lifetimes: dict[str, Any] | None, work: Path) -> str:
    """The printed report."""
    g = guanxi["timings"]
    lines = [
        f"customers: {guanxi['rows']['customers']:,}   transactions: "
        f"{guanxi['rows']['transactions']:,}   repeat buyers: {guanxi['rows']['repeat_buyers']:,}",
        "",
        "| step | Guanxi (s) | lifetimes 0.11.3 (s) | lifetimes ÷ Guanxi |",
        "| --- | ---: | ---: | ---: |",
    ]
    pairs = [
        ("load + validate", g["connect"] + g["validate"], "load"),
        ("summary / features", g["features"], "summary"),
        ("fit BG/NBD ¹", g["fit_bgnbd"], "fit_bgnbd"),
        ("fit Gamma-Gamma ¹", g["fit_gamma_gamma"], "fit_gamma_gamma"),
        ("expected spend + CLV", g["clv"], "clv"),
    ]
    lt = lifetimes["timings"] if lifetimes else {}
    for label, ours, key in pairs:
        theirs = lt.get(key)
        ratio = f"{theirs / ours:.1f}×" if theirs is not None else "—"
        shown = f"{theirs:.2f}" if theirs is not None else "—"
        lines.append(f"| {label} | {ours:.2f} | {shown} | {ratio} |")
    comparable = ("features", "fit_bgnbd", "fit_gamma_gamma", "clv")
    ours_sum = sum(g[k] for k in comparable)
    if lifetimes:
        theirs_sum = sum(lt[k] for k in ("summary", "fit_bgnbd", "fit_gamma_gamma", "clv"))
        lines.append(
            f"| **steps both do** | **{ours_sum:.2f}** | **{theirs_sum:.2f}** | "
            f"**{theirs_sum / ours_sum:.1f}×** |"
        )
    for label, key in (
        ("RFM + ABC", "segments"),
        ("P(alive), expected purchases", "predict"),
        ("lifecycle", "lifecycle"),
        ("assemble", "assemble"),
    ):
        lines.append(f"| {label} | {g[key]:.2f} | — | |")
    lines.append(f"| **whole pipeline** (wall) | **{g['total']:.2f}** | | |")
    rss = f"| peak RSS (MiB) | {guanxi['peak_rss_mib']:.0f} | "
    rss += f"{lifetimes['peak_rss_mib']:.0f} | |" if lifetimes else "— | |"
    lines.append(rss)
    lines.append(
        "\n¹ Guanxi fits both models in a worker thread while the engine computes RFM + ABC, so "
        "these times include waiting for a core; the whole pipeline's wall time is the sum of "
        "the other rows plus nothing for the fits unless they outlast RFM + ABC "
        f"(waited {g.get('fit', 0.0):.2f} s)."
    )
    if not lifetimes:
        return "\n".join(lines)

    lines += [
        "",
        "| parameter | Guanxi | lifetimes | relative difference |",
        "| --- | ---: | ---: | ---: |",
    ]
    worst = 0.0
    for model in ("bgnbd", "gamma_gamma"):
        for name, theirs in lifetimes["params"][model].items():
            ours = guanxi["models"][model]["params"][name]
            diff = abs(ours - theirs) / abs(theirs)
            worst = max(worst, diff)
            lines.append(f"| {model}.{name} | {ours:.6g} | {theirs:.6g} | {diff:.1e} |")
    lines.append(f"| **largest** | | | **{worst:.1e}** |")
    lines += ["", _compare_customers(work), *lifetimes["notes"]]
    return "\n".join(lines)


def _compare_customers(work: Path) -> str:
    import numpy as np
    import pyarrow.parquet as pq

    ours = pq.read_table(work / "guanxi.parquet").sort_by("customer_id")
    theirs = pq.read_table(work / "lifetimes.parquet").sort_by("customer_id")
    same_ids = ours["customer_id"].equals(theirs["customer_id"])
    summary = max(
        float(np.max(np.abs(ours[a].to_numpy() - theirs[b].to_numpy())))
        for a, b in (("x", "frequency"), ("t_x", "recency"), ("T", "T"))
    )
    margin = np.nan_to_num(ours["margin"].to_numpy(zero_copy_only=False))
    clv_theirs = theirs["clv"].to_numpy() * np.clip(margin, 0, 1)
    clv_ours = ours["clv"].to_numpy()
    positive = clv_theirs > 1e-6
    rel = np.abs(clv_ours[positive] - clv_theirs[positive]) / clv_theirs[positive]
    return (
        f"same customers: {same_ids}; largest |difference| of x, t_x, T: {summary:g}; "
        f"CLV (lifetimes × margin) relative difference: median {np.median(rel):.1e}, "
        f"max {np.max(rel):.1e} over {positive.sum():,} customers with CLV > 0"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20240630)
    parser.add_argument("--skip-lifetimes", action="store_true", help="time Guanxi only")
    parser.add_argument("--setup-lifetimes", action="store_true", help="only create the venv")
    parser.add_argument("--lifetimes-interpreter", help="python 3.11/3.12 for the lifetimes venv")
    parser.add_argument("--worker", choices=("guanxi", "lifetimes"), help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker == "guanxi":
        guanxi_worker(args.data, args.out)
        return 0
    if args.worker == "lifetimes":
        lifetimes_worker(args.data, args.out)
        return 0
    if args.setup_lifetimes:
        print(setup_lifetimes(args.lifetimes_interpreter))
        return 0

    data = dataset(args.customers, args.seed)
    work = DATA / f"run-{args.customers}-seed{args.seed}"
    work.mkdir(parents=True, exist_ok=True)
    python = None if args.skip_lifetimes else setup_lifetimes(args.lifetimes_interpreter)
    load_before = os.getloadavg()
    guanxi = run_worker(sys.executable, "guanxi", data, work / "guanxi.json")
    lifetimes = None
    if python is not None:
        lifetimes = run_worker(python, "lifetimes", data, work / "lifetimes.json")
    load_after = os.getloadavg()
    print()
    print(compare(guanxi, lifetimes, work))
    # Both sides' wall times grow when other processes compete for the two cores.
    print(
        f"\nload average (1, 5, 15 min) before: {', '.join(f'{x:.2f}' for x in load_before)}; "
        f"after: {', '.join(f'{x:.2f}' for x in load_after)}; cores: {os.cpu_count()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
