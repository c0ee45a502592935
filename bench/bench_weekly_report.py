"""Time and query count of building every weekly report section for an organisation-sized database.

Run by hand from the repository root (PostgreSQL must be running)::

    .venv/bin/python bench/bench_weekly_report.py [--repos 2000] [--packages 150] [--weeks 12] [--teams 20] [--runs 3] [--reseed]

Seeds 2,000 repos × 150 packages × 2 targets with 12 weekly scans per repo and 12 weeks of daily
rollups (tests/readiness/factories.py) into its own database, ``readiness_bench_weekly`` (created
if missing; ``--database-url`` to change it), once: later runs reuse the data unless ``--reseed``.
Then it builds the report of the whole organisation and of every team, and renders each email
(subject, text and HTML), as the hourly beat task does for a week's subscribers: goal under 5 s
in total, and the same number of queries for every report whatever its size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/readiness_bench_weekly"


def _ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--repos", type=int, default=2000)
    parser.add_argument("--packages", type=int, default=150)
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--teams", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--reseed", action="store_true")
    args = parser.parse_args(argv)

    _ensure_database(args.database_url)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "readiness.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from readiness.emails import weekly_report_render
    from readiness.models import Repo, Rollup, Scan, ScanFinding, Team, Verdict
    from readiness.queries.weekly_report import weekly_report
    from tests.readiness.factories import seed_org

    call_command("migrate", verbosity=0)
    if args.reseed or Repo.objects.count() != args.repos:
        print(f"seeding {args.repos} repos × {args.packages} packages × 2 targets, {args.weeks} weeks …", flush=True)
        started = time.perf_counter()
        for model in (Rollup, Verdict, ScanFinding):
            model.objects.all().delete()
        Repo.objects.update(latest_scan=None)
        Scan.objects.update(results_from=None)
        Scan.objects.all().delete()
        Repo.objects.all().delete()
        Team.objects.all().delete()
        seed_org(repos=args.repos, packages=args.packages, weeks=args.weeks, teams=args.teams)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)
    print(f"{Verdict.objects.count():,} verdict rows, {Scan.objects.count():,} scans, {Rollup.objects.count():,} rollups\n")

    today = timezone.localdate()
    week = today - dt.timedelta(days=today.weekday())
    scopes: list[str | None] = [None, *Team.objects.order_by("name").values_list("name", flat=True)]
    totals: list[float] = []
    per_report: dict[str | None, tuple[list[float], int]] = {s: ([], 0) for s in scopes}
    for run in range(args.runs + 1):  # the first run warms caches and is not counted
        started = time.perf_counter()
        for scope in scopes:
            t0 = time.perf_counter()
            with CaptureQueriesContext(connection) as ctx:
                report = weekly_report(teams=[scope] if scope else None, week=week, today=today)
                rendered = weekly_report_render(report)
            assert rendered.subject and rendered.html and rendered.text
            if run:
                per_report[scope][0].append((time.perf_counter() - t0) * 1000)
                per_report[scope] = (per_report[scope][0], len(ctx.captured_queries))
        if run:
            totals.append(time.perf_counter() - started)
    print(f"{'report':24} {'median ms':>10} {'queries':>8}")
    for scope, (times, queries) in per_report.items():
        print(f"{scope or 'whole organisation':24} {statistics.median(times):10.1f} {queries:8d}")
    queries = {q for _, q in per_report.values()}
    total = statistics.median(totals)
    print(f"\n{len(scopes)} reports (organisation + {len(scopes) - 1} teams), built and rendered: median {total:.2f} s, "
          f"worst {max(totals):.2f} s (goal < 5 s): {'met' if max(totals) < 5 else 'NOT met'}")
    print(f"queries per report: {sorted(queries)} ({'constant' if len(queries) == 1 else 'NOT constant'})")
    return 0 if max(totals) < 5 and len(queries) == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
