"""``archcheck`` on lockfiles real projects committed (``../shared/corpus/real-lockfiles``).

Runs where ``../shared`` exists (CI always has it) and is skipped elsewhere; the lockfiles are
third-party data and are never copied into this project. Each repository is copied into a
temporary git repository committed at its SOURCE.md date, and checked with the targets its
SOURCE.md names, against the fixture index serving the public index's recorded pages and
hashes (no network: packages the fixtures do not record come out ``unknown``, and the rows
below only use recorded ones or the lockfiles' own file lists).

Every expected row was checked by hand with real pip (``pip download --no-deps --require-hashes``
with the lock's hashes, ``--platform`` ladder, ``--python-version`` and ``--implementation cp``,
against the public index), on 2026-12-02.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomli

from scanners.lockfiles._common import load_toml
from tests.scanners.git_helpers import git
from tests.support.index_server import FixtureIndexServer

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpus" / "real-lockfiles"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS} (CI has it)"),
]

_DATE = re.compile(r"\((\d{4}-\d\d-\d\dT[\d:]+[+-]\d\d:\d\d), ")
_TARGETS = re.compile(r"Targets:[^\n]*?Python (3\.\d+), (glibc|musl) (\d+\.\d+)")


@pytest.fixture(scope="module")
def index():
    with FixtureIndexServer(mode="both", hashes="recorded") as server:
        yield server


@pytest.fixture(scope="module")
def checked(tmp_path_factory, index):
    """``name -> archcheck/1 document``, each repository checked once."""
    docs: dict[str, dict] = {}
    base = tmp_path_factory.mktemp("corpus")

    def check(name: str) -> dict:
        if name not in docs:
            docs[name] = _archcheck(_copy(CORPUS / name, base / name), CORPUS / name / "SOURCE.md", index, base)
        return docs[name]

    return check


def _copy(source: Path, repo: Path) -> Path:
    shutil.copytree(source, repo, ignore=shutil.ignore_patterns("SOURCE.md"))
    when = dt.datetime.fromisoformat(_DATE.search((source / "SOURCE.md").read_text()).group(1))
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "as the project committed it", date=when)
    return repo


def _archcheck(repo: Path, source_md: Path, index: FixtureIndexServer, base: Path) -> dict:
    python, libc, version = _TARGETS.search(source_md.read_text()).groups()
    env = {
        **os.environ,
        "READINESS_INDEX_URL": index.url,
        "READINESS_VAR_DIR": str(base / "var"),
        "READINESS_REGISTRY_LOOKUPS": "0",
    }
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "archcheck",
            str(repo),
            "--format",
            "json",
            "--python",
            python,
            "--libc",
            f"{libc}:{version}",
            "--no-registry",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _result(doc: dict, name: str, target: str) -> tuple[str, str | None]:
    package = next(p for p in doc["packages"] if p["name"] == name)
    cell = package["results"][target]
    return cell["status"], cell["file"]


def _advice(doc: dict, name: str) -> list[dict]:
    return next(p for p in doc["packages"] if p["name"] == name)["advice"]


# (repo, package, target, status, file): real pip with the lock as written gave the same.
ROWS = [
    # pip-compile --generate-hashes (2021-01): the aarch64 and manylinux2010 wheels came later.
    ("warehouse", "markupsafe", "linux/arm64", "sdist", "MarkupSafe-1.1.1.tar.gz"),
    ("warehouse", "markupsafe", "linux/amd64", "wheel", "MarkupSafe-1.1.1-cp38-cp38-manylinux1_x86_64.whl"),
    ("warehouse", "bcrypt", "linux/amd64", "wheel", "bcrypt-3.2.0-cp36-abi3-manylinux2010_x86_64.whl"),
    ("warehouse", "bcrypt", "linux/arm64", "wheel", "bcrypt-3.2.0-cp36-abi3-manylinux2014_aarch64.whl"),
    # Pipfile.lock (2022-06): livereload's pure wheel was uploaded in December 2022.
    ("paperless-ngx", "livereload", "linux/arm64", "sdist", "livereload-2.6.3.tar.gz"),
    ("paperless-ngx", "livereload", "linux/amd64", "sdist", "livereload-2.6.3.tar.gz"),
    # poetry.lock 1.1: atomicwrites only through pytest's win32 edge.
    ("mealie", "atomicwrites", "linux/amd64", "n/a", None),
    ("mealie", "atomicwrites", "linux/arm64", "n/a", None),
    ("mealie", "colorama", "linux/arm64", "wheel", "colorama-0.4.4-py2.py3-none-any.whl"),
    ("mealie", "pyyaml", "linux/arm64", "sdist", "PyYAML-5.4.1.tar.gz"),
    ("mealie", "pyyaml", "linux/amd64", "wheel", "PyYAML-5.4.1-cp39-cp39-manylinux1_x86_64.whl"),
    # pdm.lock with inherit_metadata markers.
    ("pydantic", "astunparse", "linux/arm64", "n/a", None),
    (
        "pydantic",
        "pydantic-core",
        "linux/arm64",
        "wheel",
        "pydantic_core-2.26.0-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
    ),
    # uv.lock workspace: dkimpy ships only an sdist.
    ("fastapi-template", "dkimpy", "linux/arm64", "sdist", "dkimpy-1.1.8.tar.gz"),
    # pylock.toml from uv export: the file is the URL's (MarkupSafe-…), not uv's normalised name.
    (
        "comfy-cli",
        "markupsafe",
        "linux/arm64",
        "wheel",
        "MarkupSafe-3.0.2-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
    ),
    ("comfy-cli", "colorama", "linux/amd64", "n/a", None),
]


@pytest.mark.parametrize(
    ("repo", "package", "target", "status", "file"), ROWS, ids=[f"{r}-{p}-{t}" for r, p, t, _s, _f in ROWS]
)
def test_rows_agree_with_pip(checked, repo, package, target, status, file):
    assert _result(checked(repo), package, target) == (status, file)


@pytest.mark.parametrize(
    ("repo", "package", "wheel", "command"),
    [
        (
            "warehouse",
            "markupsafe",
            "MarkupSafe-1.1.1-cp38-cp38-manylinux2014_aarch64.whl",
            "pip-compile --allow-unsafe --generate-hashes --output-file=requirements/main.txt requirements/main.in --no-reuse-hashes",
        ),
        ("paperless-ngx", "livereload", "livereload-2.6.3-py2.py3-none-any.whl", "pipenv lock"),
    ],
)
def test_relock_is_the_first_advice(checked, repo, package, wheel, command):
    relock = _advice(checked(repo), package)[0]
    assert (relock["kind"], relock["file"], relock["command"]) == ("relock", wheel, command)
    assert relock["uploaded_at"] > relock["locked_at"]  # uploaded after the lockfile's commit


def test_path_requirements_leave_the_answer_incomplete(checked):
    doc = checked("mailu")
    assert _result(doc, "podop", "linux/arm64")[0] == "unknown"
    assert _result(doc, "socrate", "linux/arm64")[0] == "unknown"
    for summary in doc["summary"].values():
        assert (summary["complete"], summary["ready"]) == (False, False)


def test_every_toml_lockfile_reads_the_same_with_the_fast_parser_as_with_tomli() -> None:
    """``load_toml`` reads with rtoml and keeps tomli as the reference: on real lockfiles (and this
    project's own fixtures) the two must give equal values, datetimes and their offsets included."""
    paths = [
        p
        for root in (CORPUS, ROOT / "tests" / "fixtures" / "lockfiles")
        for p in sorted(root.rglob("*"))
        if p.is_file() and (p.suffix in (".lock", ".toml")) and p.name != "Pipfile.lock"
    ]
    assert len([p for p in paths if p.is_relative_to(CORPUS)]) >= 4  # uv, poetry, pdm, pylock
    read = 0
    for path in paths:
        text = path.read_text(encoding="utf-8")
        try:
            expected = tomli.loads(text)
        except tomli.TOMLDecodeError:
            continue  # a broken fixture: its error is tomli's either way (tests/scanners/lockfiles)
        got = load_toml(path.name, text)
        assert got == expected, path
        offsets = [(v.utcoffset(), v.isoformat()) for v in _datetimes(got)]
        assert offsets == [(v.utcoffset(), v.isoformat()) for v in _datetimes(expected)], path
        read += 1
    assert read >= 10


def _datetimes(value):
    if isinstance(value, dt.datetime):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _datetimes(v)
    elif isinstance(value, list):
        for v in value:
            yield from _datetimes(v)
