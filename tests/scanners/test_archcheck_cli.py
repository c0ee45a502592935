"""``python -m scanners`` (archcheck without Django): its on-disk caches, its imports, its bytes.

Real processes against the loopback index and registry, which record every request: a warm run
asks nothing, ``--refresh`` revalidates, a file's core metadata is fetched once ever, a registry
failure is remembered for its period; the JSON is byte for byte what ``manage.py archcheck``
prints.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.scanners.git_helpers import make_repo
from tests.support.registry_server import FixtureRegistryServer

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow

REQUIREMENTS = "psutil==5.9.8\nfilprofiler==2022.5.0\nsix==1.16.0\n"
DOCKERFILE = "FROM python:3.11-slim\nRUN pip install -r requirements.txt\n"


def _env(tmp_path: Path, index_url: str, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "READINESS_INDEX_URL": index_url,
        "READINESS_VAR_DIR": str(tmp_path / "var"),
        "READINESS_REGISTRY_LOOKUPS": "0",
        "READINESS_INDEX_RETRIES": "1",
        **extra,
    }
    env.pop("DATABASE_URL", None)
    return env


def _run(env: dict[str, str], *args: str, entry: str = "scanners", python_flags: tuple[str, ...] = ()):
    command = ["manage.py", "archcheck"] if entry == "manage.py" else ["-m", "scanners"]
    return subprocess.run(
        [sys.executable, *python_flags, *command, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
    )


@pytest.fixture
def repo(tmp_path):
    return make_repo(tmp_path, {"requirements.txt": REQUIREMENTS, "Dockerfile": DOCKERFILE}, name="svc")


def test_a_warm_run_asks_the_index_nothing_and_refresh_revalidates(tmp_path, repo, make_fixture_index):
    index = make_fixture_index()
    env = _env(tmp_path, index.url)
    first = _run(env, str(repo), "--format", "json")
    assert first.returncode == 0, first.stderr
    assert b"cannot write" not in first.stderr  # every page kept, parsed, from the first write on
    assert len(list((tmp_path / "var" / "index-cache").glob("*/*.files"))) == 3
    assert {r.path for r in index.page_requests()} == {"/simple/psutil/", "/simple/filprofiler/", "/simple/six/"}

    index.clear_requests()
    second = _run(env, str(repo), "--format", "json")
    assert second.returncode == 0, second.stderr
    assert index.requests == []  # pages, metadata: everything from the cache
    assert second.stdout == first.stdout

    refreshed = _run(env, str(repo), "--format", "json", "--refresh")
    assert refreshed.stdout == first.stdout
    pages = index.page_requests()
    assert len(pages) == 3
    assert all("if-none-match" in r.headers or "if-modified-since" in r.headers for r in pages)


def test_core_metadata_is_fetched_once_ever(tmp_path, make_fixture_index):
    index = make_fixture_index()
    index.add_project(
        "appframework",
        [
            {"filename": "appframework-1.0-py3-none-any.whl", "x-metadata": ["Requires-Dist: oldnative>=1"]},
            {"filename": "appframework-2.0-py3-none-any.whl", "x-metadata": ['Requires-Dist: oldnative; extra == "x"']},
        ],
    )
    index.add_project("oldnative", [{"filename": "oldnative-1.0-cp312-cp312-manylinux_2_17_x86_64.whl"}])
    repo = make_repo(
        tmp_path, {"requirements.txt": "appframework==1.0\n    # via -r r.in\noldnative==1.0\n    # via appframework\n"}
    )
    env = _env(tmp_path, index.url)
    args = (str(repo), "--format", "json", "--python", "3.12", "--libc", "glibc:2.36")
    first = _run(env, *args)
    assert first.returncode == 0, first.stderr
    advice = {p["name"]: p for p in json.loads(first.stdout)["packages"]}["oldnative"]["advice"]
    assert advice[0]["kind"] == "upgrade-parent"
    fetched = [r.path for r in index.requests if r.path.endswith(".metadata")]
    assert "/files/appframework-2.0-py3-none-any.whl.metadata" in fetched  # the parent's newer release
    assert len(fetched) == len(set(fetched))

    index.clear_requests()
    refreshed = _run(env, *args, "--refresh")  # pages are revalidated; metadata never changes
    assert refreshed.stdout == first.stdout
    assert [r.path for r in index.requests if r.path.endswith(".metadata")] == []
    assert index.page_requests()


def _registry_env(tmp_path, index, registry) -> dict[str, str]:
    """The environment of a run whose Docker Hub is the loopback ``registry``."""
    return _env(
        tmp_path,
        index.url,
        READINESS_REGISTRY_LOOKUPS="1",
        READINESS_REGISTRY_ENDPOINTS=f"docker.io={registry.url}",
        READINESS_REGISTRY_INSECURE=registry.host,
    )


def test_a_registry_failure_is_remembered_for_its_period(tmp_path, repo, fixture_index):
    with FixtureRegistryServer(auth="token") as registry:
        env = _registry_env(tmp_path, fixture_index, registry)
        registry.fail(404, times=1000, path_contains="/manifests/")
        first = _run(env, str(repo), "--format", "json")
        assert first.returncode == 0, first.stderr
        assert registry.requests
        registry.clear_requests()

        second = _run(env, str(repo), "--format", "json")
        assert registry.requests == []  # the failure is answered from the cache
        assert second.stdout == first.stdout

        expired = _run({**env, "READINESS_REGISTRY_FAILURE_SECONDS": "0"}, str(repo), "--format", "json")
        assert expired.returncode == 0, expired.stderr
        assert registry.requests  # past its period the registry is asked again


def test_a_registry_answer_is_kept_between_runs(tmp_path, repo, fixture_index):
    with FixtureRegistryServer(auth="token") as registry:
        env = _registry_env(tmp_path, fixture_index, registry)
        first = _run(env, str(repo), "--format", "json")
        assert registry.requests
        registry.clear_requests()
        second = _run(env, str(repo), "--format", "json")
        assert registry.requests == []
        assert second.stdout == first.stdout
        assert first.returncode == 0, first.stderr


def _imported(stderr: bytes) -> set[str]:
    """Module names from ``-X importtime`` lines (``import time: self | cumulative | name``)."""
    names = set()
    for line in stderr.decode().splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    return names


@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_the_command_line_loads_no_django_celery_or_html_parser(tmp_path, repo, make_fixture_index, warm):
    index = make_fixture_index(mode="json")
    env = _env(tmp_path, index.url)
    if warm:
        assert _run(env, str(repo), "--format", "json").returncode == 0
    result = _run(env, str(repo), "--format", "json", python_flags=("-X", "importtime"))
    assert result.returncode == 0, result.stderr
    imported = _imported(result.stderr)
    assert "scanners.check" in imported  # the parser works: it saw the real imports
    for heavy in ("django", "celery", "bs4", "pydantic", "pypi_simple", "readiness", "django.contrib.admin"):
        assert heavy not in imported


def test_an_html_index_still_parses(tmp_path, repo, make_fixture_index):
    index = make_fixture_index(mode="html")
    result = _run(_env(tmp_path, index.url), str(repo), "--format", "json", python_flags=("-X", "importtime"))
    assert result.returncode == 0, result.stderr
    assert "bs4" in _imported(result.stderr)  # loaded only because the index answered HTML
    statuses = {p["name"]: p["results"]["linux/arm64"]["status"] for p in json.loads(result.stdout)["packages"]}
    assert statuses == {"psutil": "sdist", "filprofiler": "none", "six": "wheel"}


@pytest.mark.parametrize("fail_on", ["none", "sdist"])
def test_manage_py_and_python_m_scanners_print_the_same_bytes(tmp_path, repo, fixture_index, fail_on):
    old = _run(
        _env(tmp_path / "a", fixture_index.url), str(repo), "--format", "json", "--fail-on", fail_on, entry="manage.py"
    )
    new = _run(_env(tmp_path / "b", fixture_index.url), str(repo), "--format", "json", "--fail-on", fail_on)
    assert old.returncode == new.returncode == 1
    assert old.stdout == new.stdout
    assert json.loads(new.stdout)["schema"] == "archcheck/1"
    table_old = _run(_env(tmp_path / "a", fixture_index.url), str(repo), entry="manage.py")
    table_new = _run(_env(tmp_path / "b", fixture_index.url), str(repo))
    assert table_old.stdout == table_new.stdout and b"psutil" in table_new.stdout


def test_bad_input_is_exit_2_with_a_reason(tmp_path, fixture_index):
    result = _run(_env(tmp_path, fixture_index.url), str(tmp_path / "missing"))
    assert result.returncode == 2
    assert b"no such file or directory" in result.stderr
    bad = _run(_env(tmp_path, fixture_index.url, READINESS_INDEX_CACHE_SECONDS="soon"), str(tmp_path))
    assert bad.returncode == 2
    assert b"READINESS_INDEX_CACHE_SECONDS='soon' is not an integer" in bad.stderr
