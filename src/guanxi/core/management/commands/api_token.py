"""``guanxi api_token``: create, list and revoke personal API tokens from the command line."""

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.errors import GuanxiError
from guanxi.core.models import ApiToken, TokenScope
from guanxi.core.selectors import api_tokens_of
from guanxi.core.services import api_token_create, api_token_revoke


class Command(BaseCommand):
    help = (
        "Manage personal API tokens. `create` prints the key once (Guanxi keeps only its hash); "
        "`list` shows a user's tokens; `revoke` stops one. See docs/security.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a token and print its key")
        create.add_argument("--user", required=True, help="username the token acts as")
        create.add_argument("--name", required=True, help="what the token is for")
        create.add_argument(
            "--scope", choices=TokenScope.values, default=TokenScope.READ, help="default: read"
        )
        create.add_argument("--days", type=int, help="expire after this many days (default never)")
        listing = sub.add_parser("list", help="list a user's tokens")
        listing.add_argument("--user", required=True)
        revoke = sub.add_parser("revoke", help="revoke a token by its prefix")
        revoke.add_argument("prefix")

    def _user(self, username: str) -> Any:
        try:
            return get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(
                _("No user %(username)s; check the spelling or create the user first.")
                % {"username": username}
            ) from None

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "create":
                user = self._user(options["user"])
                days = options["days"]
                if days is not None and days <= 0:
                    raise CommandError(_("--days must be a positive number of days."))
                expires = timezone.now() + dt.timedelta(days=days) if days else None
                _token, key = api_token_create(
                    user=user, name=options["name"], scope=options["scope"], expires_at=expires
                )
                self.stdout.write(key)
            elif action == "list":
                for token in api_tokens_of(user=self._user(options["user"])):
                    state = _("usable") if token.usable() else _("not usable")
                    self.stdout.write(
                        f"{token.prefix}\t{token.scope}\t{state}\t{token.name}\t"
                        f"{token.created_at:%Y-%m-%d %H:%M}"
                    )
            else:
                token = ApiToken.objects.filter(prefix=options["prefix"]).first()
                if token is None:
                    raise CommandError(
                        _("No token with prefix %(prefix)s; `guanxi api_token list` shows them.")
                        % {"prefix": options["prefix"]}
                    )
                api_token_revoke(token=token)
                self.stdout.write(_("Revoked %(token)s.") % {"token": token})
        except GuanxiError as exc:
            raise CommandError(exc.message) from exc
