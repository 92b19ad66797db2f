"""``guanxi demo``: generate a deterministic demo company (see docs/demo.md)."""

import datetime as dt
import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress
from rich.table import Table

from guanxi.core.errors import GuanxiError
from guanxi.demo.params import DEFAULT_AS_OF, DEFAULT_CUSTOMERS, DEFAULT_SEED
from guanxi.demo.run import DemoSummary, Progress, demo_generate, table_models
from guanxi.hierarchy.selectors import distribution, latest_run
from guanxi.scoring.choices import Measure
from guanxi.scoring.models import CustomerScore, ScoringRun
from guanxi.scoring.services import scoring_run_execute

URL = "http://127.0.0.1:8000/"


class Command(BaseCommand):
    help = (
        "Generate a deterministic demo company: staff, products, customers of the four types, "
        "orders from a buy-till-you-die process, interactions that follow each customer's "
        "relationship level, cases, surveys, bonds and B2B stage assessments; then score it. "
        "The same --seed and --customers always give the same data. See docs/demo.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=DEFAULT_CUSTOMERS)
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
        parser.add_argument(
            "--as-of",
            type=dt.date.fromisoformat,
            default=DEFAULT_AS_OF,
            help=f"last day of the simulated history (default {DEFAULT_AS_OF.isoformat()})",
        )
        parser.add_argument(
            "--flush", action="store_true", help="remove a previous demo company first"
        )
        parser.add_argument(
            "--keep-existing",
            action="store_true",
            help="if the database already has customers, keep them and generate nothing",
        )
        parser.add_argument(
            "--no-score",
            action="store_true",
            help="do not run a scoring run (and its playbooks) after generating",
        )
        parser.add_argument("--quiet", action="store_true", help="no progress bar")
        parser.add_argument("--database", default="default")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with _progress_bar(quiet=options["quiet"]) as progress:
                summary = demo_generate(
                    customers=options["customers"],
                    seed=options["seed"],
                    as_of=options["as_of"],
                    flush=options["flush"],
                    keep_existing=options["keep_existing"],
                    progress=progress,
                    using=options["database"],
                )
            run = None
            if not options["no_score"] and (summary.generated or latest_run() is None):
                progress.phase(_("Scoring customers"))
                run = scoring_run_execute(as_of=summary.as_of)
        except GuanxiError as error:
            raise CommandError(error.message) from error
        self.stdout.write(_render(summary))
        if run is not None:
            self.stdout.write(_render_run(run))


class _RichProgress(Progress):
    def __init__(self, bar: RichProgress) -> None:
        self.bar = bar
        self.task: TaskID | None = None
        self.rows = 0

    def start(self, *, customers: int) -> None:
        description = _("Generating customers")
        if self.task is None:
            self.task = self.bar.add_task(description, total=customers, rows=0)
        else:
            self.bar.update(self.task, description=description, total=customers, completed=0)

    def advance(self, *, customers: int, rows: int) -> None:
        self.rows += rows
        if self.task is not None:
            self.bar.update(self.task, advance=customers, rows=self.rows)

    def phase(self, description: str) -> None:
        if self.task is not None:
            self.bar.update(self.task, description=description)
        else:
            self.task = self.bar.add_task(description, total=None, rows=self.rows)


@contextmanager
def _progress_bar(*, quiet: bool) -> Iterator[Progress]:
    """A rich progress bar on stderr, or none when stderr is not a terminal or ``quiet``."""
    if quiet or not sys.stderr.isatty():
        yield Progress()
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(_("{task.fields[rows]:,} rows")),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with RichProgress(*columns, console=Console(stderr=True)) as bar:
        yield _RichProgress(bar)


def _render(summary: DemoSummary) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=100, force_terminal=False, color_system=None)
    if not summary.generated:
        console.print(
            _("The database already has %(count)s customers; kept them, generated nothing.")
            % {"count": f"{summary.existing_customers:,}"}
        )
    else:
        if summary.flushed:
            console.print(
                _("Removed the previous demo company (%(rows)s rows).")
                % {"rows": f"{sum(summary.flushed.values()):,}"}
            )
        title = _("Demo company: %(customers)s customers, seed %(seed)s, history to %(as_of)s") % {
            "customers": f"{summary.customers:,}",
            "seed": summary.seed,
            "as_of": summary.as_of.isoformat(),
        }
        console.print(title)
        table = Table()
        table.add_column(_("table"))
        table.add_column(_("rows"), justify="right")
        models = table_models()
        for name, count in summary.counts.items():
            table.add_row(str(models[name]._meta.verbose_name_plural), f"{count:,}")
        console.print(table)
        console.print(_("Generated in %(seconds).1f s.") % {"seconds": summary.seconds})
    console.print(
        _("Sign in at %(url)s as %(username)s with the password %(password)s (demo only).")
        % {"url": URL, "username": summary.username, "password": summary.password}
    )
    return buffer.getvalue()


def _render_run(run: ScoringRun) -> str:
    """The scoring run's pyramid: customers per value of each hierarchy measure."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=100, force_terminal=False, color_system=None)
    console.print(
        _("Scored %(customers)s customers as of %(as_of)s in %(seconds).1f s (scoring run %(id)s).")
        % {
            "customers": f"{run.n_customers:,}",
            "as_of": run.as_of.isoformat(),
            "seconds": run.duration_s or 0.0,
            "id": run.pk,
        }
    )
    table = Table()
    table.add_column(_("measure"))
    table.add_column(_("customers per value"))
    for measure in (
        Measure.LIFECYCLE_STAGE,
        Measure.ABC_CLASS,
        Measure.ACTUAL_LEVEL,
        Measure.RECOMMENDED_LEVEL,
        Measure.LEVEL_GAP,
        Measure.PARTNERSHIP_STAGE,
        Measure.FOUNDATION_HEALTH,
    ):
        field = CustomerScore._meta.get_field(measure)
        labels = dict(field.choices or [])
        cells = distribution(run, measure)
        table.add_row(
            str(Measure(measure).label),
            ", ".join(
                f"{labels.get(value, value) if value else _('none')}: {cell.customers:,}"
                for value, cell in cells.items()
            ),
        )
    console.print(table)
    return buffer.getvalue()
