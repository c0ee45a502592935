"""Upstream suggestions from real scans of real git repos against a real local index:
deduplicated across repos, metadata fetched once, filed/dismissed surviving rescans, and resolved
(with the repos showing the upgrade) when a later release ships the wheels."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.utils import timezone

from readiness.celery import app as celery_app
from readiness.models import ProjectMetadata, UpstreamRefreshPending, UpstreamSuggestion, Verdict
from readiness.services import upstream as upstream_module
from readiness.services.advisory_locks import held_if_free
from readiness.services.enqueue import REFRESH_UPSTREAM_PENDING
from readiness.services.scans import scan_request
from readiness.services.upstream import (
    REFRESH_OVERDUE_SECONDS,
    MarkError,
    upstream_mark,
    upstream_refresh,
    upstream_refresh_later,
    upstream_refresh_pending,
)
from tests.readiness.factories import make_user
from tests.readiness.scan_support import repo_row
from tests.scanners.git_helpers import commit_files, make_repo

pytestmark = pytest.mark.django_db(transaction=True)

NEVER_ARM = [
    {
        "filename": f"never_arm-{v}-cp312-cp312-manylinux_2_17_x86_64.whl",
        "x-metadata": ["Project-URL: Bug Tracker, https://github.com/example-org/never-arm/issues"],
    }
    for v in ("1.0", "1.5")
]
SLOW_ARM = [{"filename": "slow_arm-1.0-cp312-cp312-manylinux_2_17_x86_64.whl"}]
SLOW_ARM_FIXED = SLOW_ARM + [
    {"filename": "slow_arm-1.1-cp312-cp312-manylinux_2_17_x86_64.whl"},
    {"filename": "slow_arm-1.1-cp312-cp312-manylinux_2_17_aarch64.whl"},
]
SLIM = "FROM python:3.12-slim\nRUN pip install -r requirements.txt\n"


@pytest.fixture
def index(scan_index, settings):
    settings.READINESS_INDEX_CACHE_SECONDS = 0  # every scan revalidates pages: a new release shows at once
    scan_index.add_project("never-arm", NEVER_ARM)
    scan_index.add_project("slow-arm", SLOW_ARM)
    return scan_index


def _repo(tmp_path, name, requirements):
    path = make_repo(tmp_path, {"requirements.txt": requirements, "Dockerfile": SLIM}, name=name)
    return path, repo_row(name, path)


def _scan(repo):
    scan = scan_request(repo=repo, trigger="manual")
    scan.refresh_from_db()
    assert scan.state == "done", scan.error
    return scan


def test_one_suggestion_per_package_across_repos_with_tracker_link(tmp_path, index):
    repos = [_repo(tmp_path, f"svc-{i}", "never-arm==1.0\n")[1] for i in range(3)]
    for repo in repos:
        _scan(repo)
    (s,) = UpstreamSuggestion.objects.all()
    assert (s.package, s.platform_tags, s.status, s.repos_blocked) == ("never-arm", "manylinux_2_17_aarch64", "open", 3)
    assert s.targets == ["linux/arm64"] and s.pythons == ["3.12"] and s.versions == ["1.0"]
    assert s.tracker_url == "https://github.com/example-org/never-arm"
    query = parse_qs(urlsplit(s.new_issue_url).query)
    assert s.new_issue_url.startswith("https://github.com/example-org/never-arm/issues/new?")
    assert query["title"] == [s.title] and query["body"] == [s.body]
    assert "blocks 3 of our services" in s.body and "`manylinux_2_17_aarch64`" in s.body
    assert not any(repo.name in s.body or repo.name in s.title for repo in repos)  # never internal names
    assert s.search_url.startswith("https://github.com/example-org/never-arm/issues?q=")
    # Each file's metadata was read once, for all three scans: the locked wheel's (does pip accept
    # it?) through the database cache, the newest release's for the project's URLs.
    metadata_requests = [r for r in index.requests if r.path.endswith(".metadata")]
    assert sorted(r.path for r in metadata_requests) == [
        "/files/never_arm-1.0-cp312-cp312-manylinux_2_17_x86_64.whl.metadata",
        "/files/never_arm-1.5-cp312-cp312-manylinux_2_17_x86_64.whl.metadata",
    ]
    assert ProjectMetadata.objects.get(package="never-arm").project_urls == [
        ["Bug Tracker", "https://github.com/example-org/never-arm/issues"]
    ]


@pytest.mark.parametrize(
    ("status", "url"), [("filed", "https://github.com/example-org/never-arm/issues/12"), ("dismissed", "")]
)
def test_marks_survive_rescans(tmp_path, index, status, url):
    path, repo = _repo(tmp_path, "svc", "never-arm==1.0\n")
    _scan(repo)
    suggestion = UpstreamSuggestion.objects.get()
    user = make_user("engineer")
    upstream_mark(suggestion_id=suggestion.pk, status=status, user=user, upstream_url=url)
    commit_files(path, {"requirements.txt": "never-arm==1.0\n# touched\n"})  # a new commit: analysed again
    _scan(repo)
    other = _repo(tmp_path, "svc-2", "never-arm==1.5\n")[1]
    _scan(other)
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.upstream_url, suggestion.status_changed_by) == (status, url, user)
    assert suggestion.repos_blocked == 2 and suggestion.versions == ["1.0", "1.5"]
    assert UpstreamSuggestion.objects.count() == 1


def test_resolved_when_a_release_ships_the_wheels(tmp_path, index):
    path, repo = _repo(tmp_path, "svc", "slow-arm==1.0\n")
    _scan(repo)
    suggestion = UpstreamSuggestion.objects.get(package="slow-arm")
    upstream_mark(
        suggestion_id=suggestion.pk, status="filed", user=None, upstream_url="https://gitlab.com/g/slow-arm/-/issues/3"
    )
    index.add_project("slow-arm", SLOW_ARM_FIXED)
    commit_files(path, {"requirements.txt": "slow-arm==1.0\n\n"})
    scan = _scan(repo)
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.repos_blocked) == ("resolved", 0)
    assert suggestion.upstream_url == "https://gitlab.com/g/slow-arm/-/issues/3"  # the history stays
    # The repo now shows the upgrade.
    assert (
        Verdict.objects.get(scan_id=scan.result_scan_id, package="slow-arm", target="linux/arm64").fix_version == "1.1"
    )


def test_a_package_no_repo_locks_any_more_is_resolved_by_the_next_scan(tmp_path, index):
    path, repo = _repo(tmp_path, "svc", "never-arm==1.0\n")
    _scan(repo)
    commit_files(path, {"requirements.txt": "six==1.16.0\n"})
    _scan(repo)
    # The scan refreshes the packages it saw and those its previous answer was blocked on: never-arm
    # is gone at once.
    assert UpstreamSuggestion.objects.get().status == "resolved"
    assert upstream_refresh().resolved == 0  # the daily full refresh finds nothing left to do


def test_scans_finishing_before_a_refresh_are_refreshed_together_by_it(tmp_path, index):
    # A refresh queued by an earlier scan has not run yet (a worker is busy with the next scans):
    # never-arm is pending. The scans below find it pending and queue no refresh of their own.
    UpstreamRefreshPending.objects.create(package="never-arm")
    for i in range(3):
        _scan(_repo(tmp_path, f"svc-{i}", "never-arm==1.0\n")[1])
    assert list(UpstreamRefreshPending.objects.values_list("package", flat=True)) == ["never-arm"]
    assert not UpstreamSuggestion.objects.exists()

    result = upstream_refresh_pending()  # the queued refresh, at last: all three scans at once
    assert (result.created, UpstreamSuggestion.objects.get().repos_blocked) == (1, 3)
    assert not UpstreamRefreshPending.objects.exists()
    again = upstream_refresh_pending()  # the refreshes queued behind it find nothing to do
    assert (again.created, again.updated, again.resolved) == (0, 0, 0)

    # A package not pending is marked and refreshed at once (in process, the queued task runs now).
    _scan(_repo(tmp_path, "svc-3", "slow-arm==1.0\n")[1])
    assert UpstreamSuggestion.objects.get(package="slow-arm").repos_blocked == 1
    assert upstream_refresh_later(packages=["slow-arm"]) == 1 and not UpstreamRefreshPending.objects.exists()


def test_a_refresh_queued_behind_a_running_one_leaves_the_work_to_it(tmp_path, index):
    if connection.vendor != "postgresql":
        pytest.skip("one refresher at a time is an advisory lock: PostgreSQL")
    for i in range(2):
        _scan(_repo(tmp_path, f"svc-{i}", "never-arm==1.0\n")[1])
    UpstreamSuggestion.objects.all().delete()
    UpstreamRefreshPending.objects.create(package="never-arm")
    holding, release = threading.Event(), threading.Event()

    def running_refresh() -> None:  # another worker, in the middle of a refresh
        try:
            with held_if_free("upstream-refresh") as mine:
                assert mine
                holding.set()
                release.wait(30)
        finally:
            connection.close()

    other = threading.Thread(target=running_refresh)
    other.start()
    assert holding.wait(30)
    metadata_before = len([r for r in index.requests if r.path.endswith(".metadata")])
    queued_behind = upstream_refresh_pending()  # returns at once: the holder takes what is pending
    release.set()
    other.join()
    assert (queued_behind.created, queued_behind.updated) == (0, 0)
    assert len([r for r in index.requests if r.path.endswith(".metadata")]) == metadata_before
    assert list(UpstreamRefreshPending.objects.values_list("package", flat=True)) == ["never-arm"]
    assert upstream_refresh_pending().created == 1 and not UpstreamRefreshPending.objects.exists()


def test_a_refresh_that_fails_leaves_its_packages_pending(tmp_path, index):
    for i in range(2):
        _scan(_repo(tmp_path, f"svc-{i}", "never-arm==1.0\n")[1])
    UpstreamSuggestion.objects.all().delete()
    ProjectMetadata.objects.all().delete()
    UpstreamRefreshPending.objects.create(package="never-arm")

    def index_down(name):
        raise ConnectionError("index unreachable")

    with pytest.raises(ConnectionError):
        upstream_refresh_pending(fetch_metadata=index_down)
    assert list(UpstreamRefreshPending.objects.values_list("package", flat=True)) == ["never-arm"]
    assert not UpstreamSuggestion.objects.exists()
    upstream_refresh_pending()  # the index is back
    assert UpstreamSuggestion.objects.get().repos_blocked == 2 and not UpstreamRefreshPending.objects.exists()


def test_a_refresh_that_changes_nothing_writes_nothing(tmp_path, index):
    repos = [_repo(tmp_path, f"svc-{i}", "never-arm==1.0\n")[1] for i in range(2)]
    for repo in repos:
        _scan(repo)
    before = UpstreamSuggestion.objects.get()
    assert upstream_refresh(packages=["never-arm"]).updated == 0
    after = UpstreamSuggestion.objects.get()
    assert (after.updated_at, after.repos_blocked) == (before.updated_at, 2)


@pytest.mark.parametrize(
    ("status", "url", "error"), [("resolved", "", "status must be"), ("filed", "javascript:alert(1)", "https://")]
)
def test_bad_marks_are_refused(tmp_path, index, status, url, error):
    _scan(_repo(tmp_path, "svc", "never-arm==1.0\n")[1])
    suggestion = UpstreamSuggestion.objects.get()
    with pytest.raises(MarkError, match=error):
        upstream_mark(suggestion_id=suggestion.pk, status=status, user=None, upstream_url=url)
    suggestion.refresh_from_db()
    assert suggestion.status == "open"


PARENT = [
    {"filename": "parent_pkg-1.0-py3-none-any.whl", "x-metadata": ["Requires-Dist: c-lib>=1.0"]},
    {"filename": "parent_pkg-2.0-py3-none-any.whl", "x-metadata": []},  # no longer needs c-lib
]
C_LIB = [{"filename": "c_lib-1.0-cp312-cp312-manylinux_2_17_x86_64.whl"}]
SRC_ONLY = [{"filename": "srconly-1.0.tar.gz"}]
GONE = [{"filename": "gone_pkg-1.0-cp312-cp312-manylinux_2_17_x86_64.whl"}]
RULES_REQUIREMENTS = (
    "parent-pkg==1.0\n    # via -r requirements.in\nc-lib==1.0\n    # via parent-pkg\n"
    "psycopg2==2.9.9\n    # via -r requirements.in\nsrconly==1.0\n    # via -r requirements.in\n"
    "gone-pkg==1.0\n    # via -r requirements.in\n"
)


def test_only_packages_nothing_else_fixes_are_drafted(tmp_path, index):
    """A replaceable package (psycopg2), one a parent upgrade removes (c-lib), an sdist-only one
    with no wheel anywhere (srconly) and one no current scan locks any more (gone-pkg): only
    srconly is asked upstream, by the dashboard and by archcheck alike."""
    import httpx

    from scanners.check import TargetDefaults, check_snapshot, is_relevant_path
    from scanners.git import fetch_snapshot
    from scanners.index import IndexClient
    from scanners.project_metadata import metadata_reader

    for name, files in (("parent-pkg", PARENT), ("c-lib", C_LIB), ("srconly", SRC_ONLY), ("gone-pkg", GONE)):
        index.add_project(name, files)
    path, repo = _repo(tmp_path, "svc", RULES_REQUIREMENTS)
    _scan(repo)
    assert {s.package for s in UpstreamSuggestion.objects.filter(status="open")} == {"srconly", "gone-pkg"}
    commit_files(
        path, {"requirements.txt": RULES_REQUIREMENTS.replace("gone-pkg==1.0\n    # via -r requirements.in\n", "")}
    )
    _scan(repo)
    assert {s.package for s in UpstreamSuggestion.objects.filter(status="open")} == {"srconly"}
    assert UpstreamSuggestion.objects.get(package="gone-pkg").status == "resolved"
    srconly = UpstreamSuggestion.objects.get(package="srconly")
    assert srconly.targets == ["linux/amd64", "linux/arm64"]  # an sdist everywhere: every build needs a compiler

    snapshot = fetch_snapshot(str(path), wanted=is_relevant_path, cache_dir=tmp_path / "git")
    with IndexClient(index.url) as client, httpx.Client() as http:
        report = check_snapshot(
            snapshot,
            index=client,
            read_metadata=metadata_reader(http),
            defaults=TargetDefaults(python="3.12", libc="glibc:2.36"),
        )
    kinds = {r.package.name: [a.kind for a in r.advice] for r in report.packages}
    assert "upstream" in kinds["srconly"]
    assert "replace" in kinds["psycopg2"] and "upstream" not in kinds["psycopg2"]
    assert kinds["c-lib"][0] == "upgrade-parent" and "upstream" not in kinds["c-lib"]


@pytest.fixture
def with_broker(eager_tasks):
    """Tasks go to a broker (none listens in these tests): what a worker's scan sees."""
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = True


