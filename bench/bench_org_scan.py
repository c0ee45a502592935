"""A full organisation scan on real parts: 500 git repos, 2 Celery workers, PostgreSQL, Redis.

Run by hand from the repository root (PostgreSQL and Redis running)::

    .venv/bin/python bench/bench_org_scan.py [--repos 500] [--packages 150] [--pool 3000] \\
        [--workers 2] [--pg postgres://postgres@127.0.0.1:5432] [--redis redis://127.0.0.1:6379/1]

It creates (and drops first) the database ``readiness_bench`` so that tests are not disturbed,
generates ``--pool`` projects with realistic file lists on a local fixture index, ``--repos``
git repositories each locking ``--packages`` of them (half with a ``python:3.11-slim``
Dockerfile), starts ``--workers`` ``celery -A readiness worker --concurrency=1`` processes and
times ``organisation_scan`` (the ``scan_organisation`` task's service) until every scan is final,
then once more with nothing changed. Goals (issue 3): index requests == distinct packages,
>= 10 repos/s for the first scan, the unchanged scan under a tenth of the first.
"""

from __future__ import annotations

import argparse
import copy
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.index_server import FixtureIndexServer  # noqa: E402

PYTHONS = ("cp39", "cp310", "cp311", "cp312")
# Shapes of releases, with their share of the pool: most packages ship wheels for both
# architectures, some only for x86_64 (arm64 builds the sdist), some are pure, a few have no
# sdist and no arm64 wheel at all (nothing installs on arm64).
SHAPES = (("both", 0.6), ("amd64-only", 0.2), ("pure", 0.15), ("no-arm64", 0.05))


class _BenchIndex(FixtureIndexServer):
    """The fixture index without synthesised hashes: scans never download files, and hashing
    36,000 synthesised archives would make the index, not the scan, the thing measured."""

    def _served_page(self, project) -> dict[str, Any]:
        page = copy.deepcopy(project.page)
        for f in page["files"]:
            f["url"] = f["url"].replace("https://index.test/files/", self.files_url)
        return page


def _release_files(name: str, version: str, shape: str) -> list[dict[str, Any]]:
    stem = name.replace("-", "_")
    files = [] if shape == "no-arm64" else [{"filename": f"{stem}-{version}.tar.gz"}]
    if shape == "pure":
        return files + [{"filename": f"{stem}-{version}-py3-none-any.whl"}]
    for py in PYTHONS:
        files.append({"filename": f"{stem}-{version}-{py}-{py}-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"})
        files.append({"filename": f"{stem}-{version}-{py}-{py}-musllinux_1_1_x86_64.whl"})
        if shape == "both":
            files.append({"filename": f"{stem}-{version}-{py}-{py}-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"})
        files.append({"filename": f"{stem}-{version}-{py}-{py}-win_amd64.whl"})
    return files


def _pool(rng: random.Random, size: int) -> dict[str, tuple[list[str], str]]:
    shapes = [s for s, share in SHAPES for _ in range(int(share * 100))]
    return {f"pkg-{i:04d}": ([f"1.{minor}.0" for minor in range(3)], rng.choice(shapes)) for i in range(size)}


def _git(repo: Path, *args: str, env: dict[str, str]) -> None:
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def _make_repos(root: Path, rng: random.Random, pool: dict, *, count: int, packages: int) -> list[tuple[str, Path]]:
    env = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Bench",
        "GIT_AUTHOR_EMAIL": "bench@example.test",
        "GIT_COMMITTER_NAME": "Bench",
        "GIT_COMMITTER_EMAIL": "bench@example.test",
    }
    names = sorted(pool)
    out = []
    for i in range(count):
        path = root / f"svc-{i:03d}"
        path.mkdir(parents=True)
        chosen = rng.sample(names, packages)
        lines = [f"{n}=={rng.choice(pool[n][0])}" for n in sorted(chosen)]
        (path / "requirements.txt").write_text("\n".join(lines) + "\n")
        if i % 2:
            (path / "Dockerfile").write_text("FROM python:3.11-slim\nRUN pip install -r requirements.txt\n")
        _git(path, "init", "--quiet", "--initial-branch=main", env=env)
        _git(path, "add", "--all", env=env)
        _git(path, "commit", "--quiet", "-m", "initial", env=env)
        out.append((f"svc-{i:03d}", path))
    return out


