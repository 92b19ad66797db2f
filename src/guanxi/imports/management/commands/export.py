"""``guanxi export ENTITY FILE``: write records in the columns ``guanxi import`` reads."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from guanxi.core.errors import GuanxiError
from guanxi.imports.console import progress_bar
from guanxi.imports.formats import FORMATS
from guanxi.imports.schemas import ENTITIES
from guanxi.imports.selectors import user_by_username
from guanxi.imports.services import export_run


class Command(BaseCommand):
    help = (
        "Export customers, contacts, products, orders, interactions or cases to CSV (UTF-8 with "
        "BOM, which Excel opens correctly) or XLSX, in the columns the importer reads."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("entity", choices=ENTITIES)
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--format", choices=FORMATS, help="csv or xlsx (default: from the extension)"
        )
        parser.add_argument("--encoding", help="CSV encoding (default: utf-8-sig, UTF-8 with BOM)")
        parser.add_argument(
            "--headers",
            choices=("en", "zh"),
            default="en",
            help="column names in English or Chinese",
        )
        parser.add_argument("--user", help="username recorded as the actor of the export")
        parser.add_argument("--quiet", action="store_true", help="no progress bar")
        parser.add_argument("--language", default=settings.LANGUAGE_CODE, help="en or zh-hans")

    def handle(self, *args, **options) -> None:
        with translation.override(options["language"]):
            path: Path = options["file"]
            try:
                actor = user_by_username(options["user"])
                with progress_bar(
                    _("Exporting %(name)s") % {"name": path.name}, quiet=options["quiet"]
                ) as progress:
                    result = export_run(
                        entity=options["entity"],
                        path=path,
                        fmt=options["format"],
                        encoding=options["encoding"],
                        headers=options["headers"],
                        actor=actor,
                        progress=progress,
                    )
            except GuanxiError as error:
                raise CommandError(error.message) from None
            self.stdout.write(
                _("Exported %(rows)s %(entity)s rows to %(file)s.")
                % {"rows": result.rows, "entity": result.entity, "file": path}
            )
