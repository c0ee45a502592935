"""``manage.py matrix``: the stored matrix as archcheck/1 JSON documents or CSV rows."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command

from readiness.models import Verdict
from readiness.services.scans import scan_request
from tests.readiness.scan_support import org_repos

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def scanned(tmp_path, scan_index):
    repos = org_repos(tmp_path, 3)
    for repo, _ in repos:
        scan_request(repo=repo, trigger="manual")
    return repos


def _matrix(*args: str) -> str:
    out = io.StringIO()
    call_command("matrix", *args, stdout=out)
    return out.getvalue()


def test_json_is_an_array_of_archcheck_documents_with_name_and_team(scanned) -> None:
    docs = json.loads(_matrix("--format", "json"))

    assert [(d["schema"], d["name"], d["team"]) for d in docs] == [
        ("archcheck/1", "svc-00", "payments"),
        ("archcheck/1", "svc-01", "search"),
        ("archcheck/1", "svc-02", "payments"),
    ]
    fil = next(p for p in docs[1]["packages"] if p["name"] == "filprofiler")
    assert fil["version"] == "2022.5.0" and fil["lockfile"] == "requirements.txt"
    assert fil["results"]["linux/arm64"]["status"] == "none"
    assert fil["results"]["linux/arm64"]["fix_version"] == "2024.11.2"
    assert docs[0]["summary"]["linux/arm64"]["sdist"] == 1
    assert [t["id"] for t in docs[2]["targets"]] == ["linux/amd64", "linux/arm64"]
    assert docs[2]["targets"][0]["libc"] == "musl"
    assert any(p["path"] == "Dockerfile" for p in docs[2]["dockerfiles"])
    assert all(d["commit"] and len(d["commit"]) == 40 for d in docs)


def test_csv_columns_and_one_row_per_verdict(scanned) -> None:
    rows = list(csv.reader(io.StringIO(_matrix("--format", "csv"))))

    assert rows[0] == ["repo", "team", "package", "version", "target", "status", "file", "fix_version"]
    assert len(rows) - 1 == Verdict.objects.count() == 12
    assert ["svc-00", "payments", "psutil", "5.9.8", "linux/arm64", "sdist", "psutil-5.9.8.tar.gz", "6.0.0"] in rows
    assert ["svc-01", "search", "filprofiler", "2022.5.0", "linux/amd64", "none", "", "2024.11.2"] in rows


@pytest.mark.parametrize(
    ("args", "repos"),
    [(("svc-02",), ["svc-02"]), (("--team", "search"), ["svc-01"]), (("svc-00", "svc-01"), ["svc-00", "svc-01"])],
)
def test_selection(scanned, args, repos) -> None:
    docs = json.loads(_matrix(*args))

    assert [d["name"] for d in docs] == repos


def test_unknown_repo_exits_2(scanned) -> None:
    with pytest.raises(CommandError) as excinfo:
        _matrix("svc-00", "nope")

    assert excinfo.value.returncode == 2 and "nope" in str(excinfo.value)
