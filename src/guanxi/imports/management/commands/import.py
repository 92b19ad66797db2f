"""``guanxi import ENTITY FILE``: validate a CSV or XLSX file and upsert it, all or nothing."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from guanxi.core.errors import GuanxiError
from guanxi.imports.console import counts_table, errors_table, progress_bar, render
from guanxi.imports.formats import FORMATS, errors_write_csv
from guanxi.imports.schemas import ENTITIES
from guanxi.imports.selectors import user_by_username
from guanxi.imports.services import BATCH_SIZE, MAX_ERRORS, import_run


class Command(BaseCommand):
    help = (
        "Import customers, contacts, products, orders, interactions or cases from a CSV or XLSX "
        "file. Every row is validated first; if any row is wrong nothing is written and the "
        "errors are listed (and saved as <file>.errors.csv). See docs/import.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("entity", choices=ENTITIES)
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--format", choices=FORMATS, help="csv or xlsx (default: from the extension)"
        )
        parser.add_argument("--encoding", help="CSV encoding (default: detect UTF-8 / GB18030)")
        parser.add_argument("--sheet", help="XLSX sheet to read (default: the first)")
        parser.add_argument(
            "--dry-run", action="store_true", help="validate and count, write nothing"
        )
        parser.add_argument(
            "--errors-out", type=Path, help="error report CSV (default: FILE.errors.csv)"
        )
        parser.add_argument("--user", help="username recorded as the actor of the import")
        parser.add_argument("--quiet", action="store_true", help="no progress bar")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
        parser.add_argument("--max-errors", type=int, default=MAX_ERRORS)
        parser.add_argument("--language", default=settings.LANGUAGE_CODE, help="en or zh-hans")

    def handle(self, *args, **options) -> None:
        with translation.override(options["language"]):
            self._handle(options)

    def _handle(self, options) -> None:
        path: Path = options["file"]
        try:
            actor = user_by_username(options["user"])
            with progress_bar(
                _("Importing %(name)s") % {"name": path.name},
                quiet=options["quiet"],
                unit="bytes" if path.suffix.lower() != ".xlsx" else "rows",
            ) as progress:
                result = import_run(
                    entity=options["entity"],
                    path=path,
                    fmt=options["format"],
                    encoding=options["encoding"],
                    sheet=options["sheet"],
                    dry_run=options["dry_run"],
                    actor=actor,
                    progress=progress,
                    batch_size=options["batch_size"],
                    max_errors=options["max_errors"],
                )
        except GuanxiError as error:
            raise CommandError(error.message) from None

        if result.ignored_columns:
            self.stdout.write(
                _("Columns not imported (not known for %(entity)s): %(columns)s")
                % {"entity": result.entity, "columns": ", ".join(result.ignored_columns)}
            )
        if result.ok:
            self.stdout.write(render(counts_table(result)), ending="")
            if result.dry_run:
                self.stdout.write(_("Dry run: every row is valid; nothing was written."))
            return

        errors_out = options["errors_out"] or path.with_name(f"{path.stem}.errors.csv")
        errors_write_csv(errors_out, result.errors, omitted=result.errors_omitted)
        self.stdout.write(render(errors_table(result.errors)), ending="")
        raise CommandError(
            _(
                "%(count)s errors in %(rows)s rows; nothing was imported. The full list is in "
                "%(report)s. Fix the rows and import the file again."
            )
            % {"count": result.error_count, "rows": result.rows, "report": errors_out}
        )
