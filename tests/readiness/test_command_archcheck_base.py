"""``archcheck --base REF``: what a branch changes, in real git repositories, as CI runs it."""

from __future__ import annotations

import json

import pytest

from tests.readiness.test_command_archcheck import run  # noqa: F401  (the fixture: a real process)
from tests.scanners.git_helpers import commit_files, file_url, git, make_repo

DOCKERFILE_310 = "FROM python:3.10-slim\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n"
BASE_REQUIREMENTS = "six==1.16.0\npsutil==5.9.8\n"  # psutil builds from source on arm64: broken at the base


@pytest.fixture
def service(tmp_path):
    """main: six + psutil (already blocked on arm64, slim image); branches add filprofiler or touch the README."""
    repo = make_repo(tmp_path, {"requirements.txt": BASE_REQUIREMENTS, "Dockerfile": DOCKERFILE_310}, name="svc")
    git(repo, "checkout", "--quiet", "-b", "add-fil")
    commit_files(repo, {"requirements.txt": BASE_REQUIREMENTS + "filprofiler==2022.5.0\n"}, "add filprofiler")
    git(repo, "checkout", "--quiet", "-b", "docs", "main")
    commit_files(repo, {"README.md": "# svc\n"}, "docs")
    return repo


def test_a_new_blocker_fails_and_names_its_line_and_fix(run, service):  # noqa: F811
    git(service, "checkout", "--quiet", "add-fil")
    result = run(str(service), "--base", "main", "--fail-on", "new", "--format", "json")
    assert result.returncode == 1, result.stderr
    doc = json.loads(result.stdout)
    assert doc["schema"] == "archcheck/1"
    assert doc["base"] == {"ref": "main", "commit": git(service, "rev-parse", "main")}
    kinds = {(c["name"], c["target"]): c["kind"] for c in doc["changes"]}
    assert kinds == {("filprofiler", "linux/amd64"): "added", ("filprofiler", "linux/arm64"): "new-blocker"}
    (blocker,) = [c for c in doc["changes"] if c["kind"] == "new-blocker"]
    assert blocker["before"] is None
    assert blocker["after"]["status"] == "none" and blocker["after"]["version"] == "2022.5.0"
    assert (blocker["after"]["lockfile"], blocker["after"]["line"]) == ("requirements.txt", 3)
    assert "2024.11.2" in blocker["after"]["fix"]
    assert doc["change_counts"]["new-blocker"] == 1
    assert doc["finding_changes"] == []
    assert {p["name"]: p["line"] for p in doc["packages"]}["filprofiler"] == 3


def test_a_branch_that_adds_nothing_passes_although_the_base_is_broken(run, service):  # noqa: F811
    result = run(file_url(service), "--ref", "docs", "--base", "main", "--fail-on", "new")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "changes against main: no change"
    assert "linux/arm64: blocked" in result.stdout  # the table as today, after the changes
    # The same branch with the old gate fails: the base was broken before it.
    assert run(file_url(service), "--ref", "docs", "--fail-on", "none").returncode == 1


def test_the_table_lists_the_changes_first(run, service):  # noqa: F811
    result = run(file_url(service), "--ref", "add-fil", "--base", "main")
    assert result.returncode == 0, result.stderr  # no --fail-on: never fails
    lines = result.stdout.splitlines()
    assert lines[0] == "changes against main: 1 new blocker"  # one package, counted once
    assert lines[1].split()[:7] == ["new", "blocker", "filprofiler", "2022.5.0", "linux/arm64:", "–", "→"]
    assert "requirements.txt:3" in lines[1] and "upgrade to 2024.11.2" in lines[1]
    assert lines.index("") < next(i for i, line in enumerate(lines) if line.startswith("package "))


def test_an_upgrade_with_arm64_wheels_resolves(run, tmp_path):  # noqa: F811
    repo = make_repo(
        tmp_path,
        {"requirements.txt": "PyYAML==5.3.1\n", "Dockerfile": DOCKERFILE_310.replace("3.10", "3.9")},
        name="yaml",
    )
    git(repo, "checkout", "--quiet", "-b", "bump")
    commit_files(repo, {"requirements.txt": "PyYAML==5.4.1\n"}, "bump PyYAML")
    result = run(file_url(repo), "--ref", "bump", "--base", "main", "--fail-on", "new", "--format", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert {(c["target"], c["kind"]) for c in doc["changes"]} == {
        ("linux/amd64", "resolved"),
        ("linux/arm64", "resolved"),
    }
    arm64 = next(c for c in doc["changes"] if c["target"] == "linux/arm64")
    assert (arm64["before"]["status"], arm64["before"]["version"], arm64["before"]["blocking"]) == (
        "sdist",
        "5.3.1",
        True,
    )
    assert arm64["after"]["file"] == "PyYAML-5.4.1-cp39-cp39-manylinux2014_aarch64.whl"
    assert doc["change_counts"]["resolved"] == 1


def test_bad_base_and_fail_on_new_without_base_are_bad_input(run, service):  # noqa: F811
    result = run(str(service), "--fail-on", "new")
    assert result.returncode == 2 and "--fail-on new needs --base" in result.stderr
    result = run(str(service), "--base", "no-such-branch")
    assert result.returncode == 2 and "no-such-branch" in result.stderr
