"""Why is this package here: chains from real lockfiles' graphs, and through the whole check."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scanners.chains import lockfile_graph, manifest_direct_names
from scanners.check import check_snapshot, is_relevant_path
from scanners.git import fetch_snapshot
from scanners.lockfiles import parse_lockfile
from scanners.report import report_to_json
from tests.scanners.git_helpers import file_url, make_repo

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lockfiles"
CELERY_TO_WCWIDTH = ("celery", "click-repl", "prompt-toolkit")

WEB_PIPFILE = """\
[[source]]
url = "https://index.test/simple"
verify_ssl = true
name = "index"

[packages]
django = "*"
psycopg2 = "*"
celery = {extras = ["redis"], version = "*"}
requests = "*"

[dev-packages]
pytest = "*"
"""


def graph_of(fixture: str, name: str, **kwargs):
    parsed = parse_lockfile(name, (FIXTURES / fixture).read_text())
    return parsed, lockfile_graph(parsed.packages, **kwargs)


@pytest.mark.parametrize(
    ("fixture", "name"),
    [
        ("uv/web-uv.lock", "uv.lock"),
        ("poetry/web-poetry2.lock", "poetry.lock"),
        ("poetry/web-poetry18.lock", "poetry.lock"),
        ("pdm/web-pdm.lock", "pdm.lock"),
        ("requirements/web-pip-compile-requirements.txt", "requirements.txt"),  # from "# via" comments
    ],
)
def test_three_levels_deep(fixture, name):
    _, graph = graph_of(fixture, name)
    assert graph.chains("wcwidth")[0] == CELERY_TO_WCWIDTH
    assert graph.chains("celery") == []  # direct
    assert graph.is_direct("click-repl") is False


def test_all_chains_shortest_first():
    _, graph = graph_of("uv/web-uv.lock", "uv.lock")
    chains = graph.chains("async-timeout")
    assert chains[0] == ("celery", "kombu", "redis")
    assert [len(c) for c in chains] == sorted(len(c) for c in chains)
    assert graph.chains("async-timeout", limit=1) == chains[:1]


def test_pipfile_lock_with_and_without_its_pipfile():
    parsed, without = graph_of("pipfile/web-Pipfile.lock", "Pipfile.lock")
    assert without.is_direct("celery") is None  # Pipfile.lock alone cannot tell
    assert without.chains("kombu") is None
    direct = manifest_direct_names("Pipfile", WEB_PIPFILE)
    assert direct == {"django", "psycopg2", "celery", "requests", "pytest"}
    with_pipfile = lockfile_graph(parsed.packages, direct_names=direct)
    assert with_pipfile.is_direct("celery") is True
    assert with_pipfile.is_direct("kombu") is False
    assert with_pipfile.chains("celery") == []
    assert with_pipfile.chains("kombu") is None  # no edges in a Pipfile.lock: direct or not is all we know


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[project]\ndependencies = ["Django>=5", "psycopg[binary]==3.3"]\n', {"django", "psycopg"}),
        ('[dependency-groups]\ndev = ["pytest"]\n[project]\nname = "x"\n', {"pytest"}),
        (
            '[tool.poetry.dependencies]\npython = "^3.11"\nRequests = "*"\n[tool.poetry.group.dev.dependencies]\nruff = "*"\n',
            {"requests", "ruff"},
        ),
        ("not toml [", None),
        ('[project]\nname = "nothing"\n', None),
    ],
)
def test_manifest_direct_names(text, expected):
    assert manifest_direct_names("pyproject.toml", text) == expected


def _without_arm64_wheels(lock: str, package: str) -> str:
    """The uv.lock with ``package`` shipping no aarch64 wheel and no sdist: a blocker on arm64."""
    head, sep, rest = lock.partition(f'[[package]]\nname = "{package}"\n')
    block, nxt, tail = rest.partition("\n[[package]]")
    block = re.sub(r"^sdist = .*\n", "", block, flags=re.M)
    block = "\n".join(
        line
        for line in block.splitlines()
        if "aarch64" not in line and "universal2" not in line and "arm64" not in line and "none-any" not in line
    )
    return head + sep + block + nxt + tail


def test_blocker_shows_its_chain_through_the_check(tmp_path, fixture_index):
    lock = _without_arm64_wheels((FIXTURES / "uv/web-uv.lock").read_text(), "wcwidth")
    repo = make_repo(tmp_path, {"uv.lock": lock})
    snapshot = fetch_snapshot(file_url(repo), wanted=is_relevant_path, cache_dir=tmp_path / "cache")
    report = check_snapshot(snapshot, index=None, python="3.12", libc="glibc:2.36")
    (wcwidth,) = [r for r in report.packages if r.package.name == "wcwidth"]
    assert wcwidth.verdicts["linux/arm64"].status == "none"
    assert wcwidth.via[0] == CELERY_TO_WCWIDTH
    assert wcwidth.direct is False
    doc = report_to_json(report)
    (entry,) = [p for p in doc["packages"] if p["name"] == "wcwidth"]
    assert entry["via"][0] == list(CELERY_TO_WCWIDTH)
    (celery,) = [p for p in doc["packages"] if p["name"] == "celery"]
    assert (celery["direct"], celery["via"]) == (True, [])


def test_poetry_lock_borrows_direct_from_pyproject(tmp_path):
    pyproject = '[tool.poetry.dependencies]\npython = "^3.11"\ndjango = "*"\ncelery = "*"\n'
    repo = make_repo(
        tmp_path,
        {
            "svc/poetry.lock": (FIXTURES / "poetry/web-poetry2.lock").read_text(),
            "svc/pyproject.toml": pyproject,
        },
    )
    snapshot = fetch_snapshot(file_url(repo), wanted=is_relevant_path, cache_dir=tmp_path / "cache")
    report = check_snapshot(snapshot, index=None)
    by_name = {r.package.name: r for r in report.packages}
    assert by_name["django"].direct is True
    assert by_name["requests"].direct is False  # locked, but not asked for by this pyproject
    assert by_name["wcwidth"].via[0] == CELERY_TO_WCWIDTH
    assert "svc/pyproject.toml" not in {f.path for f in report.files if f.error}


def test_advice_names_the_parent_upgrade_that_drops_the_blocker(tmp_path, make_fixture_index):
    """ "upgrade appframework to 2.0, which no longer needs oldnative": read from 2.0's metadata."""
    import httpx

    from scanners.index import IndexClient
    from scanners.project_metadata import metadata_reader

    index = make_fixture_index()
    index.add_project(
        "appframework",
        [
            {"filename": "appframework-1.0-py3-none-any.whl", "x-metadata": ["Requires-Dist: oldnative>=1"]},
            {"filename": "appframework-1.5-py3-none-any.whl", "x-metadata": ["Requires-Dist: OldNative>=1"]},
            {
                "filename": "appframework-2.0-py3-none-any.whl",
                "x-metadata": ['Requires-Dist: oldnative; extra == "legacy"'],
            },
        ],
    )
    index.add_project("oldnative", [{"filename": "oldnative-1.0-cp312-cp312-manylinux_2_17_x86_64.whl"}])
    requirements = "appframework==1.0\n    # via -r requirements.in\noldnative==1.0\n    # via appframework\n"
    repo = make_repo(tmp_path, {"requirements.txt": requirements})
    snapshot = fetch_snapshot(file_url(repo), wanted=is_relevant_path, cache_dir=tmp_path / "cache")
    with IndexClient(index.url) as client, httpx.Client() as http:
        report = check_snapshot(
            snapshot, index=client, python="3.12", libc="glibc:2.36", read_metadata=metadata_reader(http)
        )
    (oldnative,) = [r for r in report.packages if r.package.name == "oldnative"]
    assert oldnative.verdicts["linux/arm64"].status == "none"
    assert oldnative.via == (("appframework",),)
    first = oldnative.advice[0]
    assert first.kind == "upgrade-parent"
    assert first.title == "upgrade appframework to 2.0, which no longer needs oldnative"  # 1.5 still needs it
    doc = report_to_json(report)
    (entry,) = [p for p in doc["packages"] if p["name"] == "oldnative"]
    assert entry["advice"][0]["kind"] == "upgrade-parent"
