import datetime as dt
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from guanxi.analytics.config import ConfigError, ScoringConfig
from guanxi.scoring.services import scoring_run_execute


class Command(BaseCommand):
    help = "Score every customer (RFM, ABC, lifecycle stage, CLV) and keep the run."

    def add_arguments(self, parser):
        parser.add_argument(
            "--as-of",
            type=dt.date.fromisoformat,
            help="The date to score as of (YYYY-MM-DD); default: today in GUANXI_TIME_ZONE.",
        )
        parser.add_argument(
            "--config", type=Path, help="A JSON file of ScoringConfig knobs (docs/analytics.md)."
        )
        parser.add_argument("--quiet", action="store_true", help="No progress bar.")

    def handle(self, *args, as_of=None, config=None, quiet=False, **options):
        try:
            cfg = ScoringConfig.from_dict(json.loads(config.read_text())) if config else None
        except (OSError, ValueError, ConfigError) as exc:
            raise CommandError(f"{config}: {exc}") from exc
        console = Console(stderr=True, quiet=quiet)
        with Progress(
            TextColumn("[bold]{task.description:<10}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            console=console,
            disable=quiet,
        ) as bar:
            task = bar.add_task("extract", total=1.0)
            try:
                run = scoring_run_execute(
                    as_of=as_of,
                    config=cfg,
                    progress=lambda step, fraction: bar.update(
                        task, description=step, completed=fraction
                    ),
                )
            except Exception as exc:
                raise CommandError(f"The scoring run failed and stored nothing: {exc}") from exc
        counts = run.metadata.get("counts", {})
        self.stdout.write(
            f"Scoring run #{run.pk} as of {run.as_of}: {run.n_customers:,} customers from "
            f"{run.n_transactions:,} purchases in {run.duration_s:.1f} s"
        )
        for measure, values in counts.items():
            shown = ", ".join(f"{k} {v:,}" for k, v in sorted(values.items()))
            self.stdout.write(f"  {measure}: {shown}")
