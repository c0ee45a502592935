"""The package page: versions in use, verdicts per version and target, fix version, repos affected."""

from __future__ import annotations

import pytest

from readiness.models import Repo, Scan, Verdict
from tests.readiness.factories import seed_org, viewer_client  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def test_unknown_package_is_an_empty_state(viewer_client):
    response = viewer_client.get("/packages/nothing-here/")
    assert response.status_code == 200
    assert "No repository locks nothing-here" in response.content.decode()


def test_versions_verdicts_fix_and_repos(viewer_client):
    seed_org(repos=4)
    # a second version of grpcio, already fixed, in a repo of its own
    repo = Repo.objects.create(name="modern", url="/srv/git/modern")
    scan = Scan.objects.create(repo=repo, state=Scan.State.DONE, summary={})
    Repo.objects.filter(pk=repo.pk).update(latest_scan=scan)
    Verdict.objects.bulk_create(
        Verdict(scan=scan, package="grpcio", version="1.60.0", target=t, status="wheel")
        for t in ("linux/amd64", "linux/arm64")
    )
    response = viewer_client.get("/packages/GRPCIO/")  # names are normalised
    page = response.context["page"]
    assert page.name == "grpcio" and page.targets == ("linux/amd64", "linux/arm64")
    assert [v.version for v in page.versions] == ["1.30.0", "1.60.0"]
    old = page.versions[0]
    assert old.fix_version == "1.60.0"
    assert [[(c.status, c.repos) for c in t] for t in old.verdicts] == [[("wheel", 4)], [("none", 2), ("wheel", 2)]]
    assert [name for name, _ in old.repos] == ["svc-0000", "svc-0001", "svc-0002", "svc-0003"]
    assert page.repos == 5
    html = response.content.decode()
    assert "upgrade to <strong>1.60.0</strong>" in html and 'href="/repos/modern/"' in html
    assert "No upstream issue needed" in html


def test_package_without_fix_suggests_upstream(viewer_client):
    seed_org(repos=3)
    html = viewer_client.get("/packages/filprofiler/").content.decode()
    assert "none published yet — ask upstream" in html
    assert "The drafted upstream issue appears here after the next scan" in html


def test_team_filter(viewer_client):
    seed_org(repos=6, teams=2)
    page = viewer_client.get("/packages/grpcio/?team=team-1").context["page"]
    assert [name for name, team in page.versions[0].repos] == ["svc-0001", "svc-0003", "svc-0005"]


@pytest.mark.parametrize("repos", [1, 50])
def test_query_count_does_not_grow_with_repos(viewer_client, django_assert_num_queries, repos):
    seed_org(repos=repos, packages=10)
    # session, user, team list, (version, target, status, fix) groups, repos per version, upstream suggestions
    with django_assert_num_queries(6):
        response = viewer_client.get("/packages/grpcio/")
    assert response.context["page"].repos == repos