@contextlib.contextmanager
def _refreshes_sent():
    """The countdown of each refresh sent to the broker meanwhile (the broker itself is not reached)."""
    sent: list[float | None] = []
    task = celery_app.tasks[REFRESH_UPSTREAM_PENDING]
    with mock.patch.object(task, "apply_async", side_effect=lambda *a, countdown=None, **k: sent.append(countdown)):
        yield sent


def test_with_a_broker_one_delayed_refresh_serves_every_scan_that_finishes_before_it(db, settings, with_broker):
    settings.READINESS_UPSTREAM_REFRESH_DELAY = 7
    with _refreshes_sent() as first:
        assert upstream_refresh_later(packages=["never-arm"]) == 1
    assert first == [7]  # the first mark queues a refresh 7 s later

    # Scans finishing before it runs mark other packages and queue nothing: it takes them all.
    with _refreshes_sent() as later:
        assert upstream_refresh_later(packages=["slow-arm"]) == 1
        assert upstream_refresh_later(packages=["grpcio-ish", "never-arm"]) == 1
    assert later == []
    assert set(UpstreamRefreshPending.objects.values_list("package", flat=True)) == {
        "never-arm",
        "slow-arm",
        "grpcio-ish",
    }

    # Pending for longer than any queued refresh waits: that refresh was lost, so a scan queues one.
    overdue = timezone.now() - dt.timedelta(seconds=7 + REFRESH_OVERDUE_SECONDS + 1)
    UpstreamRefreshPending.objects.filter(package="never-arm").update(requested_at=overdue)
    with _refreshes_sent() as lost:
        assert upstream_refresh_later(packages=["other-pkg"]) == 1
    assert lost == [7]


