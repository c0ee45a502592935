"""The unchanged rescan holds for every lockfile format, on real workers (issue 16, part 1).

One repository per format, locked by the real tools (tests/fixtures/lockfiles), two of them with
Dockerfiles on slim and alpine images looked up in a loopback registry. The first organisation
scan runs on a real Celery worker; the second, with nothing changed, records every repo
``unchanged`` and asks neither the index nor the registry anything. When one package's index
page changes, exactly the repos whose answers read that page are scanned again.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.utils import timezone

from readiness.models import IndexPage, Repo
from readiness.services.organisation import organisation_scan
from tests.readiness.scan_support import repo_row, use_registry, wait_final
from tests.scanners.git_helpers import make_repo
from tests.support.registry_server import FixtureRegistryServer

pytestmark = pytest.mark.slow

LOCKS = Path(__file__).resolve().parents[1] / "fixtures" / "lockfiles"
SLIM = "FROM python:3.11-slim\nCOPY . .\nRUN pip install .\n"
ALPINE = "FROM python:3.12-alpine\nCOPY . .\nRUN pip install .\n"


def _hashed_requirements(scan_index, pins: dict[str, str]) -> str:
    """A ``pip-compile --generate-hashes`` style lock of ``pins``, hashed as the index serves them."""
    lines = []
    for name, version in pins.items():
        files = _release(scan_index, name, version)
        hashes = " \\\n    ".join(f"--hash=sha256:{f['hashes']['sha256']}" for f in files)
        lines.append(f"{name}=={version} \\\n    {hashes}\n")
    return "".join(lines)


def _pipfile_lock(scan_index, pins: dict[str, str]) -> str:
    """A ``pipenv lock`` style Pipfile.lock of ``pins`` (its header as in the recorded web lock)."""
    header = json.loads((LOCKS / "pipfile" / "web-Pipfile.lock").read_text())["_meta"]
    default = {
        name: {
            "hashes": sorted(f"sha256:{f['hashes']['sha256']}" for f in _release(scan_index, name, version)),
            "index": "pypi",
            "version": f"=={version}",
        }
        for name, version in pins.items()
    }
    return json.dumps({"_meta": header, "default": default, "develop": {}}, indent=4, sort_keys=True) + "\n"


def _release(scan_index, name: str, version: str) -> list[dict]:
    stem = f"-{version}"
    return [
        f
        for f in scan_index.project_page(name)["files"]
        if f"{stem}-" in f["filename"] or f["filename"].endswith(f"{stem}.tar.gz")
    ]


# The recorded pip lock took only the x86_64 wheels of these two; the index has them for aarch64
# too (advice: re-lock). Served here, as their public pages would be, so advice has its pages.
PIP_LOCKED_NATIVE = {
    "charset-normalizer": [
        "charset_normalizer-3.5.2-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl",
        "charset_normalizer-3.5.2-cp311-cp311-manylinux2014_aarch64.manylinux_2_17_aarch64.manylinux_2_28_aarch64.whl",
        "charset_normalizer-3.5.2-py3-none-any.whl",
        "charset_normalizer-3.5.2.tar.gz",
    ],
    "wcwidth": [
        "wcwidth-0.9.4-cp310-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
        "wcwidth-0.9.4-cp310-abi3-manylinux2014_aarch64.manylinux_2_17_aarch64.whl",
        "wcwidth-0.9.4.tar.gz",
    ],
}


def _mixed_org(tmp_path: Path, scan_index) -> dict[str, Repo]:
    """One repo per lockfile format: ``{format: repo}``."""
    for name, filenames in PIP_LOCKED_NATIVE.items():
        scan_index.add_project(name, [{"filename": f, "upload-time": "2026-10-20T09:00:00Z"} for f in filenames])
    layouts = {
        "requirements": {"requirements.txt": "psutil==5.9.8\nsix==1.16.0\n"},
        "requirements-hashed": {
            "requirements.txt": _hashed_requirements(scan_index, {"psycopg2": "2.9.9", "six": "1.16.0"}),
            "Dockerfile": SLIM,
        },
        "poetry-1": {"poetry.lock": (LOCKS / "poetry" / "small-poetry11.lock").read_text()},
        "poetry-2": {"poetry.lock": (LOCKS / "poetry" / "web-poetry2.lock").read_text(), "Dockerfile": ALPINE},
        "uv": {"uv.lock": (LOCKS / "uv" / "web-uv.lock").read_text()},
        "pipfile": {"Pipfile.lock": _pipfile_lock(scan_index, {"numpy": "1.26.4", "psycopg2": "2.9.9"})},
        "pdm": {"pdm.lock": (LOCKS / "pdm" / "web-pdm.lock").read_text()},
        "pylock": {"pylock.toml": (LOCKS / "pylock" / "web-pip-lock.pylock.toml").read_text()},
    }
    return {kind: repo_row(kind, make_repo(tmp_path / "repos", files, name=kind)) for kind, files in layouts.items()}


@pytest.fixture
def registry(settings, celery_worker):
    """The loopback registry stands in for Docker Hub, for this process and the worker alike."""
    with FixtureRegistryServer(auth="token") as server:
        use_registry(settings, server, worker=celery_worker)
        yield server


def test_a_mixed_organisation_rescanned_with_nothing_changed_asks_nothing(tmp_path, scan_index, registry):
    repos = _mixed_org(tmp_path, scan_index)
    first = wait_final(organisation_scan(trigger="schedule"), timeout=240)
    assert {s.repo.name: (s.state, s.error) for s in first} == dict.fromkeys(repos, ("done", ""))
    assert registry.paths(), "the Dockerfiles' base images were looked up"
    by_repo = {s.repo_id: s for s in first}
    # What each answer read from the index, and what for: a lock that lists its files needs the
    # index only for advice (psycopg2 is an sdist: how to get a wheel), requirements for files.
    pages = {kind: by_repo[repo.pk].provenance["pages"] for kind, repo in repos.items()}
    assert {n: p["used_for"] for n, p in pages["requirements"].items()} == {"psutil": "files", "six": "files"}
    assert pages["poetry-2"]["psycopg2"]["used_for"] == "advice"
    assert "django" not in pages["poetry-2"]  # a wheel from the lock's own list: no page behind it

    scan_index.clear_requests()
    registry.clear_requests()
    second = organisation_scan(trigger="schedule")
    assert {s.repo.name: (s.state, s.unchanged) for s in second} == dict.fromkeys(repos, ("done", True))
    assert all(s.results_from_id == by_repo[s.repo_id].result_scan_id for s in second)
    assert scan_index.page_requests() == []
    assert registry.paths() == []

    # psycopg2 publishes a release with wheels, and its cached page runs out: only the repos
    # whose answers read psycopg2's page are scanned again.
    readers = {kind for kind, p in pages.items() if "psycopg2" in p}
    assert readers == {"requirements-hashed", "poetry-2", "uv", "pipfile", "pdm", "pylock"}
    page = scan_index.project_page("psycopg2")
    scan_index.add_project(
        "psycopg2",
        [*page["files"], {"filename": "psycopg2-2.9.99-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"}],
    )
    IndexPage.objects.filter(name="psycopg2").update(fetched_at=timezone.now() - dt.timedelta(days=30))
    scan_index.clear_requests()
    third = organisation_scan(trigger="schedule")
    assert [r.path for r in scan_index.page_requests()] == ["/simple/psycopg2/"]
    rescanned = {s.repo.name for s in third if not s.unchanged}
    assert rescanned == readers
    assert {
        s.repo.name: s.state for s in wait_final([s for s in third if not s.unchanged], timeout=240)
    } == dict.fromkeys(readers, "done")