def _psql(pg: str, sql: str) -> None:
    subprocess.run(["psql", f"{pg}/postgres", "-v", "ON_ERROR_STOP=1", "-q", "-c", sql], check=True)


def _wait_all_final(Scan, ids: list[int], timeout: float = 3600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Scan.objects.filter(id__in=ids).exclude(state__in=Scan.FINAL_STATES).exists():
            return
        time.sleep(0.05)
    raise SystemExit("timed out waiting for the scans")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=500)
    parser.add_argument("--packages", type=int, default=150)
    parser.add_argument("--pool", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/1")
    args = parser.parse_args()

    rng = random.Random(20241123)
    tmp = Path(tempfile.mkdtemp(prefix="bench-org-scan-"))
    index = _BenchIndex(mode="both", projects_dir=None).start()
    pool = _pool(rng, args.pool)
    for name, (versions, shape) in pool.items():
        index.add_project(name, [f for v in versions for f in _release_files(name, v, shape)])

    t = time.perf_counter()
    repos = _make_repos(tmp / "repos", rng, pool, count=args.repos, packages=args.packages)
    print(f"made {len(repos)} git repos in {time.perf_counter() - t:.1f}s", file=sys.stderr)

    _psql(args.pg, "DROP DATABASE IF EXISTS readiness_bench")
    _psql(args.pg, "CREATE DATABASE readiness_bench")
    queue = f"readiness-bench-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": f"{args.pg}/readiness_bench",
        "CELERY_BROKER_URL": args.redis,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "READINESS_INDEX_URL": index.url,
        "READINESS_VAR_DIR": str(tmp / "var"),
        "READINESS_REGISTRY_LOOKUPS": "0",
        "READINESS_GIT_CACHE_DIR": str(tmp / "git-cache"),
        "DJANGO_SETTINGS_MODULE": "readiness.settings",
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db.models import Count

    from readiness.models import Repo, Scan, Verdict
    from readiness.services.organisation import organisation_scan

    call_command("migrate", verbosity=0)
    Repo.objects.bulk_create(Repo(name=n, url=p.as_uri(), branch="main") for n, p in repos)

    logs = [open(tmp / f"worker-{i}.log", "wb") for i in range(args.workers)]
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "readiness",
                "worker",
                "--loglevel=WARNING",
                "--concurrency=1",
                "--pool=prefork",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"bench{i}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=logs[i],
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for i in range(args.workers)
    ]
    try:
        time.sleep(4)  # workers connect to the broker
        distinct = set()
        for _, path in repos:
            distinct.update(line.split("==")[0] for line in (path / "requirements.txt").read_text().split())

        index.clear_requests()
        t = time.perf_counter()
        first = organisation_scan(trigger="bench")
        _wait_all_final(Scan, [s.pk for s in first])
        full = time.perf_counter() - t
        requests_first = len(index.page_requests())
        rows = Verdict.objects.count()
        states = dict(Scan.objects.filter(id__in=[s.pk for s in first]).values_list("state").annotate(n=Count("id")))

        index.clear_requests()
        t = time.perf_counter()
        second = organisation_scan(trigger="bench")
        _wait_all_final(Scan, [s.pk for s in second])
        unchanged_time = time.perf_counter() - t
        unchanged = Scan.objects.filter(id__in=[s.pk for s in second], unchanged=True).count()
        requests_second = len(index.page_requests())
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(30)
        index.stop()

    print(f"repos: {args.repos} x {args.packages} packages from a pool of {args.pool}; {args.workers} workers")
    print(f"first scan states: {states}")
    print(f"full scan wall time: {full:.1f}s ({args.repos / full:.1f} repos/s)")
    print(f"index page requests: {requests_first} for {len(distinct)} distinct packages")
    print(f"verdict rows written: {rows} ({rows / full:,.0f} rows/s)")
    print(
        f"unchanged second scan: {unchanged_time:.1f}s ({unchanged}/{args.repos} unchanged, "
        f"{requests_second} index requests; {unchanged_time / full:.2%} of the first)"
    )


if __name__ == "__main__":
    main()
