"""``backfill [REPO…|--all] --since DATE --every week``: scan past commits for trends."""

from __future__ import annotations

import datetime as dt
import sys

from django.core.management.base import BaseCommand, CommandError

from readiness.management.commands.scan import _select_repos
from readiness.services.backfill import repo_backfill
from readiness.services.scans import ScanBusy, _Failed

EVERY = {"day": dt.timedelta(days=1), "week": dt.timedelta(weeks=1), "month": dt.timedelta(days=30)}


class Command(BaseCommand):
    help = "Scan the commit current at each point since DATE, so trends have history."

    def add_arguments(self, parser):
        parser.add_argument("repos", nargs="*", metavar="REPO")
        parser.add_argument("--all", action="store_true")
        parser.add_argument("--since", required=True, help="YYYY-MM-DD")
        parser.add_argument("--until", help="YYYY-MM-DD (default: now)")
        parser.add_argument("--every", choices=sorted(EVERY), default="week")

    def handle(self, *args, **opts):
        since = _day("--since", opts["since"])
        until = _day("--until", opts["until"]) if opts["until"] else None
        repos = _select_repos(opts["repos"], opts["all"])
        total = undated = 0
        for i, repo in enumerate(repos, 1):
            sys.stderr.write(f"\r{i}/{len(repos)} {repo.name[:50]:<50}")
            try:
                scans = repo_backfill(repo=repo, since=since, until=until, every=EVERY[opts["every"]])
            except (_Failed, ScanBusy) as exc:
                self.stderr.write(f"\n{repo.name}: {exc}")
                continue
            total += len(scans)
            undated += sum(s.provenance.get("as_of", {}).get("undated_files", 0) for s in scans)
        sys.stderr.write("\n")
        points = f"{total} point{'' if total == 1 else 's'}"
        self.stdout.write(f"backfilled {points} across {len(repos)} repo{'' if len(repos) == 1 else 's'}")
        if undated:
            self.stderr.write(
                f"note: the index gave no upload time for {undated} files; the backfilled points count them as "
                "present on every day (an HTML-only mirror gives none: point READINESS_INDEX_URL at one with "
                "PEP 700 upload times for a history true to its dates)"
            )


def _day(flag: str, value: str) -> dt.datetime:
    try:
        return dt.datetime.combine(dt.date.fromisoformat(value), dt.time.min, tzinfo=dt.UTC)
    except ValueError:
        raise CommandError(f"{flag} {value!r}: expected YYYY-MM-DD", returncode=2) from None
