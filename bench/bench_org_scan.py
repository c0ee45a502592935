"""A full organisation scan on real parts: every lockfile format, base images, 2 Celery workers.

Run by hand from the repository root (PostgreSQL and Redis running)::

    .venv/bin/python bench/bench_org_scan.py [--repos 500] [--packages 150] [--pool 3000] \\
        [--workers 2] [--pg postgres://postgres@127.0.0.1:5432] [--redis redis://127.0.0.1:6379/12] \\
        [--database readiness_bench] [--json PATH] [--check-only]

It creates (and drops first) the database ``--database`` (``readiness_bench``) so that tests are not disturbed and
generates ``--pool`` projects on a loopback fixture index that serves what a PEP 691/700 index
serves (sha256 of every file, core-metadata digests, ``upload-time``). ``--repos`` git
repositories each lock ``--packages`` of them, in every lockfile format round-robin
(:mod:`bench.lock_writers`); half have a Dockerfile whose base image a loopback registry serves.
Before anything is timed, one repo of each format is checked with ``archcheck`` and its verdicts
compared with what the release shapes imply. Then ``--workers`` ``celery -A readiness worker
--concurrency=1`` processes run ``organisation_scan`` three times, each timed until every scan
is final: (a) the first scan, (b) again with nothing changed, (c) after one package's page
changed (a new release with an aarch64 wheel): only the repos whose answers read that page
should be scanned again (issue 16).
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import gc
import hashlib
import io
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from packaging.utils import canonicalize_name  # noqa: E402

from bench.lock_writers import FORMATS, Release  # noqa: E402
from readiness.celery import worker_command  # noqa: E402
from tests.support.index_server import FixtureIndexServer  # noqa: E402
from tests.support.registry_server import FIXTURE_REGISTRY_DIR, FixtureRegistryServer  # noqa: E402

PYTHONS = ("cp39", "cp310", "cp311", "cp312")
# Shapes of releases, with their share of the pool: most packages ship wheels for both
# architectures, some only for x86_64 (arm64 builds the sdist), some are pure, a few have no
# sdist and no arm64 wheel at all (nothing installs on arm64).
SHAPES = (("both", 0.6), ("amd64-only", 0.2), ("pure", 0.15), ("no-arm64", 0.05))
VERSIONS = ("1.0.0", "1.1.0", "1.2.0")
# Every upload is after 2023-06 (scanners.core_metadata.VALIDATED_UPLOADS_SINCE), as most of a
# real index is: the analyser then has no reason to read any wheel's core metadata.
FIRST_UPLOAD = dt.datetime(2024, 1, 8, 9, 0, tzinfo=dt.UTC)

# Half the repos have a Dockerfile: mostly these two, alternating...
MAIN_IMAGES = ("python:3.11-slim", "python:3.12-alpine")
# ...and every tenth one of these, so that the organisation has several distinct base images:
# the recorded python:3.12-slim index, two more python tags and a single-platform amd64 image
# (a base-image-no-arm64 blocker, answered through its image config blob).
EXTRA_IMAGES = ("python:3.12-slim", "python:3.10-slim-bookworm", "python:3.11-alpine3.20", "acme/legacy-app:1.4")
DOCKERFILE = "FROM {image}\nCOPY . .\nRUN pip install .\n"

# The package whose page changes in phase (c) gets this release, with wheels for both architectures.
NEW_VERSION = "1.3.0"


# --------------------------------------------------------------------------- the index


def _no_delay(handler: type) -> type:
    """``handler`` with TCP_NODELAY on its connections.

    The fixture servers send a response's headers and body in two writes; without TCP_NODELAY the
    second waits for the client's delayed ACK, ~40 ms per keep-alive request on loopback (measured:
    44-51 ms a page, 1.3 ms with it). The bench measures the scans, not the fixture's sockets.
    """
    return type(f"NoDelay{handler.__name__}", (handler,), {"disable_nagle_algorithm": True})


class _BenchIndex(FixtureIndexServer):
    """The fixture index, with each project's served page computed once and TCP_NODELAY.

    The parent synthesises every file on each page request to give its real sha256 (hashed locks
    must match it); 3,000 pages of ~48 files would make the index, not the scan, the thing
    measured (9.5 ms a page uncached, 1.3 ms cached, over HTTP). Pages are cached per installed
    project (``add_project`` installs a new one, so a changed project is computed again). Callers
    must not modify the page they get.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pages: dict[str, tuple[object, dict[str, Any]]] = {}

    def _handler(self) -> type:
        return _no_delay(super()._handler())

    def _served_page(self, project) -> dict[str, Any]:
        key = canonicalize_name(project.name)
        cached = self._pages.get(key)
        if cached is not None and cached[0] is project:
            return cached[1]
        page = super()._served_page(project)
        self._pages[key] = (project, page)  # a race computes a page twice; both are equal
        return page


