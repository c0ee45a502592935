"""Values longer than their columns (a 201-character package name, a 604-character lockfile path):
the row is left out and the scan says why; every other result of the repo is stored.

Real PostgreSQL (which refuses the over-long value, where SQLite would store it), real git repos,
the fixture index over HTTP.
"""

from __future__ import annotations

import pytest

from readiness.models import Scan, ScanFile, Verdict
from readiness.models.rollups import repo_state
from readiness.services.scans import scan_request
from tests.readiness.scan_support import repo_row
from tests.scanners.git_helpers import make_repo

pytestmark = pytest.mark.django_db(transaction=True)

LONG_NAME = "a" * 201
LONG_VERSION = "1." * 50 + "0"  # 101 characters
LOCK_604 = "/".join(["d" * 49] * 12) + "/requirements.txt"  # 12 × 50 - 1 + 17 = 616 > 500
LOCK_1100 = "/".join(["e" * 199] * 6) + "/requirements.txt"  # > 1000: not even the file's row fits


@pytest.mark.parametrize(
    ("files", "problem", "file_stored"),
    [
        (
            {"requirements.txt": f"six==1.16.0\n{LONG_NAME}==1.0\n"},
            "name too long to store (201 characters; at most 200)",
            True,
        ),
        (
            {"requirements.txt": f"six==1.16.0\npsutil=={LONG_VERSION}\n"},
            "version too long to store (101 characters; at most 100)",
            True,
        ),
        (
            {"requirements.txt": "six==1.16.0\n", LOCK_604: "psutil==5.9.8\n"},
            f"lockfile path too long to store ({len(LOCK_604)} characters; at most 500)",
            True,
        ),
        (
            {"requirements.txt": "six==1.16.0\n", LOCK_1100: "psutil==5.9.8\n"},
            f"path too long to store ({len(LOCK_1100)} characters; at most 1000)",
            False,
        ),
    ],
    ids=["package-name", "version", "lockfile-path", "file-path"],
)
def test_a_value_too_long_for_its_column_is_a_recorded_problem_and_the_rest_is_stored(
    tmp_path, scan_index, files, problem, file_stored
) -> None:
    repo = repo_row("svc", make_repo(tmp_path, files, name="svc"))

    scan = scan_request(repo=repo, trigger="manual")

    scan.refresh_from_db()
    repo.refresh_from_db()
    assert scan.state == Scan.State.PARTIAL, scan.error
    assert problem in scan.error and "not stored" in scan.error, scan.error
    assert "DataError" not in scan.error
    # The other package of the repo is stored, for every target, and the repo points at the scan.
    assert set(Verdict.objects.filter(scan=scan, package="six").values_list("target", "status")) == {
        ("linux/amd64", "wheel"),
        ("linux/arm64", "wheel"),
    }
    assert repo.latest_scan_id == scan.pk
    assert ScanFile.objects.filter(scan=scan, path="requirements.txt").exists()
    long_paths = [p for p in files if len(p) > 500]
    for path in long_paths:
        assert ScanFile.objects.filter(scan=scan, path=path).exists() == file_stored
    # Nothing was cut to fit: no stored row holds a shortened name, version or path.
    assert set(Verdict.objects.filter(scan=scan).values_list("package", flat=True)) == {"six"}
    assert all(len(p) <= 500 or p in files for p in ScanFile.objects.filter(scan=scan).values_list("path", flat=True))
    # The answer on record lacks a package: no target can be shown ready.
    for target, summary in scan.summary.items():
        assert summary["complete"] is False and repo_state(summary) != "ready", (target, summary)


def test_the_problem_quotes_a_long_name_shortened_and_says_it_once(tmp_path, scan_index) -> None:
    repo = repo_row("svc", make_repo(tmp_path, {"requirements.txt": f"six==1.16.0\n{LONG_NAME}==1.0\n"}, name="svc"))

    scan = scan_request(repo=repo, trigger="manual")

    scan.refresh_from_db()
    lines = [line for line in scan.error.splitlines() if "not stored" in line]
    # Two targets, two rows left out, one sentence; the 201 characters are quoted with an ellipsis.
    assert lines == [
        f"requirements.txt: package {'a' * 30}…{'a' * 30} 1.0 not stored: name too long to store (201 characters; at most 200)"
    ]


def test_a_scan_without_long_values_is_done_and_complete(tmp_path, scan_index) -> None:
    repo = repo_row("svc", make_repo(tmp_path, {"requirements.txt": "six==1.16.0\n"}, name="svc"))

    scan = scan_request(repo=repo, trigger="manual")

    scan.refresh_from_db()
    assert (scan.state, scan.error) == (Scan.State.DONE, "")
    assert all(s["complete"] and s["ready"] for s in scan.summary.values())
