"""``subscribe EMAIL [--team T ...]``: the weekly report for an address (its user is created if needed).

Idempotent: running it again updates the teams and re-activates an unsubscribed address.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from readiness.services.reports import UnknownTeams, subscribe_email


class Command(BaseCommand):
    help = "Subscribe an email address to the weekly report (whole organisation, or --team T, repeatable)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("email")
        parser.add_argument(
            "--team",
            action="append",
            default=[],
            help="a team's section (repeat for several); none: the whole organisation",
        )

    def handle(self, *args, email: str, team: list[str], **options) -> None:
        try:
            sub, created = subscribe_email(email=email, teams=team)
        except ValidationError:
            raise CommandError(f"{email!r} is not an email address") from None
        except UnknownTeams as exc:
            raise CommandError(str(exc)) from None
        scope = ", ".join(sorted(team)) if team else "the whole organisation"
        self.stdout.write(f"{email}: subscribed to {scope}{' (user created)' if created else ''}")
