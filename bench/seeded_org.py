"""Shared set-up of the benchmarks that read a seeded organisation (dashboard, weekly report).

Each benchmark keeps a PostgreSQL database of its own, seeded once with
``tests.readiness.factories.seed_org`` and reused while the requested size matches.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def add_size_arguments(parser: argparse.ArgumentParser, *, default_url: str) -> None:
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", default_url))
    parser.add_argument("--repos", type=int, default=2000)
    parser.add_argument("--packages", type=int, default=150)
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--teams", type=int, default=20)
    parser.add_argument("--reseed", action="store_true")


def seeded_django(args: argparse.Namespace) -> None:
    """Point Django at the benchmark's database, migrate, and (re)seed it when its size differs."""
    ensure_database(args.database_url)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "readiness.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from readiness.models import Repo, Rollup, Scan, ScanFinding, Team, Verdict
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
