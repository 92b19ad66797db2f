"""What the import and export commands show in a terminal: a progress bar and result tables."""

import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from django.utils.translation import gettext as _
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from guanxi.imports.rows import RowError
from guanxi.imports.services import ImportResult
from guanxi.imports.services import Progress as ProgressCallback

ERRORS_SHOWN = 100


@contextmanager
def progress_bar(
    description: str, *, quiet: bool = False, unit: str = "rows"
) -> Iterator[ProgressCallback | None]:
    """A rich progress bar on stderr, or nothing when stderr is not a terminal or ``quiet``."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    amount = DownloadColumn() if unit == "bytes" else MofNCompleteColumn()
    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        amount,
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def render(*renderables: object, width: int = 120) -> str:
    """Rich output as plain text, for a command's stdout (which may be a file or a test buffer)."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=False, color_system=None)
    for renderable in renderables:
        console.print(renderable)
    return buffer.getvalue()


def counts_table(result: ImportResult) -> Table:
    title = _("%(entity)s: %(rows)s rows in %(file)s") % {
        "entity": result.entity,
        "rows": result.rows,
        "file": result.file,
    }
    if result.dry_run:
        title = _("Dry run (nothing written) — %(title)s") % {"title": title}
    table = Table(title=title)
    table.add_column(_("records"))
    headings = [_("created"), _("updated"), _("unchanged")]
    with_deleted = result.entity == "orders"
    if with_deleted:
        headings.append(_("deleted"))
    for heading in headings:
        table.add_column(heading, justify="right")
    for name, counts in result.counts.items():
        cells = [counts.created, counts.updated, counts.unchanged]
        if with_deleted:
            cells.append(counts.deleted)
        table.add_row(name, *(str(c) for c in cells))
    return table


def errors_table(errors: list[RowError], *, shown: int = ERRORS_SHOWN) -> Table:
    table = Table(title=_("Errors (nothing was written)"), show_lines=False)
    table.add_column(_("row"), justify="right")
    table.add_column(_("column"))
    table.add_column(_("value"), overflow="fold", max_width=30)
    table.add_column(_("message"), overflow="fold")
    for error in errors[:shown]:
        table.add_row(str(error.row), error.column, error.value, error.message)
    return table
