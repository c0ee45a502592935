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
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.seeded_org import add_size_arguments, seeded_django  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/readiness_bench_weekly"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_size_arguments(parser, default_url=DEFAULT_URL)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)

    seeded_django(args)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from readiness.emails import weekly_report_render
    from readiness.models import Rollup, Scan, Team, Verdict
    from readiness.queries.weekly_report import weekly_report

    print(
        f"{Verdict.objects.count():,} verdict rows, {Scan.objects.count():,} scans, {Rollup.objects.count():,} rollups\n"
    )

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
    print(
        f"\n{len(scopes)} reports (organisation + {len(scopes) - 1} teams), built and rendered: median {total:.2f} s, "
        f"worst {max(totals):.2f} s (goal < 5 s): {'met' if max(totals) < 5 else 'NOT met'}"
    )
    print(f"queries per report: {sorted(queries)} ({'constant' if len(queries) == 1 else 'NOT constant'})")
    return 0 if max(totals) < 5 and len(queries) == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
