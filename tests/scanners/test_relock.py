"""The re-lock advice for locks that list their own files, and the command per tool.

``web-pip-lock.pylock.toml`` was written by ``pip lock`` on linux/x86_64: it lists only that
machine's wheel of charset-normalizer, so on linux/arm64 an install from the lock has nothing
(``none``), although the index has an aarch64 wheel of the same version. The fix is to re-lock.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scanners.advice import relock_command
from scanners.check import TargetDefaults, check_snapshot, is_relevant_path
from scanners.git import fetch_snapshot
from scanners.index import IndexClient
from tests.scanners.git_helpers import make_repo

PYLOCK = Path(__file__).resolve().parents[1] / "fixtures" / "lockfiles" / "pylock" / "web-pip-lock.pylock.toml"
CN = "charset_normalizer-3.5.2-cp311-cp311"


@pytest.fixture
def index(make_fixture_index):
    server = make_fixture_index()
    server.add_project(
        "charset-normalizer",
        [
            {
                "filename": f"{CN}-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl",
                "upload-time": "2026-10-02T09:00:00Z",
            },
            {
                "filename": f"{CN}-manylinux2014_aarch64.manylinux_2_17_aarch64.manylinux_2_28_aarch64.whl",
                "upload-time": "2026-10-02T09:00:01Z",
            },
            {"filename": "charset_normalizer-3.5.2.tar.gz", "upload-time": "2026-10-02T08:59:00Z"},
        ],
    )
    return server


def test_pip_lock_for_one_machine_gets_relock_advice(index, tmp_path):
    repo = make_repo(tmp_path, {"pylock.toml": PYLOCK.read_text()}, name="svc")
    snapshot = fetch_snapshot(str(repo), wanted=is_relevant_path, cache_dir=tmp_path / "git")
    with IndexClient(index.url) as client:
        report = check_snapshot(snapshot, index=client, defaults=TargetDefaults(python="3.11", libc="glibc:2.36"))
    result = next(r for r in report.packages if r.package.name == "charset-normalizer")
    assert result.verdicts["linux/arm64"].status == "none"  # what an install from the lock does
    assert result.verdicts["linux/amd64"].status == "wheel"
    relock = result.advice[0]
    assert relock.kind == "relock" and relock.targets == ("linux/arm64",)
    assert relock.file == f"{CN}-manylinux2014_aarch64.manylinux_2_17_aarch64.manylinux_2_28_aarch64.whl"
    assert relock.command.startswith("pip lock writes only the files of the machine it runs on")
    assert "is on the index, not in the lock" in result.verdicts["linux/arm64"].reason
    assert "the lock's file list leaves it out" in relock.detail


@pytest.mark.parametrize(
    ("fmt", "generated_by", "hashed", "command"),
    [
        (
            "requirements",
            "pip-compile --generate-hashes requirements.in",
            True,
            "pip-compile --generate-hashes requirements.in --no-reuse-hashes",
        ),
        (
            "requirements",
            "pip-compile requirements.in",
            True,
            "pip-compile requirements.in --generate-hashes --no-reuse-hashes",
        ),
        (
            "requirements",
            "uv pip compile --generate-hashes requirements.in -o requirements.txt",
            True,
            "uv pip compile --generate-hashes requirements.in -o requirements.txt",
        ),
        (
            "requirements",
            "uv export --format requirements-txt",
            True,
            "uv lock --upgrade-package markupsafe && uv export --format requirements-txt",
        ),
        (
            "requirements",
            None,
            True,
            "pip-compile --generate-hashes --no-reuse-hashes (or uv pip compile --generate-hashes)",
        ),
        ("Pipfile.lock", None, True, "pipenv lock"),
        ("pdm.lock", None, False, "pdm lock --refresh"),
        ("poetry.lock", "poetry 1.x", False, "poetry lock --no-update"),
        ("poetry.lock", "poetry 2.x", False, "poetry lock --regenerate"),
        ("uv.lock", None, False, "uv lock --upgrade-package markupsafe"),
        (
            "pylock.toml",
            "uv export --output-file=pylock.toml",
            False,
            "uv lock --upgrade-package markupsafe && uv export --output-file=pylock.toml",
        ),
    ],
)
def test_relock_command_per_tool(fmt, generated_by, hashed, command):
    assert relock_command(fmt, generated_by, name="markupsafe", hashed=hashed) == command
