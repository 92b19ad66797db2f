"""``guanxi analytics score``: score a transactions file and write one Parquet row per customer.

This module must never import Django: ``guanxi/__main__.py`` hands ``analytics …`` arguments here
before any Django setup, so analysts can score a file on a machine without a database.

    guanxi analytics score --transactions tx.parquet --as-of 2024-06-30 --out scores.parquet \\
        [--engine duckdb|spark] [--config config.json] [--customers customers.parquet]

The run metadata (models, timings, row counts, config, versions) is stored as JSON under the key
``guanxi`` of the Parquet file's key-value metadata.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

EXIT_OK = 0
EXIT_MODEL = 1
EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="guanxi analytics", description="Guanxi's analytics engine (no database needed)."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    score = commands.add_parser(
        "score",
        help="score every customer of a transactions file",
        description="Compute features, RFM, ABC, BG/NBD + Gamma-Gamma CLV and lifecycle stages.",
    )
    score.add_argument("--transactions", required=True, type=Path, help="Parquet or CSV file")
    score.add_argument("--as-of", required=True, help="scoring date, YYYY-MM-DD")
    score.add_argument("--out", required=True, type=Path, help="output Parquet file")
    score.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb")
    score.add_argument("--config", type=Path, help="JSON file of ScoringConfig fields")
    score.add_argument(
        "--customers", type=Path, help="Parquet/CSV listing every customer_id (adds prospects)"
    )
    score.add_argument(
        "--spark-master", help="Spark master URL (default $GUANXI_SPARK_MASTER or local[2])"
    )
    score.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: list[str]) -> int:
    """Run ``guanxi analytics`` with ``argv`` (without the program name); return the exit code."""
    args = _parser().parse_args(argv)
    console = Console(stderr=True)
    out = Console()
    if args.command == "score":
        return _score(args, console, out)
    return EXIT_USAGE  # pragma: no cover - argparse rejects unknown commands first


def _score(args: argparse.Namespace, console: Console, out: Console) -> int:
    # Imported here so `--help` stays fast and argument errors show before the engine loads.
    import pyarrow.parquet as pq

    from guanxi.analytics.clv import ModelFitError
    from guanxi.analytics.pipeline import score

    spark = None
    own_spark = False  # stop the session at the end only if this command started it
    try:
        config = _read_config(args.config)
        if args.engine == "spark":
            from guanxi.analytics.backends import active_spark_session, spark_session

            own_spark = active_spark_session() is None
            spark = spark_session(master=args.spark_master)
        with Progress(
            TextColumn("[bold]{task.description:<16}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            console=console,
            disable=args.quiet,
            transient=True,
        ) as bar:
            task = bar.add_task("starting", total=1.0)

            def progress(step: str, fraction: float) -> None:
                bar.update(task, description=step, completed=fraction)

            result = score(
                args.transactions,
                args.as_of,
                config=config,
                backend=args.engine,
                customers=args.customers,
                progress=progress,
                spark=spark,
            )
    except ModelFitError as error:
        console.print(f"[red]model fit failed:[/red] {error}", highlight=False)
        return EXIT_MODEL
    except (ValueError, OSError) as error:
        # TransactionsError and ConfigError are ValueErrors; OSError covers unreadable files.
        console.print(f"[red]error:[/red] {error}", highlight=False)
        return EXIT_USAGE
    finally:
        if spark is not None and own_spark:
            spark.stop()

    table = result.table.replace_schema_metadata(
        {**(result.table.schema.metadata or {}), b"guanxi": result.metadata_json().encode()}
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, args.out)
    _print_summary(out, result.metadata, args.out)
    return EXIT_OK


def _read_config(path: Path | None) -> Any:
    from guanxi.analytics.config import ConfigError, ScoringConfig

    if path is None:
        return ScoringConfig()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ConfigError(f"{path} is not valid JSON: {error}") from None
    return ScoringConfig.from_dict(data)


def _print_summary(out: Console, metadata: dict[str, Any], path: Path) -> None:
    rows = metadata["rows"]
    out.print(
        f"Scored [bold]{rows['customers']:,}[/bold] customers "
        f"({rows['purchasers']:,} buyers, {rows['prospects']:,} prospects) "
        f"from {rows['transactions']:,} transactions as of {metadata['as_of']} "
        f"on {metadata['engine']} → {path}"
    )
    counts = Table(title="Customers", show_edge=False)
    counts.add_column("measure")
    counts.add_column("value")
    counts.add_column("customers", justify="right")
    for measure in ("lifecycle_stage", "abc_class"):
        for value, n in metadata["counts"][measure].items():
            counts.add_row(measure, value, f"{n:,}")
    out.print(counts)

    models = Table(title="Models", show_edge=False)
    for column in ("model", "parameters (± s.e.)", "log-likelihood", "iterations", "converged"):
        models.add_column(column)
    for name, model in metadata["models"].items():
        params = ", ".join(
            f"{k}={v:.4g}±{model['stderr'].get(k, float('nan')):.2g}"
            for k, v in model["params"].items()
        )
        models.add_row(
            name, params, f"{model['loglik']:.1f}", str(model["n_iter"]), str(model["converged"])
        )
    out.print(models)

    timings = metadata["timings_s"]
    shown = ", ".join(
        f"{step} {seconds:.2f}" for step, seconds in timings.items() if step != "total"
    )
    out.print(f"Timings (s): {shown}; total {timings['total']:.2f}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
