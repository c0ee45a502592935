"""Server time and query count of every dashboard page and export on an organisation-sized database.

Run by hand from the repository root (PostgreSQL must be running)::

    .venv/bin/python bench/bench_dashboard.py [--repos 2000] [--packages 150] [--weeks 12] [--runs 30] [--reseed]

Seeds 2,000 repos × 150 packages × 2 targets with 12 weekly scans per repo and 12 weeks of
daily rollups (tests/readiness/factories.py, bulk inserts) into its own database,
``readiness_bench_dash`` (created if missing; ``--database-url`` to change it), once: later runs
reuse the data unless ``--reseed``. Then it requests every page with Django's test ``Client``
in-process (no network, no web server) as a logged-in viewer and reports p50/p95 of the server
time and the number of SQL queries. Exports are timed to the last byte (they are streamed).
Goal: p95 under 300 ms for every page, and query counts that do not depend on the size.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.seeded_org import add_size_arguments, seeded_django  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/readiness_bench_dash"

PAGES = [
    "/",
    "/?team=team-3",
    "/repos/",
    "/repos/?sort=-target:linux/arm64&page=7",
    "/repos/?q=svc-01&state=blocked",
    "/repos/?target=linux/arm64&state=blocked",
    "/repos/svc-0000/",
    "/repos/svc-0001/",
    "/packages/grpcio/",
    "/packages/pkg-100/",
    "/blockers/",
    "/blockers/?team=team-3",
    "/trends/",
    "/trends/?team=team-3",
    "/upstream/",
    "/repos/svc-0000/scan.json",
]
EXPORTS = [
    "/export/matrix.csv",
    "/export/matrix.json",
    "/export/blockers.csv",
    "/export/trends.csv",
    "/export/matrix.csv?team=team-3",
]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_size_arguments(parser, default_url=DEFAULT_URL)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--export-runs", type=int, default=3)
    args = parser.parse_args(argv)

    seeded_django(args)
    from django.contrib.auth.models import User
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from readiness.models import Rollup, Scan, Verdict
    from tests.readiness.factories import make_user

    user = User.objects.filter(username="bench").first() or make_user("bench")
    client = Client()
    client.force_login(user)
    print(
        f"{Verdict.objects.count():,} verdict rows, {Scan.objects.count():,} scans, {Rollup.objects.count():,} rollups\n"
    )

    print(f"{'URL':45} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} {'bytes':>11}")
    worst = 0.0
    for url, runs in [(u, args.runs) for u in PAGES] + [(u, args.export_runs) for u in EXPORTS]:
        times: list[float] = []
        queries = size = 0
        for i in range(runs + 1):  # the first run warms caches and is not counted
            reset_queries()
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                response = client.get(url)
                body = b"".join(response.streaming_content) if response.streaming else response.content
                elapsed = time.perf_counter() - started
            assert response.status_code == 200, (url, response.status_code)
            if i:
                times.append(elapsed * 1000)
            queries, size = len(ctx.captured_queries), len(body)
        p50, p95 = statistics.median(times), _percentile(times, 0.95)
        if url in PAGES:
            worst = max(worst, p95)
        print(f"{url:45} {p50:8.1f} {p95:8.1f} {queries:8d} {size:11,}", flush=True)
    print(f"\nslowest page p95: {worst:.0f} ms (goal < 300 ms): {'met' if worst < 300 else 'NOT met'}")
    return 0 if worst < 300 else 1


if __name__ == "__main__":
    sys.exit(main())
