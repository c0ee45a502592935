"""A burst of signed GitHub push deliveries against the running server: response times and scans queued.

Run by hand from the repository root (PostgreSQL and Redis must be running)::

    .venv/bin/python bench/bench_webhooks.py [--repos 50] [--deliveries 1000] [--concurrency 8]

Drops and creates its own database, ``readiness_bench_webhooks``, migrates it and adds 50
GitHub repos. Starts the real server on a free loopback port: gunicorn (gthread workers, the
production server in requirements.txt) or, with ``--server runserver``, ``manage.py runserver
--noreload``, with Celery on Redis and a queue of its own, and no worker, so the queued scans
stay to be counted. runserver is not what production runs: it writes response headers and body
in two packets without TCP_NODELAY, so a keep-alive client waits for its delayed ACK (~40 ms per
request whatever the view does); gunicorn sets TCP_NODELAY and keeps one database connection
per long-lived thread. Then sends 1,000 signed ``push`` deliveries (GitHub's example payload, each changing
``requirements.txt``, repos in random order, unique delivery ids) from ``--concurrency``
keep-alive connections (httpx, loopback only, bounded), and reports p50/p95/p99/max of the
response time seen by the client, the outcomes, the scans in the database and the task
messages on the broker. Goal: p99 under 50 ms and at most one scan per repo per coalescing window.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import hashlib
import hmac
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PAYLOAD = ROOT / "tests" / "fixtures" / "github-webhooks" / "push" / "with-new-branch.payload.json"
SECRET = "bench webhook secret"
DATABASE = "readiness_bench_webhooks"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _psql(pg: str, sql: str) -> None:
    subprocess.run(["psql", f"{pg}/postgres", "-v", "ON_ERROR_STOP=1", "-q", "-c", sql], check=True)


def _body(template: dict, *, repo_index: int, n: int) -> bytes:
    payload = json.loads(json.dumps(template))
    sha = hashlib.sha1(f"{repo_index}-{n}".encode()).hexdigest()
    payload.update(ref="refs/heads/main", created=False, after=sha)
    payload["repository"].update(
        id=1000 + repo_index,
        name=f"svc-{repo_index:02d}",
        full_name=f"bench/svc-{repo_index:02d}",
        default_branch="main",
    )
    commit = payload["commits"][0]
    commit.update(id=sha, added=[], modified=["requirements.txt"], removed=[])
    payload["head_commit"] = commit
    return json.dumps(payload).encode()


async def _send(url: str, bodies: list[bytes], *, concurrency: int) -> tuple[list[float], collections.Counter, float]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    times: list[float] = []
    outcomes: collections.Counter = collections.Counter()
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)

    async with httpx.AsyncClient(limits=limits, timeout=30, trust_env=False) as client:

        async def one(body: bytes) -> None:
            headers = {
                "Content-Type": "application/json",
                "X-GitHub-Event": "push",
                "X-GitHub-Delivery": str(uuid.uuid4()),
                "X-Hub-Signature-256": "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest(),
            }
            t = time.perf_counter()
            response = await client.post(url, content=body, headers=headers)
            times.append(time.perf_counter() - t)
            outcomes[f"{response.status_code} {response.json().get('outcome', response.json().get('error'))}"] += 1

        async def worker() -> None:
            while not queue.empty():
                await one(queue.get_nowait())

        # Warm-up outside the measurement: signed pings, so every server thread has imported the
        # views and opened its database connection (what a server that has been up a while has).
        async def ping() -> None:
            body = b'{"zen": "warm-up"}'
            signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
            headers = {
                "Content-Type": "application/json",
                "X-GitHub-Event": "ping",
                "X-GitHub-Delivery": str(uuid.uuid4()),
                "X-Hub-Signature-256": signature,
            }
            (await client.post(url, content=body, headers=headers)).raise_for_status()

        for _ in range(4):
            await asyncio.gather(*(ping() for _ in range(concurrency)))
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - start
    return times, outcomes, wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=50)
    parser.add_argument("--deliveries", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--server", choices=("gunicorn", "runserver"), default="gunicorn")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/7")
    args = parser.parse_args()

    _psql(args.pg, f"DROP DATABASE IF EXISTS {DATABASE}")
    _psql(args.pg, f"CREATE DATABASE {DATABASE}")
    tmp = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    queue = f"readiness-bench-webhooks-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": f"{args.pg}/{DATABASE}",
        "CELERY_BROKER_URL": args.redis,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "GITHUB_WEBHOOK_SECRET": SECRET,
        "READINESS_WEBHOOK_COALESCE_SECONDS": "30",
        "READINESS_VAR_DIR": str(tmp / "var"),
        "READINESS_REGISTRY_LOOKUPS": "0",
        "DJANGO_SETTINGS_MODULE": "readiness.settings",
        "DEBUG": "0",
        "LOG_LEVEL": "ERROR",
    }
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db.models import Count

    from readiness.celery import app as celery_app
    from readiness.models import Repo, Scan, WebhookDelivery

    call_command("migrate", verbosity=0)
    Repo.objects.bulk_create(
        Repo(
            name=f"svc-{i:02d}",
            url=f"https://github.com/bench/svc-{i:02d}.git",
            branch="main",
            github_id=1000 + i,
            github_full_name=f"bench/svc-{i:02d}",
        )
        for i in range(args.repos)
    )

    template = json.loads(PAYLOAD.read_text())
    rng = random.Random(7)
    bodies = [_body(template, repo_index=rng.randrange(args.repos), n=n) for n in range(args.deliveries)]

    port = _free_port()
    log = open(tmp / "server.log", "wb")
    if args.server == "gunicorn":
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "readiness.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--worker-class",
            "gthread",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            # per request: the time gunicorn's thread spent on it (no waiting for a thread)
            "--access-logfile",
            str(tmp / "access.log"),
            "--access-logformat",
            "%(U)s %(M)s",
        ]
    else:
        command = [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
    server = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"server did not start: {(tmp / 'server.log').read_text()[-2000:]}") from None
                time.sleep(0.1)
        times, outcomes, wall = asyncio.run(
            _send(f"http://127.0.0.1:{port}/webhooks/github/", bodies, concurrency=args.concurrency)
        )
    finally:
        server.terminate()
        server.wait(30)
        log.close()

    server_name = f"gunicorn gthread {args.workers}x{args.threads}" if args.server == "gunicorn" else "runserver"
    scans = Scan.objects.filter(trigger="webhook")
    per_repo = collections.Counter(scans.values_list("repo_id", flat=True))
    with celery_app.connection_for_write() as conn:
        messages = conn.default_channel.queue_declare(queue, passive=True).message_count
        conn.default_channel.queue_purge(queue)
    stored = dict(WebhookDelivery.objects.values_list("outcome").annotate(n=Count("id")))
    touched = len({json.loads(b)["repository"]["id"] for b in bodies})
    ms = [t * 1000 for t in times]

    print(
        f"{args.deliveries} signed push deliveries over {args.repos} repos ({touched} touched), "
        f"concurrency {args.concurrency}, {server_name} on loopback"
    )
    print(f"wall: {wall:.2f} s ({args.deliveries / wall:.0f} deliveries/s)")
    print(
        f"response time: p50 {_percentile(ms, 0.5):.1f} ms, p95 {_percentile(ms, 0.95):.1f} ms, "
        f"p99 {_percentile(ms, 0.99):.1f} ms, max {max(ms):.1f} ms"
    )
    print(f"responses: {dict(outcomes)}")
    print(f"delivery log rows: {stored}")
    print(
        f"scans queued: {scans.count()} (max per repo: {max(per_repo.values(), default=0)}); "
        f"task messages on the broker: {messages}"
    )
    access = tmp / "access.log"
    if access.exists():
        served = [float(line.split()[1]) for line in access.read_text().splitlines() if line.startswith("/webhooks/")]
        served = served[-len(ms) :]  # the measured deliveries, after the warm-up pings
        print(
            f"time inside the server (gunicorn %(M)s, whole ms): p50 {_percentile(served, 0.5):.0f} ms, "
            f"p99 {_percentile(served, 0.99):.0f} ms"
        )
    ok = _percentile(ms, 0.99) < 50 and max(per_repo.values(), default=0) <= 1
    print("goal met" if ok else "goal MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
