"""``guanxi playbooks run``: issue the tasks the playbooks call for; ``guanxi playbooks list``."""

import datetime as dt
import io

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rich.console import Console
from rich.table import Table

from guanxi.core.errors import GuanxiError
from guanxi.playbooks.choices import TriggerKind
from guanxi.playbooks.models import CONDITION_CHOICES, Playbook
from guanxi.playbooks.selectors import playbooks_active
from guanxi.playbooks.services import PlaybooksRunSummary, playbooks_run


def _render(*renderables: object, width: int = 120) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=False, color_system=None)
    for renderable in renderables:
        console.print(renderable)
    return buffer.getvalue()


def summary_table(summary: PlaybooksRunSummary) -> Table:
    title = _("Playbooks on scoring run #%(run)s (as of %(as_of)s), today %(today)s") % {
        "run": summary.run_id,
        "as_of": summary.as_of.isoformat(),
        "today": summary.today.isoformat(),
    }
    if summary.dry_run:
        title = _("Dry run (nothing written) — %(title)s") % {"title": title}
    table = Table(title=title)
    table.add_column(_("playbook"))
    table.add_column(_("name"))
    for heading in (_("matched"), _("created"), _("already open"), _("done recently")):
        table.add_column(heading, justify="right")
    for p in summary.playbooks:
        table.add_row(
            p.code,
            p.name,
            f"{p.candidates:,}",
            f"{p.created:,}",
            f"{p.skipped_open:,}",
            f"{p.skipped_recent:,}",
        )
    table.add_section()
    table.add_row(
        _("total"),
        "",
        "",
        f"{summary.created:,}",
        f"{summary.skipped_open:,}",
        f"{summary.skipped_recent:,}",
    )
    return table


def playbooks_table() -> Table:
    table = Table(title=_("Active playbooks"))
    for heading in (_("playbook"), _("name"), _("trigger"), _("conditions"), _("actions")):
        table.add_column(heading, overflow="fold")
    for playbook, actions in playbooks_active():
        conditions = "\n".join(
            _("%(condition)s: %(values)s")
            % {
                "condition": Playbook._meta.get_field(name).verbose_name,
                "values": ", ".join(str(CONDITION_CHOICES[name](v).label) for v in values),
            }
            for name, values in playbook.conditions().items()
        )
        table.add_row(
            playbook.code,
            playbook.name,
            str(TriggerKind(playbook.trigger).label),
            conditions or _("any customer"),
            "\n".join(f"{a.position}. {a.title} ({a.get_purpose_display()})" for a in actions),
        )
    return table


class Command(BaseCommand):
    help = gettext_lazy(
        "Run the playbooks over a scoring run and issue the tasks they call for (run), or list "
        "the active playbooks (list). See docs/playbooks.md."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        self.help = str(self.help)  # argparse needs a plain string, in the language now active
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="command", required=True)
        run = commands.add_parser("run", help=gettext_lazy("issue tasks from a scoring run"))
        run.add_argument(
            "--run",
            type=int,
            dest="run_id",
            help=gettext_lazy("scoring run id (default: the latest successful run)"),
        )
        run.add_argument(
            "--dry-run", action="store_true", help=gettext_lazy("count, write nothing")
        )
        run.add_argument(
            "--today",
            type=dt.date.fromisoformat,
            help=gettext_lazy("the date tasks are issued on (YYYY-MM-DD; default: today)"),
        )
        run.add_argument("--user", help=gettext_lazy("username recorded as the actor"))
        listing = commands.add_parser("list", help=gettext_lazy("list the active playbooks"))
        for sub in (run, listing):
            sub.add_argument(
                "--language", default=settings.LANGUAGE_CODE, help=gettext_lazy("en or zh-hans")
            )

    def handle(self, *args, **options) -> None:
        with translation.override(options["language"]):
            if options["command"] == "list":
                self.stdout.write(_render(playbooks_table(), width=160), ending="")
                return
            self._run(options)

    def _run(self, options) -> None:
        actor = None
        if options["user"]:
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(_("There is no user %(name)s.") % {"name": options["user"]})
        try:
            summary = playbooks_run(
                run=options["run_id"],
                actor=actor,
                today=options["today"],
                dry_run=options["dry_run"],
            )
        except GuanxiError as error:
            raise CommandError(error.message) from None
        self.stdout.write(_render(summary_table(summary)), ending="")
