"""Advice in order of preference (upgrade, build, replace, change image, upstream) and upstream drafts,
against a real local index."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from scanners.advice import advise, glibc_variant
from scanners.analyser import decide
from scanners.dockerfile import parse_dockerfile
from scanners.index import IndexClient
from scanners.project_metadata import fetch_project_metadata
from scanners.targets import Target
from scanners.upstream_issue import MAX_ISSUE_URL, Tracker, draft_upstream_issue, find_tracker, missing_platform_tags

AMD64 = Target.from_flags("linux/amd64", "3.12", "glibc:2.36")
ARM64 = Target.from_flags("linux/arm64", "3.12", "glibc:2.36")
ARM64_MUSL = Target.from_flags("linux/arm64", "3.12", "musl:1.2", id="linux/arm64")
AMD64_MUSL = Target.from_flags("linux/amd64", "3.12", "musl:1.2", id="linux/amd64")
SLIM = parse_dockerfile("Dockerfile", "FROM python:3.12-slim\nRUN pip install -r requirements.txt\n")
FULL = parse_dockerfile("Dockerfile", "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y gcc\n")
ALPINE = parse_dockerfile("Dockerfile", "FROM python:3.12-alpine3.20\n")

# Our own test projects, served by the local index (names that no recorded fixture uses).
PROJECTS = {
    # aarch64 wheels only from 2.0 on (1.1 still x86 only): an upgrade, and a major one.
    "late-arm": [
        "late_arm-1.0.tar.gz",
        "late_arm-1.0-cp312-cp312-manylinux_2_17_x86_64.whl",
        "late_arm-1.1-cp312-cp312-manylinux_2_17_x86_64.whl",
        "late_arm-2.0-cp312-cp312-manylinux_2_17_x86_64.whl",
        "late_arm-2.0-cp312-cp312-manylinux_2_17_aarch64.whl",
    ],
    # Same-series fix: 3.4 has aarch64.
    "minor-arm": [
        "minor_arm-3.2-cp312-cp312-manylinux_2_17_x86_64.whl",
        "minor_arm-3.4-cp312-cp312-manylinux_2_17_x86_64.whl",
        "minor_arm-3.4-cp312-cp312-manylinux_2_17_aarch64.whl",
    ],
    # Never ships aarch64 wheels, no sdist: ask upstream.
    "never-arm": [
        "never_arm-1.0-cp312-cp312-manylinux_2_17_x86_64.whl",
        "never_arm-1.5-cp312-cp312-manylinux_2_17_x86_64.whl",
    ],
    # manylinux for both arches but no musllinux: the image is the problem.
    "glibc-only": [
        "glibc_only-1.0-cp312-cp312-manylinux_2_17_x86_64.whl",
        "glibc_only-1.0-cp312-cp312-manylinux_2_17_aarch64.whl",
    ],
}
NEVER_ARM_META = [
    "Project-URL: Documentation, https://never-arm.readthedocs.io/",
    "Project-URL: Issues, https://github.com/example-org/never-arm/issues",
    "Home-page: https://never-arm.example.test/",
]


@pytest.fixture
def index(make_fixture_index):
    server = make_fixture_index()
    for name, files in PROJECTS.items():
        entries = [{"filename": f, **({"x-metadata": NEVER_ARM_META} if name == "never-arm" else {})} for f in files]
        server.add_project(name, entries)
    return server


def files_of(index, name):
    with IndexClient(index.url, retries=0) as client:
        result = client.fetch_project(name)
    assert result.status == "ok", result.error
    return result.files


def verdicts_for(project, version, targets):
    return {t.id: decide(project.release(version), t) for t in targets}


@pytest.mark.parametrize(
    ("name", "version", "targets", "image", "kinds"),
    [
        ("late-arm", "1.0", (AMD64, ARM64), SLIM, ["upgrade", "build-deps"]),
        ("late-arm", "1.0", (AMD64, ARM64), FULL, ["upgrade", "build"]),
        ("minor-arm", "3.2", (AMD64, ARM64), SLIM, ["upgrade"]),
        ("never-arm", "1.0", (AMD64, ARM64), SLIM, ["upstream"]),
        ("glibc-only", "1.0", (AMD64_MUSL, ARM64_MUSL), ALPINE, ["change-image", "upstream"]),
        ("glibc-only", "1.0", (AMD64, ARM64), SLIM, []),
    ],
)
def test_advice_kinds_in_order(index, name, version, targets, image, kinds):
    project = files_of(index, name)
    advice = advise(
        project,
        name=name,
        version=version,
        verdicts=verdicts_for(project, version, targets),
        targets=targets,
        image=image,
    )
    assert [a.kind for a in advice] == kinds


def test_upgrade_says_major_jump_and_that_no_same_series_release_does(index):
    project = files_of(index, "late-arm")
    (upgrade, *_rest) = advise(
        project,
        name="late-arm",
        version="1.0",
        verdicts=verdicts_for(project, "1.0", (AMD64, ARM64)),
        targets=(AMD64, ARM64),
        image=SLIM,
    )
    assert (upgrade.fix_version, upgrade.major_jump) == ("2.0", True)
    assert "no 1.x release has one" in upgrade.detail
    assert upgrade.title == "upgrade to 2.0 (major version)"


def test_upgrade_in_the_same_series(index):
    project = files_of(index, "minor-arm")
    (upgrade,) = advise(
        project,
        name="minor-arm",
        version="3.2",
        verdicts=verdicts_for(project, "3.2", (AMD64, ARM64)),
        targets=(AMD64, ARM64),
    )
    assert (upgrade.fix_version, upgrade.major_jump, upgrade.title) == ("3.4", False, "upgrade to 3.4")
    assert "same 3.x series" in upgrade.detail


def test_upgrade_honours_the_repos_python(index):
    project = files_of(index, "late-arm")
    py311 = Target.from_flags("linux/arm64", "3.11", "glibc:2.36")
    advice = advise(
        project, name="late-arm", version="1.0", verdicts=verdicts_for(project, "1.0", (py311,)), targets=(py311,)
    )
    assert "upgrade" not in [a.kind for a in advice]  # 2.0's wheels are cp312 only


@pytest.mark.parametrize(
    ("image", "kind", "packages"),
    [
        (SLIM, "build-deps", ("build-essential", "python3-dev", "libpq-dev")),
        (FULL, "build", ()),
        (
            parse_dockerfile("Dockerfile", "FROM python:3.12-alpine\n"),
            "build-deps",
            ("build-base", "python3-dev", "libpq-dev"),
        ),
    ],
)
def test_sdist_only_psycopg2_needs_libpq_dev(fixture_index, image, kind, packages):
    """The recorded psycopg2 ships Windows wheels and an sdist only: on Linux pip builds it."""
    project = files_of(fixture_index, "psycopg2")
    target = ARM64 if image.libc == "glibc" else ARM64_MUSL
    verdicts = verdicts_for(project, "2.9.9", (target,))
    assert verdicts[target.id].status == "sdist"
    advice = advise(project, name="psycopg2", version="2.9.9", verdicts=verdicts, targets=(target,), image=image)
    build = next(a for a in advice if a.kind in ("build", "build-deps"))
    assert (build.kind, build.packages) == (kind, packages)
    if kind == "build-deps":
        assert "psycopg.org" in build.source and "libpq-dev" in build.detail
    replacements = [a.replacement for a in advice if a.kind == "replace"]
    assert replacements == ["psycopg2-binary", "psycopg[binary]"]


def test_tensorflow_macos_is_replaced_by_tensorflow(fixture_index):
    project = files_of(fixture_index, "tensorflow-macos")
    version = str(project.versions()[-1])
    advice = advise(
        project,
        name="tensorflow-macos",
        version=version,
        verdicts=verdicts_for(project, version, (AMD64,)),
        targets=(AMD64,),
    )
    assert [a.replacement for a in advice if a.kind == "replace"] == ["tensorflow"]


def test_change_image_names_the_glibc_variant(index):
    project = files_of(index, "glibc-only")
    advice = advise(
        project,
        name="glibc-only",
        version="1.0",
        verdicts=verdicts_for(project, "1.0", (ARM64_MUSL,)),
        targets=(ARM64_MUSL,),
        image=ALPINE,
    )
    assert advice[0].image == "python:3.12-slim"
    assert advice[0].title == "change the image to python:3.12-slim"
    assert advice[1].platform_tags == ("musllinux_1_2_aarch64",)


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("python:3.12-alpine", "python:3.12-slim"),
        ("python:3.12-alpine3.20", "python:3.12-slim"),
        ("python:alpine", "python:slim"),
        ("registry.test:5000/python:3.11.9-alpine3.19", "registry.test:5000/python:3.11.9-slim"),
        ("alpine:3.20", "debian:bookworm-slim"),
        ("python:3.12-slim", None),
        (None, None),
    ],
)
def test_glibc_variant(image, expected):
    assert glibc_variant(image) == expected


def test_missing_platform_tags():
    assert missing_platform_tags((ARM64, ARM64_MUSL, ARM64)) == ("manylinux_2_17_aarch64", "musllinux_1_2_aarch64")


@pytest.mark.parametrize(
    ("urls", "home", "expected"),
    [
        (
            [("Documentation", "https://docs.test/"), ("Bug Tracker", "https://github.com/o/r/issues")],
            None,
            Tracker("github", "https://github.com/o/r"),
        ),
        (
            [("Homepage", "https://github.com/home/page"), ("Source", "https://github.com/o/src.git")],
            None,
            Tracker("github", "https://github.com/o/src"),
        ),
        (
            [("issues", "https://gitlab.com/group/sub/proj/-/issues")],
            None,
            Tracker("gitlab", "https://gitlab.com/group/sub/proj"),
        ),
        (
            [("Docs", "https://docs.test/")],
            "https://www.github.com/legacy/home",
            Tracker("github", "https://github.com/legacy/home"),
        ),
        ([("Docs", "https://docs.test/")], "https://example.test/", None),
        ([], None, None),
    ],
)
def test_find_tracker(urls, home, expected):
    assert find_tracker(urls, home) == expected


def test_new_issue_url_is_encoded_and_capped():
    tracker = Tracker("github", "https://github.com/o/r")
    body = "ünïcode & ?=# " * 2000
    url = tracker.new_issue_url("Wheels for aarch64 & more", body)
    assert len(url) <= MAX_ISSUE_URL
    query = parse_qs(urlsplit(url).query)
    assert query["title"] == ["Wheels for aarch64 & more"]
    assert query["body"][0].endswith("(shortened: see the full draft on the dashboard)")
    assert urlsplit(url).path == "/o/r/issues/new"
    gitlab = Tracker("gitlab", "https://gitlab.com/g/p").new_issue_url("t", "b")
    assert gitlab == "https://gitlab.com/g/p/-/issues/new?issue%5Btitle%5D=t&issue%5Bdescription%5D=b"


def test_upstream_draft_from_the_projects_metadata(index):
    """never-arm: no release has an aarch64 wheel; its core metadata names its GitHub tracker."""
    with httpx.Client() as http:
        meta = fetch_project_metadata("never-arm", index_url=index.url, http=http)
    assert meta.error == ""
    assert meta.version == "1.5"
    draft = draft_upstream_issue(
        package="never-arm",
        platform_tags=("manylinux_2_17_aarch64", "musllinux_1_2_aarch64"),
        pythons=("3.12", "3.11"),
        repos_blocked=7,
        versions=("1.0",),
        project_urls=meta.project_urls,
        home_page=meta.home_page,
    )
    assert draft.tracker == Tracker("github", "https://github.com/example-org/never-arm")
    assert draft.new_issue_url.startswith("https://github.com/example-org/never-arm/issues/new?title=")
    query = parse_qs(urlsplit(draft.new_issue_url).query)
    assert query["title"] == [draft.title]
    assert query["body"] == [draft.body]
    for needle in (
        "`manylinux_2_17_aarch64`",
        "`musllinux_1_2_aarch64`",
        "CPython 3.11 (`cp311`), CPython 3.12 (`cp312`)",
        "blocks 7 of our services",
        "cibuildwheel",
        "QEMU",
    ):
        assert needle in draft.body
    assert draft.search_url == "https://github.com/example-org/never-arm/issues?q=is%3Aissue%20aarch64%20wheel"


def test_draft_without_tracker_has_no_links():
    draft = draft_upstream_issue(
        package="x", platform_tags=("manylinux_2_17_aarch64",), pythons=("3.12",), repos_blocked=1
    )
    assert (draft.tracker, draft.new_issue_url, draft.search_url) == (None, "", "")
    assert "aarch64" in draft.title
