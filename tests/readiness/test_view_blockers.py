"""The blockers page (grouped by package, ranked, with fixes) and the upstream list."""

from __future__ import annotations

import pytest

from readiness.models import Repo, Scan, ScanFinding, Verdict
from readiness.queries.blockers import finding_fix
from readiness.services.upstream import upstream_refresh
from scanners.project_metadata import ProjectMetadata
from tests.readiness.factories import seed_org, viewer_client  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def _musl_repo(name: str, package: str, *, fix: str = "") -> Repo:
    repo = Repo.objects.create(name=name, url=f"/srv/git/{name}")
    scan = Scan.objects.create(
        repo=repo,
        state=Scan.State.DONE,
        summary={},
        targets=[
            {"id": "linux/arm64", "platform": "linux/arm64", "python": "3.12", "libc": "musl", "libc_version": "1.2"}
        ],
    )
    Repo.objects.filter(pk=repo.pk).update(latest_scan=scan)
    Verdict.objects.create(
        scan=scan, package=package, version="1.0", target="linux/arm64", status="none", fix_version=fix
    )
    ScanFinding.objects.create(
        scan=scan, path="docker/Dockerfile", line=7, rule="no-compiler-for-sdist", severity="blocker", message="add gcc"
    )
    return repo


def test_empty_database(viewer_client):
    response = viewer_client.get("/blockers/")
    assert response.status_code == 200
    assert b"Nothing blocks the organisation" in response.content


def test_blockers_grouped_ranked_with_fixes(viewer_client):
    seed_org(repos=12)
    _musl_repo("alpine-svc", "orjson")
    page = viewer_client.get("/blockers/").context["page"]
    assert [(p.package, p.repos) for p in page.packages] == [("grpcio", 6), ("filprofiler", 4), ("orjson", 1)]
    grpcio, filprofiler, orjson = page.packages
    assert [(g.version, g.target, g.repos, g.fix_kind, g.fix) for g in grpcio.groups] == [
        ("1.30.0", "linux/arm64", 6, "upgrade", "upgrade to 1.60.0")
    ]
    assert filprofiler.fix == "ask upstream for a wheel for linux/arm64"
    assert orjson.groups[0].fix_kind == "base-image"
    assert [(f.rule, f.repos, f.fix_kind) for f in page.findings] == [
        ("platform-pinned", 3, "base-image"),
        ("no-compiler-for-sdist", 1, "compiler"),
    ]
    assert page.findings[0].repo_names == ("svc-0000", "svc-0004", "svc-0008")


def test_unchanged_scans_count_through_results_from(viewer_client):
    seed_org(repos=4, weeks=2)  # odd repos' latest scans point at the scan before
    page = viewer_client.get("/blockers/").context["page"]
    assert {p.package: p.repos for p in page.packages} == {"grpcio": 2, "filprofiler": 2}


def test_team_filter_and_page_links(viewer_client):
    seed_org(repos=12, teams=2)
    response = viewer_client.get("/blockers/?team=team-1")
    assert [(p.package, p.repos) for p in response.context["page"].packages] == [("filprofiler", 2)]
    assert 'href="/packages/filprofiler/?team=team-1"' in response.content.decode()


def test_disabled_repos_do_not_count(viewer_client):
    seed_org(repos=4)
    Repo.objects.filter(name="svc-0000").update(enabled=False)
    page = viewer_client.get("/blockers/").context["page"]
    assert {p.package: p.repos for p in page.packages} == {"grpcio": 1, "filprofiler": 1}  # svc-0002, svc-0003


@pytest.mark.parametrize(
    ("rule", "kind"),
    [
        ("platform-pinned", "base-image"),
        ("no-compiler-for-sdist", "compiler"),
        ("macos-only-package", "marker"),
        ("new-rule", "see-finding"),
    ],
)
def test_finding_fix(rule, kind):
    assert finding_fix(rule)[0] == kind


def _no_metadata(name):
    return ProjectMetadata(name, error="not asked in this test")


def test_upstream_lists_none_without_fix(viewer_client):
    seed_org(repos=6)
    _musl_repo("alpine-svc", "orjson", fix="3.9.0")
    upstream_refresh(fetch_metadata=_no_metadata)
    response = viewer_client.get("/upstream/")
    assert [(s.package, s.versions, s.targets, s.repos_blocked) for s in response.context["page"].suggestions] == [
        ("filprofiler", ["2022.5.0"], ["linux/arm64"], 2)
    ]
    assert viewer_client.get("/upstream/?team=team-1").context["page"].suggestions == ()


def test_upstream_empty(viewer_client):
    assert b"Nothing to ask upstream" in viewer_client.get("/upstream/").content


@pytest.mark.parametrize("repos", [1, 50])
def test_query_count_does_not_grow_with_repos(viewer_client, django_assert_num_queries, repos):
    seed_org(repos=repos, packages=20)
    upstream_refresh(fetch_metadata=_no_metadata)
    # session, user, team list, ranked packages, their groups, their chains, Dockerfile blocker findings
    with django_assert_num_queries(7):
        assert viewer_client.get("/blockers/").status_code == 200
    # session, user, team list, the upstream suggestions, the user's permissions (own and
    # groups': may they mark a suggestion?)
    with django_assert_num_queries(6):
        assert viewer_client.get("/upstream/").status_code == 200


def test_a_relock_is_the_first_fix(viewer_client):
    """A pip-lock pylock.toml for one machine: nothing installs on arm64 from it, but re-locking the
    same version picks up the index's aarch64 wheel. That beats the upgrade the row also has."""
    repo = Repo.objects.create(name="one-machine", url="/srv/git/one-machine")
    scan = Scan.objects.create(repo=repo, state=Scan.State.DONE, summary={}, targets=[])
    Repo.objects.filter(pk=repo.pk).update(latest_scan=scan)
    wheel = "charset_normalizer-3.5.2-cp311-cp311-manylinux2014_aarch64.whl"
    Verdict.objects.create(
        scan=scan,
        package="charset-normalizer",
        version="3.5.2",
        target="linux/arm64",
        status="none",
        fix_version="3.6.0",
        relock_file=wheel,
    )
    page = viewer_client.get("/blockers/").context["page"]
    (blocker,) = page.packages
    (group,) = blocker.groups
    assert (group.fix_kind, group.relock_file) == ("relock", wheel)
    assert blocker.fix == f"re-lock: 3.5.2 has a wheel for linux/arm64 now ({wheel})"
    assert blocker.fix in viewer_client.get("/blockers/").content.decode()