def test_with_a_broker_a_refresh_leaves_what_is_marked_meanwhile_to_a_delayed_one(tmp_path, index, settings):
    settings.READINESS_UPSTREAM_REFRESH_DELAY = 7
    for i in range(2):
        _scan(_repo(tmp_path, f"svc-{i}", "never-arm==1.0\n")[1])
    UpstreamSuggestion.objects.all().delete()
    UpstreamRefreshPending.objects.create(package="never-arm")
    original = upstream_module._refresh

    def refresh_while_a_scan_finishes(taken, fetch_metadata):
        result = original(taken, fetch_metadata)
        if not UpstreamRefreshPending.objects.exists():  # a scan marks slow-arm during the refresh
            UpstreamRefreshPending.objects.create(package="slow-arm")
        return result

    celery_app.conf.task_always_eager = False
    try:
        with mock.patch.object(upstream_module, "_refresh", refresh_while_a_scan_finishes), _refreshes_sent() as sent:
            result = upstream_refresh_pending()
    finally:
        celery_app.conf.task_always_eager = True
    # One pass (never-arm), not back to back: slow-arm waits for the refresh queued 7 s later.
    assert (result.created, UpstreamSuggestion.objects.get().package) == (1, "never-arm")
    assert list(UpstreamRefreshPending.objects.values_list("package", flat=True)) == ["slow-arm"]
    assert sent == [7]


