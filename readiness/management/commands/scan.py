"""``scan [REPO…|--all]``: scan repositories now, through Celery when a broker is configured."""

from __future__ import annotations

import sys
import time
from collections import Counter

from django.core.management.base import BaseCommand, CommandError

from readiness.celery import app as celery_app
from readiness.models import Repo, Scan
from readiness.models.rollups import repo_state
from readiness.services.enqueue import SCAN_ORGANISATION, enqueue_on_commit
from readiness.services.organisation import organisation_scan
from readiness.services.rollups import rollup_days


class Command(BaseCommand):
    help = "Scan the named repositories (or --all enabled ones) and print a summary."

    def add_arguments(self, parser):
        parser.add_argument("repos", nargs="*", metavar="REPO")
        parser.add_argument("--all", action="store_true", help="every enabled repository")
        parser.add_argument("--no-wait", action="store_true", help="with a broker: queue and return at once")
        parser.add_argument("--timeout", type=int, default=3600, help="seconds to wait for queued scans")
        parser.add_argument(
            "--deep",
            action="store_true",
            help="also read pure and universal2 wheels (HTTP range requests) for native code their tags hide",
        )

    def handle(self, *args, **opts):
        repos = _select_repos(opts["repos"], opts["all"])
        # The Celery app decides where tasks run (settings feed it; tests switch it per test).
        eager = celery_app.conf.task_always_eager
        if eager:
            # In process: each request runs its scan at once, so the bar advances per repo.
            scans = []
            for i, repo in enumerate(repos, 1):
                scans.extend(organisation_scan(trigger="manual", repos=[repo], deep=opts["deep"]))
                self._bar(i, len(repos), repo.name)
        elif opts["no_wait"]:
            # Warming the index (one request per distinct package) can take minutes, more with a
            # slow index: a worker does it, so --no-wait returns as soon as the broker has the task.
            enqueue_on_commit(SCAN_ORGANISATION, ("manual", [r.pk for r in repos], opts["deep"]))
            self.stdout.write(
                f"queued the scan of {len(repos)} repos: a worker warms the index and queues each repo's scan "
                "(follow them on the dashboard or with `scan` without --no-wait)"
            )
            return
        else:
            scans = organisation_scan(trigger="manual", repos=repos, deep=opts["deep"])
            self._wait([s.pk for s in scans], timeout=opts["timeout"])
        sys.stderr.write("\n")
        rollup_days()
        self.stdout.write(_summary_line([s.pk for s in scans]))

    def _wait(self, ids: list[int], *, timeout: int) -> None:
        deadline = time.monotonic() + timeout
        while True:
            states = Counter(Scan.objects.filter(id__in=ids).values_list("state", flat=True))
            finished = sum(states[s] for s in Scan.FINAL_STATES)
            self._bar(finished, len(ids), f"{states['running']} running, {states['queued']} queued")
            if finished == len(ids):
                return
            if time.monotonic() > deadline:
                raise CommandError(f"timed out: {len(ids) - finished} scans still unfinished", returncode=1)
            time.sleep(0.5)

    def _bar(self, done: int, total: int, label: str) -> None:
        width = 30
        filled = int(width * done / max(total, 1))
        sys.stderr.write(f"\r[{'#' * filled}{' ' * (width - filled)}] {done}/{total} {label[:40]:<40}")
        sys.stderr.flush()


def _select_repos(names: list[str], all_repos: bool) -> list[Repo]:
    if all_repos == bool(names):
        raise CommandError("name repositories or pass --all (not both)", returncode=2)
    if all_repos:
        return list(Repo.objects.filter(enabled=True).order_by("name"))
    repos = {r.name: r for r in Repo.objects.filter(name__in=names)}
    missing = [n for n in names if n not in repos]
    if missing:
        raise CommandError(f"unknown repositories: {', '.join(missing)}", returncode=2)
    return [repos[n] for n in names]


def _summary_line(scan_ids: list[int]) -> str:
    scans = list(Scan.objects.filter(id__in=scan_ids).values_list("state", "summary", "unchanged"))
    states = Counter(state for state, _, _ in scans)
    per_target: dict[str, Counter] = {}
    for _, summary, _ in scans:
        for target, s in (summary or {}).items():
            per_target.setdefault(target, Counter())[repo_state(s)] += 1
    head = f"{len(scans)} repo{'' if len(scans) == 1 else 's'} scanned: "
    head += ", ".join(f"{n} {s}" for s, n in sorted(states.items()))
    unchanged = sum(1 for _, _, same in scans if same)
    if unchanged:
        # Reused answers: nothing they read has moved since (readiness.services.unchanged).
        head += f" ({unchanged} unchanged since their last scan)"
    parts = [head]
    for target, c in sorted(per_target.items()):
        unknown = f", {c['unknown']} unknown" if c["unknown"] else ""
        parts.append(f"{target}: {c['ready']} ready, {c['sdist']} build from source, {c['blocked']} blocked{unknown}")
    return "; ".join(parts)
