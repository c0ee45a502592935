"""``api_token create USERNAME [--name N]`` prints a new token once; ``api_token revoke ID|PREFIX``;
``api_token list [USERNAME]``. Tokens are stored hashed: a lost token is revoked and made again."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from readiness.models import ApiToken
from readiness.services.api_tokens import token_create, token_revoke, user_by_username


class Command(BaseCommand):
    help = "Make, list and revoke read-API tokens."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="make a token for USERNAME and print it (shown only now)")
        create.add_argument("username")
        create.add_argument("--name", default="command line")
        revoke = sub.add_parser("revoke", help="revoke a token by its id or its first characters")
        revoke.add_argument("token", metavar="ID|PREFIX")
        listing = sub.add_parser("list", help="tokens (of USERNAME), without their secrets")
        listing.add_argument("username", nargs="?")

    def handle(self, *args, action: str, **opts) -> None:
        if action == "create":
            user = user_by_username(opts["username"])
            if user is None:
                raise CommandError(f"no user {opts['username']!r}", returncode=2)
            made = token_create(user=user, name=opts["name"])
            self.stderr.write(f"token {made.token.pk} for {user.username} ({made.token.name}); it is not shown again:")
            self.stdout.write(made.secret)
        elif action == "revoke":
            self._revoke(opts["token"])
        else:
            qs = ApiToken.objects.select_related("user").order_by("user__username", "-created_at")
            if opts["username"]:
                qs = qs.filter(user__username=opts["username"])
            for t in qs:
                state = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "active"
                self.stdout.write(f"{t.pk}\t{t.user.username}\t{t.prefix}…\t{t.name}\t{state}")

    def _revoke(self, ref: str) -> None:
        if ref.isdigit():
            ids = [int(ref)]
        else:
            ids = list(
                ApiToken.objects.filter(prefix__startswith=ref[:12], revoked_at__isnull=True).values_list(
                    "pk", flat=True
                )
            )
            if len(ids) > 1:
                raise CommandError(f"{ref!r} matches {len(ids)} tokens: give the id (api_token list)", returncode=2)
        if not ids or not token_revoke(token_id=ids[0]):
            raise CommandError(f"no active token {ref!r}", returncode=2)
        self.stdout.write(f"token {ids[0]} revoked")
