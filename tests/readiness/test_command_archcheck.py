"""``archcheck`` as users run it: a real process, stdout/stderr/exit codes per DESIGN.md's contract."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.scanners.git_helpers import commit_files, file_url, git, make_repo
from tests.support.scripted_server import ScriptedServer

ROOT = Path(__file__).resolve().parents[2]

REQUIREMENTS = "psutil==5.9.8\nfilprofiler==2022.5.0\nsix==1.16.0\n"
DOCKERFILE = "FROM --platform=linux/amd64 python:3.11-slim\nRUN pip install -r requirements.txt\n"


@pytest.fixture
def run(tmp_path, fixture_index):
    def run(*args: str, index_url: str | None = None) -> subprocess.CompletedProcess:
        env = {
            **os.environ,
            "READINESS_INDEX_URL": index_url or fixture_index.url,
            "READINESS_VAR_DIR": str(tmp_path / "var"),
            "READINESS_REGISTRY_LOOKUPS": "0",  # tests never reach a real registry
            # One retry: an outage test then waits a second, not the production back-off.
            "READINESS_INDEX_RETRIES": "1",
        }
        env.pop("DATABASE_URL", None)  # archcheck needs no database
        return subprocess.run(
            [sys.executable, "manage.py", "archcheck", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run


@pytest.fixture
def repo(tmp_path):
    return make_repo(tmp_path, {"requirements.txt": REQUIREMENTS, "Dockerfile": DOCKERFILE}, name="svc")


def test_json_contract(run, repo):
    result = run(str(repo), "--format", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)  # exactly one JSON document on stdout
    assert doc["schema"] == "archcheck/1"
    assert doc["commit"] == git(repo, "rev-parse", "HEAD")
    assert [t["id"] for t in doc["targets"]] == ["linux/amd64", "linux/arm64"]
    assert doc["targets"][1] == {
        "id": "linux/arm64",
        "platform": "linux/arm64",
        "python": "3.11",
        "libc": "glibc",
        "libc_version": doc["targets"][1]["libc_version"],
        "origin": "Dockerfile:1",
    }
    packages = {p["name"]: p for p in doc["packages"]}
    psutil = packages["psutil"]
    assert psutil["lockfile"] == "requirements.txt"
    assert psutil["results"]["linux/arm64"]["status"] == "sdist"
    assert psutil["results"]["linux/arm64"]["file"] == "psutil-5.9.8.tar.gz"
    assert psutil["results"]["linux/arm64"]["fix_version"] == "6.0.0"
    assert psutil["results"]["linux/amd64"]["status"] == "wheel"
    assert psutil["results"]["linux/amd64"]["file"].endswith("x86_64.whl")
    assert "/" not in psutil["results"]["linux/amd64"]["file"]
    assert packages["filprofiler"]["results"]["linux/arm64"]["status"] == "none"
    (dockerfile,) = doc["dockerfiles"]
    assert dockerfile["path"] == "Dockerfile"
    assert {"rule": "platform-pinned", "line": 1, "severity": "blocker"}.items() <= dockerfile["findings"][0].items()
    arm64 = doc["summary"]["linux/arm64"]
    assert (arm64["wheel"], arm64["sdist"], arm64["none"], arm64["ready"]) == (1, 1, 1, False)


@pytest.mark.parametrize(
    ("requirements", "fail_on", "code"),
    [
        ("six==1.16.0\n", "none", 0),
        ("six==1.16.0\n", "sdist", 0),
        ("psutil==5.9.8\n", "none", 0),  # an sdist is not a `none`…
        ("psutil==5.9.8\n", "sdist", 1),  # …but fails --fail-on sdist
        ("filprofiler==2022.5.0\n", "none", 1),
        ("filprofiler==2022.5.0\n", None, 0),
    ],
)
def test_fail_on(run, tmp_path, requirements, fail_on, code):
    repo = make_repo(tmp_path, {"requirements.txt": requirements}, name="x")
    args = [str(repo), "--platform", "linux/arm64", "--python", "3.11", "--libc", "glibc:2.36", "--format", "json"]
    result = run(*args, *(["--fail-on", fail_on] if fail_on else []))
    assert result.returncode == code, result.stderr
    assert json.loads(result.stdout)["schema"] == "archcheck/1"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/nonexistent/repo"], "no such file or directory"),
        (["{repo}", "--platform", "linux/sparc"], "linux/sparc"),
        (["{repo}", "--libc", "uclibc:1.0"], "uclibc"),
        (["{repo}", "--python", "three"], "three"),
        (["{repo}", "--ref", "no-such-branch"], "no-such-branch"),
        (["{repo}/requirements.txt"], "not a file"),
    ],
)
def test_bad_input_exits_2_with_one_line(run, repo, args, message):
    result = run(*[a.format(repo=repo) for a in args])
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message.split()[0] in lines[0] or message in lines[0]


def test_flags_override_the_dockerfile(run, repo):
    result = run(str(repo), "--python", "3.12", "--libc", "musl:1.2", "--platform", "linux/arm64", "--format", "json")
    doc = json.loads(result.stdout)
    assert doc["targets"] == [
        {
            "id": "linux/arm64",
            "platform": "linux/arm64",
            "python": "3.12",
            "libc": "musl",
            "libc_version": "1.2",
            "origin": "flag",
        }
    ]


def test_git_url_at_a_ref(run, tmp_path, repo):
    git(repo, "tag", "v1")
    commit_files(repo, {"requirements.txt": "six==1.16.0\n"}, "drop psutil")
    result = run(file_url(repo), "--ref", "v1", "--format", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert {p["name"] for p in doc["packages"]} == {"psutil", "filprofiler", "six"}
    head = json.loads(run(file_url(repo), "--format", "json").stdout)
    assert {p["name"] for p in head["packages"]} == {"six"}


def test_table_is_plain_when_not_a_terminal(run, repo):
    result = run(str(repo))
    assert result.returncode == 0
    assert "\x1b[" not in result.stdout
    assert "psutil" in result.stdout and "sdist" in result.stdout and "upgrade to 6.0.0" in result.stdout
    assert "linux/arm64: blocked" in result.stdout


def test_dead_index_gives_unknown_and_warnings(run, repo, tmp_path):
    env_url = "http://127.0.0.1:9/simple/"
    result = run(str(repo), "--index-url", env_url, "--format", "json", "--no-index-cache", "--python", "3.11")
    assert result.returncode == 0
    doc = json.loads(result.stdout)
    statuses = {r["status"] for p in doc["packages"] for r in p["results"].values()}
    assert statuses == {"unknown"}
    assert "warning: psutil is unknown: cannot reach index" in result.stderr
    # Nothing was seen, so nothing is ready: the answer says it is incomplete.
    amd64 = doc["summary"]["linux/amd64"]
    assert (amd64["unknown"], amd64["complete"], amd64["ready"]) == (3, False, False)


@pytest.mark.parametrize(("fail_on", "code"), [("none", 0), ("sdist", 0), ("unknown", 1)])
def test_fail_on_unknown_during_an_index_outage(run, tmp_path, fail_on, code):
    repo = make_repo(tmp_path, {"requirements.txt": "six==1.16.0\n"}, name="outage")
    result = run(
        str(repo),
        "--index-url",
        "http://127.0.0.1:9/simple/",
        "--no-index-cache",
        "--format",
        "json",
        "--python",
        "3.11",
        "--fail-on",
        fail_on,
    )
    assert result.returncode == code, result.stderr
    assert json.loads(result.stdout)["summary"]["linux/arm64"]["complete"] is False
    assert "(gave up after 2 attempts)" in result.stderr  # READINESS_INDEX_RETRIES=1 is honoured


def test_no_lockfile_is_bad_input(run, tmp_path):
    repo = make_repo(
        tmp_path, {"README.md": "nothing to lock\n", "Dockerfile": "FROM python:3.12-slim\n"}, name="empty"
    )
    result = run(str(repo), "--format", "json")
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"CommandError: no lockfile found in {repo} (looked for requirements*.txt, ")
    assert "requirements*.txt" in line and "poetry.lock" in line and "pylock.toml" in line
    at_ref = run(str(repo), "--ref", "main")
    assert at_ref.returncode == 2 and f"no lockfile found in {repo} at main" in at_ref.stderr


def test_unreadable_lockfiles_are_incomplete_not_ready(run, tmp_path):
    repo = make_repo(
        tmp_path, {"requirements.txt": b"\x00\x01binary\xff", "poetry.lock": "this is [not toml"}, name="bin"
    )
    result = run(str(repo), "--format", "json", "--python", "3.11")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["packages"] == []
    for summary in doc["summary"].values():
        assert (summary["complete"], summary["ready"]) == (False, False)
    assert run(str(repo), "--python", "3.11", "--fail-on", "unknown").returncode == 1
    table = run(str(repo), "--python", "3.11").stdout
    assert "linux/arm64: unknown (incomplete answer)" in table


def test_fail_on_help_says_what_each_level_means(run):
    result = run("--help")
    for line in (
        "none     a blocker",
        "sdist    also a package pip would build from source",
        "unknown  also an incomplete answer",
    ):
        assert line in result.stdout


def test_deep_check_flags_a_mislabelled_pure_wheel(tmp_path, make_fixture_index):
    """``--deep`` reads the chosen pure wheel with range requests and reports the native code it hides."""
    index = make_fixture_index()
    index.add_project(
        "mislabel",
        [
            {
                "filename": "mislabel-1.0-py3-none-any.whl",
                "x-members": [
                    ("mislabel/__init__.py", b""),
                    ("mislabel/_speedups.cpython-312-x86_64-linux-gnu.so", b"\x7fELF"),
                ],
            }
        ],
    )
    repo = make_repo(tmp_path, {"requirements.txt": "mislabel==1.0\nsix==1.16.0\n"}, name="deep")
    env = {
        **os.environ,
        "READINESS_INDEX_URL": index.url,
        "READINESS_VAR_DIR": str(tmp_path / "var"),
        "READINESS_REGISTRY_LOOKUPS": "0",
    }
    env.pop("DATABASE_URL", None)

    def run(*extra):
        out = subprocess.run(
            [sys.executable, "manage.py", "archcheck", str(repo), "--format", "json", "--python", "3.12", *extra],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    plain = run()
    assert plain["dockerfiles"] == []  # without --deep nothing is read
    deep = run("--deep")
    (entry,) = deep["dockerfiles"]
    assert entry["path"] == "requirements.txt"
    (finding,) = entry["findings"]
    assert finding["rule"] == "mislabelled-wheel" and finding["line"] == 1
    assert "mislabel==1.0" in finding["message"] and "native code" in finding["message"]


def test_no_token_of_a_private_pin_in_json_or_table(run, tmp_path):
    # A private package pinned with its token in the URL: the reason names its source, redacted.
    token = "ghp_archT0ken0123456789"
    requirements = f"six==1.16.0\nprivate @ git+https://user:{token}@git.test/acme/private.git\n"
    repo = make_repo(tmp_path, {"requirements.txt": requirements}, name="private")
    json_run = run(file_url(repo), "--format", "json", "--python", "3.11")
    table_run = run(str(repo), "--python", "3.11")
    for result in (json_run, table_run):
        assert result.returncode == 0, result.stderr
        assert token not in result.stdout and token not in result.stderr
    private = next(p for p in json.loads(json_run.stdout)["packages"] if p["name"] == "private")
    reason = private["results"]["linux/arm64"]["reason"]
    assert "git+https://***@git.test/acme/private.git" in reason


def test_the_package_limit_setting_reaches_archcheck(run, tmp_path, monkeypatch):
    monkeypatch.setenv("READINESS_MAX_PACKAGES_PER_LOCKFILE", "2")
    many = make_repo(tmp_path, {"requirements.txt": "six==1.16.0\npsutil==5.9.8\nnumpy==1.26.4\n"}, name="many")
    done = run(str(many), "--format", "json")
    document = json.loads(done.stdout)
    assert (
        "requirements.txt: 3 distinct packages, more than the limit of 2 per lockfile: only the first 2 are checked"
        in document["problems"]
    )
    assert [p["name"] for p in document["packages"]] == ["six", "psutil"]


def test_a_trickling_index_ends_archcheck_with_unknown_verdicts(run, tmp_path, monkeypatch):
    """Every page arrives a byte every 5 s: the deadline ends each request and archcheck answers,
    every verdict unknown, the summary incomplete (a page would take 1,000 s without it)."""
    trickle = (200, {"Content-Type": "application/vnd.pypi.simple.v1+json"}, b"{" * 200, 5.0)
    small = make_repo(tmp_path, {"requirements.txt": "six==1.16.0\npsutil==5.9.8\n"}, name="small")
    monkeypatch.setenv("READINESS_HTTP_DEADLINE", "2")
    with ScriptedServer(trickle) as server:
        done = run(str(small), "--format", "json", index_url=f"http://{server.address}/simple/")
    document = json.loads(done.stdout)
    statuses = {r["status"] for p in document["packages"] for r in p["results"].values()}
    assert {p["name"] for p in document["packages"]} == {"six", "psutil"} and statuses == {"unknown"}
    assert all(summary["complete"] is False for summary in document["summary"].values())