def _release_files(name: str, version: str, shape: str, uploaded: dt.datetime) -> list[dict[str, Any]]:
    stem = name.replace("-", "_")
    files = [] if shape == "no-arm64" else [f"{stem}-{version}.tar.gz"]
    if shape == "pure":
        files.append(f"{stem}-{version}-py3-none-any.whl")
    else:
        for py in PYTHONS:
            files.append(f"{stem}-{version}-{py}-{py}-manylinux_2_17_x86_64.manylinux2014_x86_64.whl")
            files.append(f"{stem}-{version}-{py}-{py}-musllinux_1_1_x86_64.whl")
            if shape == "both":  # both architectures, for glibc and musl alike
                files.append(f"{stem}-{version}-{py}-{py}-manylinux_2_17_aarch64.manylinux2014_aarch64.whl")
                files.append(f"{stem}-{version}-{py}-{py}-musllinux_1_1_aarch64.whl")
            files.append(f"{stem}-{version}-{py}-{py}-win_amd64.whl")
    # PEP 700 upload-time on every file, a second apart as an upload tool would send them.
    return [
        {"filename": f, "upload-time": (uploaded + dt.timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ")}
        for i, f in enumerate(files)
    ]


def _pool(rng: random.Random, size: int) -> dict[str, str]:
    """``{name: shape}``; every project has the releases of :data:`VERSIONS`."""
    shapes = [s for s, share in SHAPES for _ in range(int(share * 100))]
    return {f"pkg-{i:04d}": rng.choice(shapes) for i in range(size)}


def _serve_pool(index: _BenchIndex, pool: dict[str, str]) -> None:
    for i, (name, shape) in enumerate(pool.items()):
        files = []
        for k, version in enumerate(VERSIONS):
            uploaded = FIRST_UPLOAD + dt.timedelta(days=90 * k, minutes=i)
            files.extend(_release_files(name, version, shape, uploaded))
        index.add_project(name, files)


class _Releases:
    """Each pinned release with its files as the index serves them, computed once per (name, version)."""

    def __init__(self, index: _BenchIndex) -> None:
        self.index = index
        self._cache: dict[tuple[str, str], Release] = {}

    def __call__(self, name: str, version: str) -> Release:
        key = (name, version)
        if key not in self._cache:
            stem = f"{name.replace('-', '_')}-{version}"
            files = tuple(
                f
                for f in self.index.project_page(name)["files"]
                if f["filename"].startswith(stem + "-") or f["filename"] == stem + ".tar.gz"
            )
            self._cache[key] = Release(name, version, files)
        return self._cache[key]


# --------------------------------------------------------------------------- the registry


class _BenchRegistry(FixtureRegistryServer):
    """The fixture registry (Docker Hub's token flow), with TCP_NODELAY (see :func:`_no_delay`)."""

    def _handler(self) -> type:
        return _no_delay(super()._handler())


def _registry_directory(dest: Path) -> Path:
    """A registry catalogue for :data:`MAIN_IMAGES` and :data:`EXTRA_IMAGES`, from the recorded documents.

    ``python:3.12-slim`` is the recorded OCI index, byte for byte; the other python tags are that
    index cut to its linux/amd64 and linux/arm64 entries (and their attestations), with the
    annotations and child digests of each tag so that every tag has a digest of its own.
    ``acme/legacy-app:1.4`` is the recorded single-platform amd64 manifest and its config.
    """
    (dest / "manifests").mkdir(parents=True)
    (dest / "blobs").mkdir()
    recorded = ("manifests/python-3.12-slim.index.json", "manifests/python-3.12-slim.linux-arm64.manifest.json")
    recorded += ("blobs/python-3.12-slim.linux-arm64.config.json", "manifests/acme-legacy-app-1.4.manifest.json")
    recorded += ("blobs/acme-legacy-app-1.4.config.json",)
    for rel in recorded:
        shutil.copyfile(FIXTURE_REGISTRY_DIR / rel, dest / rel)
    index = json.loads((FIXTURE_REGISTRY_DIR / recorded[0]).read_text())
    keep = {
        m["digest"]
        for m in index["manifests"]
        if m["platform"]
        in ({"architecture": "amd64", "os": "linux"}, {"architecture": "arm64", "os": "linux", "variant": "v8"})
    }
    tags = {"3.12-slim": recorded[0]}
    for image in MAIN_IMAGES + EXTRA_IMAGES:
        repository, _, tag = image.partition(":")
        if repository != "python" or tag in tags:
            continue
        entries = []
        for m in copy.deepcopy(index["manifests"]):
            annotations = m["annotations"]
            if m["digest"] not in keep and annotations.get("vnd.docker.reference.digest") not in keep:
                continue
            m["digest"] = _derived_digest(m["digest"], tag)
            if "vnd.docker.reference.digest" in annotations:
                annotations["vnd.docker.reference.digest"] = _derived_digest(
                    annotations["vnd.docker.reference.digest"], tag
                )
            else:
                base = "alpine:" + (tag.split("alpine")[1] or "3.24") if "alpine" in tag else "debian:trixie-slim"
                annotations["org.opencontainers.image.base.name"] = base
                annotations["org.opencontainers.image.version"] = tag
            entries.append(m)
        rel = f"manifests/python-{tag}.index.json"
        (dest / rel).write_text(json.dumps({**index, "manifests": entries}, indent=2) + "\n")
        tags[tag] = rel
    catalogue = {
        "repositories": {
            "library/python": {"tags": tags, "manifests": [recorded[1]], "blobs": [recorded[2]]},
            "acme/legacy-app": {"tags": {"1.4": recorded[3]}, "manifests": [], "blobs": [recorded[4]]},
        }
    }
    (dest / "catalogue.json").write_text(json.dumps(catalogue, indent=2) + "\n")
    return dest


def _derived_digest(digest: str, tag: str) -> str:
    return "sha256:" + hashlib.sha256(f"{tag}:{digest}".encode()).hexdigest()


def _image_for(i: int) -> str | None:
    """Repo ``i``'s base image, or ``None``: Dockerfiles on every other round of the formats (so each
    format has them in half its repos), the two main images alternating, every tenth an extra."""
    block, fmt = divmod(i, len(FORMATS))
    if block % 2 == 0:
        return None
    nth = (block // 2) * len(FORMATS) + fmt  # the nth repo with a Dockerfile
    if nth % 10 == 9:
        return EXTRA_IMAGES[(nth // 10) % len(EXTRA_IMAGES)]
    return MAIN_IMAGES[(fmt + block // 2) % 2]


# --------------------------------------------------------------------------- the repositories


@dataclass(frozen=True)
class RepoSpec:
    name: str
    path: Path
    format: str
    image: str | None
    pins: dict[str, str]


_GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.test",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.test",
}


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, env={**os.environ, **_GIT_ENV}, check=True, capture_output=True)


def _make_repos(
    root: Path, rng: random.Random, pool: dict[str, str], releases: _Releases, *, count: int, packages: int
) -> list[RepoSpec]:
    names = sorted(pool)
    formats = list(FORMATS)
    specs = []
    for i in range(count):
        name, fmt, image = f"svc-{i:03d}", formats[i % len(formats)], _image_for(i)
        pins = {n: rng.choice(VERSIONS) for n in sorted(rng.sample(names, packages))}
        files = FORMATS[fmt](name, [releases(n, v) for n, v in pins.items()], releases.index.url)
        if image:
            files["Dockerfile"] = DOCKERFILE.format(image=image)
        path = root / name
        path.mkdir(parents=True)
        for rel, text in files.items():
            (path / rel).write_text(text)
        _git(path, "init", "--quiet", "--initial-branch=main")
        _git(path, "add", "--all")
        _git(path, "commit", "--quiet", "-m", "initial")
        specs.append(RepoSpec(name, path, fmt, image, pins))
    return specs


# --------------------------------------------------------------------------- the format check


def _expected_status(shape: str, target: dict[str, str]) -> str:
    """What pip does for a release of ``shape`` on ``target`` (the shapes are built so this is simple)."""
    if shape == "pure":
        return "wheel"
    python_ok = "cp" + target["python"].replace(".", "") in PYTHONS
    # Every non-pure shape has x86_64 wheels, only "both" has aarch64 ones (glibc and musl alike).
    if python_ok and (target["platform"] == "linux/amd64" or shape == "both"):
        return "wheel"
    return "sdist" if shape != "no-arm64" else "none"


def _check_formats(specs: list[RepoSpec], pool: dict[str, str], index_url: str) -> dict[str, dict[str, Any]]:
    """``archcheck`` one repo of each format; compare every verdict with :func:`_expected_status`."""
    from django.core.management import call_command

    results = {}
    for fmt in FORMATS:
        spec = next((s for s in specs if s.format == fmt and s.image), None) or next(
            s for s in specs if s.format == fmt
        )
        out = io.StringIO()
        call_command("archcheck", str(spec.path), format="json", index_url=index_url, no_index_cache=True, stdout=out)
        report = json.loads(out.getvalue())
        targets = {t["id"]: t for t in report["targets"]}
        statuses: Counter[str] = Counter()
        wrong = []
        for p in report["packages"]:
            for target_id, result in p["results"].items():
                statuses[result["status"]] += 1
                expected = _expected_status(pool[p["name"]], targets[target_id])
                if result["status"] != expected:
                    wrong.append(f"{p['name']} {p['version']} on {target_id}: {result['status']}, expected {expected}")
        results[fmt] = {
            "repo": spec.name,
            "image": spec.image,
            "targets": [f"{t['platform']} py{t['python']} {t['libc']}" for t in report["targets"]],
            "packages": len(report["packages"]),
            "pinned": len(spec.pins),
            "statuses": dict(statuses),
            "wrong": wrong,
            "file_errors": [f"{f['path']}: {f['error']}" for f in report["files"] if f["error"]],
            "problems": report["problems"],
            "dockerfile_findings": sorted({f["rule"] for d in report["dockerfiles"] for f in d["findings"]}),
            "ok": not wrong and len(report["packages"]) == len(spec.pins) and not report["problems"],
        }
    return results


def _print_format_check(results: dict[str, dict[str, Any]]) -> None:
    print("\nper-format check (archcheck on one repo of each format, verdicts against the release shapes):")
    for fmt, r in results.items():
        verdict = "ok" if r["ok"] else "WRONG"
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(r["statuses"].items()))
        print(
            f"  {fmt:20} {verdict:5} {r['repo']} ({r['image'] or 'no Dockerfile'}; {' / '.join(r['targets'])}): "
            f"{r['packages']}/{r['pinned']} packages; {statuses}"
            + (f"; findings {', '.join(r['dockerfile_findings'])}" if r["dockerfile_findings"] else "")
        )
        for line in r["wrong"][:5] + r["file_errors"] + r["problems"][:5]:
            print(f"      {line}")


# --------------------------------------------------------------------------- phases


def _psql(pg: str, sql: str) -> None:
    subprocess.run(["psql", f"{pg}/postgres", "-v", "ON_ERROR_STOP=1", "-q", "-c", sql], check=True)


def _wait_all_final(Scan, ids: list[int], timeout: float = 3600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Scan.objects.filter(id__in=ids).exclude(state__in=Scan.FINAL_STATES).exists():
            return
        time.sleep(0.05)
    raise SystemExit("timed out waiting for the scans")


def _wait_refreshed(timeout: float = 600) -> None:
    from readiness.models import UpstreamRefreshPending
    from readiness.services.advisory_locks import advisory_try_lock, advisory_unlock

    def refreshing() -> bool:
        # A refresh takes the pending rows first and works under its lock: both must be clear.
        if UpstreamRefreshPending.objects.exists() or not advisory_try_lock("upstream-refresh"):
            return True
        advisory_unlock("upstream-refresh")
        return False

    deadline = time.monotonic() + timeout
    while refreshing():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for the upstream refresh")
        time.sleep(0.05)


def _registry_numbers(registry: FixtureRegistryServer) -> dict[str, Any]:
    requests = registry.requests
    manifests = [r for r in requests if "/manifests/" in r.path and r.method in ("GET", "HEAD")]
    # Docker Hub's anonymous token flow: a client that has not met the registry's challenge yet is
    # answered 401 first, then asks the token service, then repeats the request with the token.
    answered = [r for r in manifests if "authorization" in r.headers]
    return {
        "manifest_requests": len(manifests),
        "manifest_requests_with_token": len(answered),
        "challenges": len(manifests) - len(answered),
        "token_requests": sum(1 for r in requests if r.path.startswith("/token")),
        "blob_requests": sum(1 for r in requests if "/blobs/" in r.path),
        "distinct_images_requested": len({r.path.split("/v2/")[1] for r in manifests}),
    }


class _GitDaemon:
    """The repos served over ``git://`` by ``git daemon`` on loopback, as a Git host serves them.

    With ``file://`` URLs the serving side of every clone (``upload-pack`` and ``pack-objects``
    compressing the lockfile) runs as a child of the worker's own ``git clone`` and is counted as
    the worker's CPU; on GitHub it runs on GitHub's machines. Behind a daemon it is the daemon's
    (its reaped children), reported on a line of its own. It still runs on the same 2 cores.
    """

    def __init__(self, root: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process = subprocess.Popen(
            [
                "git",
                "daemon",
                "--reuseaddr",
                "--listen=127.0.0.1",
                f"--port={self.port}",
                f"--base-path={root}",
                "--export-all",
                "--informative-errors",
                str(root),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise SystemExit("git daemon did not start") from None
                time.sleep(0.05)

    def url(self, name: str) -> str:
        return f"git://127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _tree_cpu_seconds(pids: list[int]) -> float:
    """CPU seconds (user + system) of ``pids`` and their live descendants, each with the children it
    has reaped (a worker's git processes): what the workers cost whatever else the machine runs."""
    total, pending, seen = 0.0, list(pids), set()
    while pending:
        pid = pending.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:  # exited meanwhile
            continue
        total += sum(int(f) for f in fields[11:15]) / _CLOCK_TICKS  # utime, stime, cutime, cstime
        pending.extend(int(c) for c in children)
    return total


def _postgres_pids() -> list[int]:
    """PostgreSQL's postmasters on this machine (its backends are their children): empty if it runs elsewhere."""

    def name_and_parent(pid: str) -> tuple[str, int]:
        head, rest = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)
        return head.split(" (", 1)[1], int(rest.split()[1])

    pids = []
    for entry in Path("/proc").iterdir():
        try:
            name, parent = name_and_parent(entry.name) if entry.name.isdigit() else ("", 0)
            if name == "postgres" and name_and_parent(str(parent))[0] != "postgres":
                pids.append(int(entry.name))
        except OSError:  # exited meanwhile
            continue
    return pids


def _own_cpu_seconds() -> float:
    """This process's CPU (user + system, all threads): the fixture index and registry serving pages."""
    t = os.times()
    return t.user + t.system


def _phase(
    label: str,
    *,
    index,
    registry,
    specs: list[RepoSpec],
    models,
    worker_pids: list[int] | None = None,
    git_server_pids: list[int] | None = None,
) -> dict[str, Any]:
    """Run ``organisation_scan`` once, wait for every scan to be final, and count what it cost."""
    from django.db.models import Count

    from readiness.services.organisation import organisation_scan

    Scan, Verdict = models
    index.clear_requests()
    registry.clear_requests()
    rows_before = Verdict.objects.count()
    cpu_before = _tree_cpu_seconds(worker_pids or [])
    git_server_before = _tree_cpu_seconds(git_server_pids or [])
    postgres = _postgres_pids()
    pg_before, own_before = _tree_cpu_seconds(postgres), _own_cpu_seconds()
    t = time.perf_counter()
    started = organisation_scan(trigger="bench")
    ids = [s.pk for s in started]
    _wait_all_final(Scan, ids)
    wall = time.perf_counter() - t
    worker_cpu = _tree_cpu_seconds(worker_pids or []) - cpu_before
    git_server_cpu = _tree_cpu_seconds(git_server_pids or []) - git_server_before
    pg_cpu, own_cpu = _tree_cpu_seconds(postgres) - pg_before, _own_cpu_seconds() - own_before
    # The upstream-issue drafts are refreshed behind the scans, all at once: when they are ready too.
    _wait_refreshed()
    suggestions_ready = time.perf_counter() - t
    rows = Verdict.objects.count() - rows_before
    scans = list(Scan.objects.filter(id__in=ids).select_related("repo"))
    by_name = {s.name: s for s in specs}
    unchanged: dict[str, list[int]] = {fmt: [0, 0] for fmt in FORMATS}
    for s in scans:
        counts = unchanged[by_name[s.repo.name].format]
        counts[0] += s.unchanged
        counts[1] += 1
    scanned = [s for s in scans if not s.unchanged]
    page_names = [canonicalize_name(r.path.split("/")[2]) for r in index.page_requests()]
    # Files and PEP 658 .metadata files: the analyser reads none (every upload is recent); the
    # upstream-issue drafts read one core metadata file per package blocked upstream, once.
    other = Counter(
        "metadata" if r.path.endswith(".metadata") else "file" for r in index.requests if r.path.startswith("/files/")
    )
    return {
        "phase": label,
        "repos": len(scans),
        "wall_s": round(wall, 2),
        "repos_per_s": round(len(scans) / wall, 1),
        # The workers' CPU (git included, PostgreSQL not) per repo of the phase: unlike the wall
        # time, it does not depend on what else the shared cores run meanwhile.
        "worker_cpu_ms_per_repo": round(1000 * worker_cpu / max(len(scans), 1), 1),
        # PostgreSQL (every backend) and this process (the fixture index and registry, the waiting
        # loop): what else the 2 cores spent on the phase.
        "postgres_cpu_ms_per_repo": round(1000 * pg_cpu / max(len(scans), 1), 1),
        "bench_cpu_ms_per_repo": round(1000 * own_cpu / max(len(scans), 1), 1),
        # The serving side of the clones and fetches (git daemon's upload-pack and pack-objects).
        "git_server_cpu_ms_per_repo": round(1000 * git_server_cpu / max(len(scans), 1), 1),
        "suggestions_ready_s": round(suggestions_ready, 2),
        "index_page_requests": len(page_names),
        "distinct_pages_requested": len(set(page_names)),
        # The pages the new answers read (for files or for advice): each should cost one request.
        "distinct_pages_read": len({n for s in scanned for n in s.provenance.get("pages", {})}),
        "index_metadata_requests": other["metadata"],
        "index_file_requests": other["file"],
        "registry": _registry_numbers(registry),
        "distinct_images_scanned": len({by_name[s.repo.name].image for s in scanned} - {None}),
        "verdict_rows": rows,
        "rows_per_s": round(rows / wall),
        "rescanned": len(scanned),
        "unchanged_per_format": unchanged,
        "states": dict(Scan.objects.filter(id__in=ids).values_list("state").annotate(n=Count("id"))),
        "_scans": scans,
    }


def _answers_per_format(scans, specs: list[RepoSpec], Verdict) -> dict[str, dict[str, Any]]:
    """Over every repo of the first scan: verdicts by status and what the pages were read for, per format."""
    from django.db.models import Count

    fmt_of = {s.name: s.format for s in specs}
    out: dict[str, dict[str, Any]] = {f: {"statuses": Counter(), "pages_for": Counter(), "repos": 0} for f in FORMATS}
    for s in scans:
        entry = out[fmt_of[s.repo.name]]
        entry["repos"] += 1
        entry["pages_for"].update(p["used_for"] for p in s.provenance.get("pages", {}).values())
    rows = Verdict.objects.filter(scan_id__in=[s.pk for s in scans]).values("scan__repo__name", "status")
    for repo, status, n in rows.annotate(n=Count("id")).values_list("scan__repo__name", "status", "n"):
        out[fmt_of[repo]]["statuses"][status] += n
    return {f: {k: dict(v) if isinstance(v, Counter) else v for k, v in e.items()} for f, e in out.items()}


def _change_one_page(index: _BenchIndex, pool: dict[str, str], specs: list[RepoSpec], IndexPage) -> tuple[str, dict]:
    """Give the most-locked x86_64-only package a release with an aarch64 wheel, and let its cached page expire."""
    lockers = Counter(n for s in specs for n in s.pins)
    name = max((n for n in pool if pool[n] == "amd64-only"), key=lambda n: (lockers[n], n))
    files = [
        {k: f[k] for k in ("filename", "upload-time")} for f in index.project_page(name)["files"]
    ] + _release_files(name, NEW_VERSION, "both", dt.datetime.now(dt.UTC).replace(microsecond=0))
    index.add_project(name, files)
    from django.utils import timezone

    expired = IndexPage.objects.filter(name=name).update(fetched_at=timezone.now() - dt.timedelta(days=30))
    return name, {"lockers": lockers[name], "cached_rows_expired": expired}


# --------------------------------------------------------------------------- profile


def _profile_rescans(specs: list[RepoSpec], pool: dict[str, str], path: Path, Scan, per_format: int = 2) -> dict:
    """cProfile full scans in this process, ``per_format`` repos of each format, as a worker late in phase (a).

    Each repo gets a new commit (so the unchanged shortcut does not apply) and is scanned by
    ``scan_execute`` here. Every page is parsed once first, as a worker that has seen the whole
    organisation has them memoised, and the pages and base images are in the shared caches: what
    is left is what each repo costs a worker. Writes the stats to ``path``; returns wall times.
    """
    import cProfile
    import pstats

    from readiness.clients import shared_index_client
    from readiness.models import Repo
    from readiness.services.scans import scan_claim, scan_execute

    with shared_index_client() as index:
        index.fetch_many(sorted(pool))
    repo_ids = dict(Repo.objects.values_list("name", "id"))
    profiler = cProfile.Profile()
    walls: dict[str, list[float]] = {}
    gc_seconds = _time_garbage_collection()
    for fmt in FORMATS:
        for spec in [s for s in specs if s.format == fmt][-per_format:]:
            (spec.path / "README.md").write_text("profiled\n")
            _git(spec.path, "add", "--all")
            _git(spec.path, "commit", "--quiet", "-m", "profile")
            claimed = scan_claim(scan_id=Scan.objects.create(repo_id=repo_ids[spec.name], trigger="bench-profile").pk)
            t = time.perf_counter()
            profiler.runcall(scan_execute, scan=claimed)
            walls.setdefault(fmt, []).append(round(time.perf_counter() - t, 3))
    profiler.dump_stats(path)
    gc.callbacks.clear()
    total = sum(sum(w) for w in walls.values())
    count = sum(len(w) for w in walls.values())
    print(f"\nprofile of {count} in-process rescans, {total:.2f}s ({total / count:.3f}s each): {walls}")
    print(f"of which garbage collection: {gc_seconds[0]:.2f}s in {gc_seconds[1]} collections")
    stats = pstats.Stats(str(path))
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(25)
    breakdown = _breakdown(stats, count)
    print("per repo, by step (cumulative, overlapping where nested):")
    for label, seconds in breakdown.items():
        print(f"  {label:58} {seconds * 1000:7.1f} ms  {seconds / (total / count):6.1%}")
    return {
        "walls_s": walls,
        "mean_s": round(total / count, 3),
        "per_repo_ms": {k: round(v * 1000, 1) for k, v in breakdown.items()},
    }


def _time_garbage_collection() -> list:
    """[seconds, collections] spent in the cyclic GC from now on (cProfile charges it to whatever
    allocated last)."""
    spent = [0.0, 0]
    started = [0.0]

    def callback(phase: str, info: dict) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            spent[0] += time.perf_counter() - started[0]
            spent[1] += 1

    gc.callbacks.append(callback)
    return spent


# The steps of one scan, by (file, function) as cProfile names them: read from the profile so the
# breakdown follows the code rather than timers put into it.
_STEPS = (
    ("git: fetch the snapshot and read its files (_fetch)", "readiness/services/scans.py", "_fetch"),
    ("git: ls-remote, is the head still the last answer's? (head_is)", "readiness/services/unchanged.py", "head_is"),
    ("parse the lockfiles and Dockerfiles (read_inputs)", "scanners/check/inputs.py", "read_inputs"),
    ("  of which TOML (tomli.loads, compiled)", "~", "<built-in method tomli._parser.loads>"),
    ("  of which file names -> DistributionFile", "scanners/distributions.py", "__post_init__"),
    ("verdicts: index pages from the cache and the analyser", "scanners/check/verdicts.py", "decide_verdicts"),
    ("  of which pages (fetch_many, memoised parse)", "readiness/services/index_cache.py", "fetch_many"),
    ("  the analyser (decide; remedies call it too)", "scanners/analyser.py", "decide"),
    ("remedies: fix versions and advice", "scanners/check/remedies.py", "attach_remedies"),
    ("findings: Dockerfiles and base images", "scanners/check/image_findings.py", "collect_findings"),
    ("rows to write (scan_rows)", "readiness/services/scan_rows.py", "scan_rows"),
    (
        "write the results (_finish_with_report, upstream included)",
        "readiness/services/scans.py",
        "_finish_with_report",
    ),
    (
        "  of which the Verdict/ScanFile/ScanFinding rows (insert_rows)",
        "readiness/services/bulk_insert.py",
        "insert_rows",
    ),
    (
        "  of which marking upstream drafts for a refresh (in process: the refresh too)",
        "readiness/services/scans.py",
        "_refresh_upstream",
    ),
)


def _breakdown(stats, count: int) -> dict[str, float]:
    """Seconds per repo spent in each of :data:`_STEPS`."""
    out = {}
    for label, file_suffix, function in _STEPS:
        out[label] = (
            sum(
                cumulative
                for (filename, _line, name), (_cc, _nc, _tt, cumulative, _callers) in stats.stats.items()
                if name == function and filename.endswith(file_suffix)
            )
            / count
        )
    return out


# --------------------------------------------------------------------------- report


GOALS = {
    "first": "first >= 20 repos/s; index requests = distinct pages read; registry lookups = distinct images",
    "unchanged": "every repo unchanged; wall <= 5 % of the first; 0 index and 0 registry requests",
    "one page changed": "rescans exactly the repos whose answers read the page; 1 index request",
}


def _print_phases(phases: list[dict[str, Any]], first_wall: float) -> None:
    rows = [
        ("wall time", lambda p: f"{p['wall_s']:.1f} s"),
        ("repos/s", lambda p: f"{p['repos_per_s']:.1f}"),
        ("worker CPU per repo (their git clients)", lambda p: f"{p['worker_cpu_ms_per_repo']:.0f} ms"),
        ("PostgreSQL CPU per repo", lambda p: f"{p['postgres_cpu_ms_per_repo']:.0f} ms"),
        ("bench CPU per repo (fixture servers)", lambda p: f"{p['bench_cpu_ms_per_repo']:.0f} ms"),
        ("git server CPU per repo (git daemon)", lambda p: f"{p.get('git_server_cpu_ms_per_repo', 0):.0f} ms"),
        ("upstream drafts ready after", lambda p: f"{p['suggestions_ready_s']:.1f} s"),
        ("share of the first", lambda p: f"{p['wall_s'] / first_wall:.1%}"),
        ("repos scanned (not unchanged)", lambda p: f"{p['rescanned']}/{p['repos']}"),
        (
            "index page requests / distinct",
            lambda p: (
                f"{p['index_page_requests']} / {p['distinct_pages_requested']}"
                + (
                    f" ({p['index_page_requests'] / p['distinct_pages_requested']:.2f}x)"
                    if p["distinct_pages_requested"]
                    else ""
                )
            ),
        ),
        ("distinct pages the answers read", lambda p: str(p["distinct_pages_read"])),
        ("index .metadata / file requests", lambda p: f"{p['index_metadata_requests']} / {p['index_file_requests']}"),
        (
            "registry manifest requests (with token)",
            lambda p: f"{p['registry']['manifest_requests']} ({p['registry']['manifest_requests_with_token']})",
        ),
        ("registry distinct images requested", lambda p: str(p["registry"]["distinct_images_requested"])),
        ("distinct images of scanned repos", lambda p: str(p["distinct_images_scanned"])),
        ("verdict rows written", lambda p: f"{p['verdict_rows']:,}"),
        ("verdict rows/s", lambda p: f"{p['rows_per_s']:,}"),
        ("states", lambda p: ", ".join(f"{k} {v}" for k, v in sorted(p["states"].items()))),
    ]
    width = max(len(r[0]) for r in rows)
    print("\n" + " " * width + "".join(f" | {p['phase']:>24}" for p in phases))
    for label, cell in rows:
        print(f"{label:<{width}}" + "".join(f" | {cell(p):>24}" for p in phases))
    print(f"{'unchanged per format':<{width}}")
    for fmt in FORMATS:
        cells = "".join(f" | {'{}/{}'.format(*p['unchanged_per_format'][fmt]):>24}" for p in phases)
        print(f"  {fmt:<{width - 2}}{cells}")
    print("\ngoals:")
    for p in phases:
        print(f"  {p['phase']:18} {GOALS[p['phase']]}: {'met' if p['goal_met'] else 'MISSED'} ({p['goal_detail']})")


def _judge(phases: dict[str, dict[str, Any]], change: dict[str, Any], distinct_images: int) -> None:
    first, second, third = phases["first"], phases["unchanged"], phases["one page changed"]
    reg = first["registry"]
    checks = [
        first["repos_per_s"] >= 20,
        first["index_page_requests"] == first["distinct_pages_read"] == first["distinct_pages_requested"],
        reg["manifest_requests_with_token"] == reg["distinct_images_requested"] == distinct_images,
    ]
    first["goal_met"] = all(checks)
    first["goal_detail"] = (
        f"{first['repos_per_s']} repos/s; {first['index_page_requests']} page requests for "
        f"{first['distinct_pages_read']} pages read; {reg['manifest_requests_with_token']} manifest lookups "
        f"(+{reg['challenges']} 401 challenges) for {distinct_images} images"
    )
    share = second["wall_s"] / first["wall_s"]
    second["goal_met"] = (
        second["rescanned"] == 0
        and share <= 0.05
        and second["index_page_requests"] == 0
        and second["registry"]["manifest_requests"] == 0
    )
    second["goal_detail"] = (
        f"{second['repos'] - second['rescanned']}/{second['repos']} unchanged, {share:.1%} of the first, "
        f"{second['index_page_requests']} index / {second['registry']['manifest_requests']} registry requests"
    )
    third["goal_met"] = (
        not change["extra"]
        and not change["missing"]
        and third["index_page_requests"] == 1
        and third["registry"]["manifest_requests"] == 0
    )
    third["goal_detail"] = (
        f"{change['package']}: {change['rescanned']} rescanned, {change['expected']} read its page, "
        f"{change['lockers']} lock it; {len(change['extra'])} extra, {len(change['missing'])} missed; "
        f"{third['index_page_requests']} index requests"
    )


# --------------------------------------------------------------------------- main


def _start_workers(
    count: int, env: dict[str, str], logs_dir: Path, profile_dir: Path | None = None
) -> list[subprocess.Popen]:
    workers = []
    for i in range(count):
        log = open(logs_dir / f"worker-{i}.log", "wb")  # noqa: SIM115 - closed when the process ends
        cmd = worker_command(name=f"bench{i}@%h", concurrency=1, loglevel="WARNING")
        if profile_dir is not None:
            profile_dir.mkdir(parents=True, exist_ok=True)
            # cProfile the whole worker: its tasks run in the process itself (solo pool), and the
            # stats are written when the warm shutdown at the end returns.
            cmd = [cmd[0], "-m", "cProfile", "-o", str(profile_dir / f"worker-{i}.prof"), *cmd[1:]]
            cmd = [a if a != "--pool=prefork" else "--pool=solo" for a in cmd]
        workers.append(
            subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        )
    return workers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=500)
    parser.add_argument("--packages", type=int, default=150)
    parser.add_argument("--pool", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--database", default="readiness_bench", help="dropped and created anew: two runs need two")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    parser.add_argument(
        "--git-remote",
        choices=("daemon", "file"),
        default="daemon",
        help="serve the repos with git daemon (git://, the serving side off the workers' books) or as file:// URLs",
    )
    parser.add_argument("--check-only", action="store_true", help="stop after the per-format check")
    parser.add_argument("--profile", type=Path, help="after the phases, cProfile one rescan per format into this file")
    parser.add_argument(
        "--profile-workers", type=Path, help="cProfile each worker (solo pool) into worker-N.prof in this directory"
    )
    args = parser.parse_args()

    rng = random.Random(20241123)
    tmp = Path(tempfile.mkdtemp(prefix="bench-org-scan-"))
    index = _BenchIndex(mode="both", projects_dir=None).start()
    registry = _BenchRegistry(auth="token", directory=_registry_directory(tmp / "registry")).start()
    pool = _pool(rng, args.pool)
    t = time.perf_counter()
    _serve_pool(index, pool)
    releases = _Releases(index)
    for name in pool:  # hash every served file now, not while a phase is timed
        index.project_page(name)
    hashing = time.perf_counter() - t
    print(f"served {len(pool)} projects, every file hashed, in {hashing:.1f}s", file=sys.stderr)

    t = time.perf_counter()
    specs = _make_repos(tmp / "repos", rng, pool, releases, count=args.repos, packages=args.packages)
    print(f"made {len(specs)} git repos in {time.perf_counter() - t:.1f}s", file=sys.stderr)

    _psql(args.pg, f'DROP DATABASE IF EXISTS "{args.database}"')
    _psql(args.pg, f'CREATE DATABASE "{args.database}"')
    queue = f"readiness-bench-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": f"{args.pg}/{args.database}",
        "CELERY_BROKER_URL": args.redis,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "READINESS_INDEX_URL": index.url,
        "READINESS_VAR_DIR": str(tmp / "var"),
        "READINESS_REGISTRY_LOOKUPS": "1",
        "READINESS_REGISTRY_ENDPOINTS": f"docker.io={registry.url}",
        "READINESS_REGISTRY_INSECURE": registry.host,
        "READINESS_GIT_CACHE_DIR": str(tmp / "git-cache"),
        "DJANGO_SETTINGS_MODULE": "readiness.settings",
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    from readiness.models import IndexPage, Repo, Scan, Verdict

    call_command("migrate", verbosity=0)
    checked = _check_formats(specs, pool, index.url)
    _print_format_check(checked)
    if args.check_only:
        index.stop()
        registry.stop()
        return
    daemon = _GitDaemon(tmp / "repos") if args.git_remote == "daemon" else None
    Repo.objects.bulk_create(
        Repo(name=s.name, url=daemon.url(s.name) if daemon else s.path.as_uri(), branch="main") for s in specs
    )
    servers = [daemon.process.pid] if daemon else []

    workers = _start_workers(args.workers, env, tmp, args.profile_workers)
    phases: dict[str, dict[str, Any]] = {}
    try:
        time.sleep(4)  # workers connect to the broker
        pids = [w.pid for w in workers]

        def run_phase(label: str) -> dict[str, Any]:
            return _phase(
                label,
                index=index,
                registry=registry,
                specs=specs,
                models=(Scan, Verdict),
                worker_pids=pids,
                git_server_pids=servers,
            )

        phases["first"] = run_phase("first")
        per_format = _answers_per_format(phases["first"]["_scans"], specs, Verdict)
        phases["unchanged"] = run_phase("unchanged")

        # (c) The repos whose latest answers read the page are the ones that should be scanned again.
        latest = Scan.objects.filter(id__in=Repo.objects.values("latest_scan_id")).select_related("repo")
        package, change = _change_one_page(index, pool, specs, IndexPage)
        readers = {s.repo.name for s in latest if package in s.provenance.get("pages", {})}
        phases["one page changed"] = run_phase("one page changed")
        rescanned = {s.repo.name for s in phases["one page changed"]["_scans"] if not s.unchanged}
        by_name = {s.name: s for s in specs}
        change.update(
            package=package,
            expected=len(readers),
            rescanned=len(rescanned),
            extra=sorted(rescanned - readers),
            missing=sorted(readers - rescanned),
            readers_per_format=dict(Counter(by_name[n].format for n in readers)),
            lockers_not_reading=sorted({s.name for s in specs if package in s.pins} - readers),
        )
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(30)
        workers = []
        profile = _profile_rescans(specs, pool, args.profile, Scan) if args.profile else None
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(30)
        if daemon is not None:
            daemon.stop()
        index.stop()
        registry.stop()

    distinct_images = len({s.image for s in specs} - {None})
    _judge(phases, change, distinct_images)
    print(
        f"\nrepos: {args.repos} x {args.packages} packages from a pool of {args.pool}, {len(FORMATS)} formats "
        f"round-robin, {sum(1 for s in specs if s.image)} Dockerfiles on {distinct_images} images; "
        f"{args.workers} workers; distinct packages locked: {len({n for s in specs for n in s.pins})}"
    )
    _print_phases(list(phases.values()), phases["first"]["wall_s"])
    print("\nfirst scan, per format: verdicts by status; pages read for files / for advice (all repos)")
    for fmt, e in per_format.items():
        statuses = ", ".join(f"{k} {v:,}" for k, v in sorted(e["statuses"].items()))
        pages = e["pages_for"]
        print(
            f"  {fmt:20} {e['repos']:4} repos: {statuses}; pages {pages.get('files', 0):,} / {pages.get('advice', 0):,}"
        )
    print(
        f"\none page changed: {change['package']} locked by {change['lockers']} repos, read by {change['expected']} "
        f"answers ({', '.join(f'{k} {v}' for k, v in sorted(change['readers_per_format'].items()))}); "
        f"{change['rescanned']} rescanned; extra {change['extra'][:10]}, missing {change['missing'][:10]}"
    )
    if change["lockers_not_reading"]:
        print(f"  lockers whose answers did not read the page: {change['lockers_not_reading'][:10]}")
    print(f"\nworker logs: {tmp}/worker-*.log")

    if args.json:
        document = {
            "date": dt.date.today().isoformat(),
            "args": {k: v for k, v in vars(args).items() if k != "json"},
            "setup": {"hashing_s": round(hashing, 1), "distinct_images": distinct_images},
            "format_check": checked,
            "phases": [{k: v for k, v in p.items() if not k.startswith("_")} for p in phases.values()],
            "first_per_format": per_format,
            "change": change,
            "profile": profile,
        }
        args.json.write_text(json.dumps(document, indent=2, default=str) + "\n")
        print(f"numbers written to {args.json}")


if __name__ == "__main__":
    main()
