"""``guanxi customer export ID`` and ``guanxi customer erase ID``: a customer's data requests.

``export`` writes everything held about one customer as JSON
(``parties.selectors.customer_dossier``) to stdout or ``--output FILE``; ``erase`` anonymises the
customer's personal data and keeps their orders and scores (``parties.services.customer_erase``).
ID is the customer's external id, or use ``--pk N``. Both are audited. See docs/security.md.
"""

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.core.services import event_record
from guanxi.parties.models import Customer
from guanxi.parties.selectors import customer_dossier
from guanxi.parties.services import customer_erase


class Command(BaseCommand):
    help = gettext_lazy(
        "Export everything held about one customer as JSON (export), or erase their personal "
        "data while keeping orders and scores (erase). See docs/security.md."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        self.help = str(self.help)  # argparse needs a plain string, in the language now active
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="command", required=True)
        export = commands.add_parser(
            "export", help=gettext_lazy("write everything held about a customer as JSON")
        )
        export.add_argument(
            "--output",
            "-o",
            help=gettext_lazy("the file to write (default: standard output)"),
        )
        erase = commands.add_parser(
            "erase", help=gettext_lazy("erase a customer's personal data, keep orders and scores")
        )
        erase.add_argument(
            "--yes", action="store_true", help=gettext_lazy("erase without asking to confirm")
        )
        for sub in (export, erase):
            sub.add_argument(
                "external_id", nargs="?", help=gettext_lazy("the customer's external id")
            )
            sub.add_argument(
                "--pk", type=int, help=gettext_lazy("the customer's database id instead")
            )
            sub.add_argument(
                "--actor", help=gettext_lazy("username recorded as the actor in the audit trail")
            )

    def handle(self, *args, **options) -> None:
        customer = self._customer(options)
        actor = self._actor(options["actor"])
        if options["command"] == "export":
            self._export(customer, actor=actor, output=options["output"])
        else:
            self._erase(customer, actor=actor, confirmed=options["yes"])

    def _customer(self, options) -> Customer:
        external_id, pk = options["external_id"], options["pk"]
        if (external_id is None) == (pk is None):
            raise CommandError(
                _("Name the customer by their external id or by --pk N, one of the two.")
            )
        if pk is not None:
            customer = Customer.objects.filter(pk=pk).first()
            if customer is None:
                raise CommandError(_("There is no customer with database id %(pk)s.") % {"pk": pk})
            return customer
        customer = Customer.objects.filter(external_id=external_id).first()
        if customer is None:
            raise CommandError(
                _("There is no customer with external id %(id)s.") % {"id": external_id}
            )
        return customer

    def _actor(self, username: str | None):
        if not username:
            return None
        actor = get_user_model().objects.filter(username=username).first()
        if actor is None:
            raise CommandError(_("There is no user %(name)s.") % {"name": username})
        return actor

    def _export(self, customer: Customer, *, actor, output: str | None) -> None:
        # The audit event commits only if the document was written.
        with transaction.atomic():
            text = json.dumps(customer_dossier(customer=customer), ensure_ascii=False, indent=2)
            where = str(Path(output).resolve()) if output else "stdout"
            event_record(
                kind="customer.dossier_exported",
                actor=actor,
                customer=customer,
                subject=customer,
                data={"to": where},
            )
            if output:
                try:
                    Path(output).write_text(text + "\n", encoding="utf-8")
                except OSError as error:
                    raise CommandError(
                        _("Could not write %(file)s: %(error)s")
                        % {"file": output, "error": error.strerror or error}
                    ) from None
            else:
                self.stdout.write(text)
        if output:
            self.stderr.write(
                _("Wrote the data of customer %(id)s to %(file)s.")
                % {"id": customer.external_id, "file": where}
            )

    def _erase(self, customer: Customer, *, actor, confirmed: bool) -> None:
        if not confirmed:
            question = _(
                "Erase the personal data of customer %(id)s (%(name)s)? Their orders and scores "
                "are kept; this cannot be undone. Type “yes” to go on: "
            ) % {"id": customer.external_id, "name": customer.name}
            try:
                answer = input(question)
            except EOFError:
                answer = ""
            if answer.strip().lower() not in {"yes", _("yes").lower()}:
                raise CommandError(_("Nothing was erased."))
        erased = customer_erase(customer=customer, actor=actor)
        parts = []
        if erased["customer"]:
            parts.append(f"customer: {', '.join(erased['customer'])}")
        if erased["tags"]:
            parts.append(f"tags: {erased['tags']}")
        parts += [
            f"{name}: {value['rows']}"
            for name, value in erased.items()
            if isinstance(value, dict) and value["rows"]
        ]
        self.stdout.write(
            _("Erased the personal data of customer %(id)s (%(what)s).")
            % {"id": customer.external_id, "what": "; ".join(parts) or _("nothing left to erase")}
        )
