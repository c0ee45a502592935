"""``campaign create NAME --target linux/arm64 --due 2027-03-31 [--team T …]``, ``campaign list``,
``campaign close SLUG``: migration campaigns from the command line, as on the campaigns page."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from readiness.models import Campaign
from readiness.queries.campaigns import campaign_statuses
from readiness.services.campaigns import CampaignError, campaign_close, campaign_create


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = "Create, list and close migration campaigns."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="a new campaign")
        create.add_argument("name")
        create.add_argument(
            "--target", action="append", required=True, help="a target id (repeatable), e.g. linux/arm64"
        )
        create.add_argument("--due", required=True, help="YYYY-MM-DD")
        create.add_argument("--start", help="YYYY-MM-DD (default: today)")
        create.add_argument("--team", action="append", default=[], help="a team in scope (repeatable); none: all")
        create.add_argument("--python", default="", help="only repos whose image gives this CPython series, e.g. 3.12")
        create.add_argument("--libc", default="", choices=["", "glibc", "musl"], help="only repos on this libc")
        create.add_argument("--description", default="")
        sub.add_parser("list", help="every campaign with its status")
        close = sub.add_parser("close", help="close a campaign (its history stays)")
        close.add_argument("slug")

    def handle(self, *args, action: str, **options) -> None:
        if action == "create":
            try:
                campaign = campaign_create(
                    name=options["name"],
                    targets=options["target"],
                    due=_date(options["due"]),
                    start=_date(options["start"]) if options["start"] else None,
                    teams=options["team"],
                    python=options["python"],
                    libc=options["libc"],
                    description=options["description"],
                )
            except CampaignError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(f"created {campaign.slug}: {campaign.name}, due {campaign.due}")
        elif action == "list":
            statuses = campaign_statuses(active_only=False)
            if not statuses:
                self.stdout.write("no campaigns")
            for s in statuses:
                c = s.campaign
                self.stdout.write(f"{c.slug:30} {', '.join(c.targets):20} due {c.due}  {s.text}")
        else:
            try:
                campaign = campaign_close(options["slug"])
            except Campaign.DoesNotExist:
                raise CommandError(f"no campaign {options['slug']!r} (see: campaign list)") from None
            self.stdout.write(f"closed {campaign.slug}")