def test_metadata_for_many_packages_is_fetched_concurrently_once_each_and_kept_per_package(
    tmp_path, index, monkeypatch
):
    # Chunks of 3: the cached pages are loaded a chunk at a time, and every chunk's answers must
    # land on their own packages whatever order the threads finish in.
    monkeypatch.setattr(upstream_module, "_METADATA_CHUNK", 3)
    names = [f"proj-{i}" for i in range(8)]
    for name in names:
        index.add_project(
            name,
            [
                {
                    "filename": f"{name.replace('-', '_')}-1.0-py3-none-any.whl",
                    "x-metadata": [f"Project-URL: Source, https://git.example.test/{name}"],
                }
            ],
        )
    # A version longer than its column is cut, not a failed statement for every package.
    long_version = "1.0+" + "x" * 120
    index.add_project(
        "long-version",
        [
            {
                "filename": f"long_version-{long_version}-py3-none-any.whl",
                "x-metadata": ["Project-URL: Source, https://git.example.test/long-version"],
            }
        ],
    )
    # Half the pages are in the shared index cache (a scan read them), half are not.
    path, repo = _repo(tmp_path, "svc", "".join(f"{n}==1.0\n" for n in names[:4]))
    _scan(repo)
    ProjectMetadata.objects.all().delete()
    before = len(index.requests)

    rows = upstream_module.project_metadata_for([*names, "not-on-the-index", "long-version"])

    asked = [r.path for r in index.requests[before:]]
    assert sorted(p for p in asked if p.endswith(".metadata")) == sorted(
        [
            *(f"/files/{n.replace('-', '_')}-1.0-py3-none-any.whl.metadata" for n in names),
            f"/files/long_version-{long_version}-py3-none-any.whl.metadata",
        ]
    )
    # Pages only for the packages the cache did not hold (and the unknown one, answered 404).
    assert sorted(p for p in asked if not p.endswith(".metadata")) == sorted(
        f"/simple/{n}/" for n in [*names[4:], "not-on-the-index", "long-version"]
    )
    for name in names:
        assert rows[name].project_urls == [["Source", f"https://git.example.test/{name}"]]
        assert ProjectMetadata.objects.get(package=name).project_urls == rows[name].project_urls
    assert "HTTP 404" in ProjectMetadata.objects.get(package="not-on-the-index").error
    cut = ProjectMetadata.objects.get(package="long-version")
    assert cut.version == long_version[:100] and cut.project_urls == [
        ["Source", "https://git.example.test/long-version"]
    ]
    # Within the cache period nothing is asked again, failures included.
    again = len(index.requests)
    upstream_module.project_metadata_for([*names, "not-on-the-index", "long-version"])
    assert len(index.requests) == again
