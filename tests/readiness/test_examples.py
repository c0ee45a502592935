"""The demo's example services: real lockfiles of every format, Dockerfiles, and their histories."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from readiness.services.demo import demo_examples
from scanners.dockerfile import parse_dockerfile
from scanners.lockfiles import FORMATS, detect_format, parse_lockfile

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
LOCKFILES = sorted(p for p in EXAMPLES.rglob("*") if p.is_file() and detect_format(p.name))
DOCKERFILES = sorted(EXAMPLES.rglob("Dockerfile"))
# Hosts a committed example may name: the made-up index and download site, and localhost.
ALLOWED_HOSTS = {"index.test", "downloads.example.test", "127.0.0.1:8000"}


def _id(path: Path) -> str:
    return path.relative_to(EXAMPLES).as_posix()


@pytest.mark.parametrize("path", LOCKFILES, ids=_id)
def test_lockfile_parses_without_problems(path):
    parsed = parse_lockfile(
        path.name,
        path.read_text(encoding="utf-8"),
        read_file=lambda p: (path.parent / p).read_text() if (path.parent / p).is_file() else None,
    )
    assert parsed.problems == ()
    assert len(parsed.packages) >= 3
    assert all(p.name and p.version for p in parsed.packages)


@pytest.mark.parametrize("path", DOCKERFILES, ids=_id)
def test_dockerfile_parses(path):
    image = parse_dockerfile(_id(path), path.read_text(encoding="utf-8"))
    assert image.base_image


def test_every_lockfile_format_is_present():
    assert {detect_format(p.name) for p in LOCKFILES} == set(FORMATS)


def test_the_blockers_the_demo_is_about_are_locked():
    locked = {
        (p.name, p.version)
        for path in LOCKFILES
        for p in parse_lockfile(path.name, path.read_text(encoding="utf-8")).packages
    }
    for wanted in [
        ("psutil", "5.9.8"),
        ("psutil", "6.0.0"),
        ("filprofiler", "2022.5.0"),
        ("tensorflow-macos", "2.15.0"),
        ("numpy", "1.18.5"),
        ("psycopg2", "2.9.9"),
        ("grpcio", "1.38.1"),
    ]:
        assert wanted in locked


@pytest.mark.parametrize(
    ("rule", "example"),
    [
        ("platform-pinned", "payments-api/00-initial/Dockerfile"),
        ("arch-specific-download", "image-resizer/00-initial/Dockerfile"),
    ],
)
def test_dockerfile_findings_the_demo_shows(rule, example):
    image = parse_dockerfile(example, (EXAMPLES / example).read_text())
    assert rule in {f.rule for f in image.findings}


def test_histories_parse_and_span_weeks():
    examples = demo_examples(EXAMPLES)
    assert len(examples) == 12
    assert all(e.team and e.steps for e in examples)
    oldest = max(e.steps[0].age.days for e in examples)
    assert 12 * 7 <= oldest <= 16 * 7
    assert sum(len(e.steps) > 1 for e in examples) >= 5


def test_no_real_host_in_examples():
    hosts = set()
    for path in EXAMPLES.rglob("*"):
        if path.is_file():
            hosts.update(re.findall(r"[a-z][a-z0-9+.-]*://([^/\s\"'`]+)", path.read_text(encoding="utf-8")))
    assert hosts and hosts <= ALLOWED_HOSTS, sorted(hosts - ALLOWED_HOSTS)


def test_examples_stay_small():
    assert sum(p.stat().st_size for p in EXAMPLES.rglob("*") if p.is_file()) < 2_000_000
