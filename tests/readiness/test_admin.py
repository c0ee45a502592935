"""The admin: every changelist renders for a superuser; scans and index pages stay read-only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from readiness.models import IndexPage, Repo, Scan, ScanFile, ScanFinding, Team, Verdict

pytestmark = pytest.mark.django_db

BODY = b'{"meta": {"api-version": "1.1"}, "name": "secret-marker-in-body", "files": []}'


@pytest.fixture
def admin_client(client: Client) -> Client:
    user = User.objects.create_superuser("root", "root@example.test", "pw")
    client.force_login(user)
    return client


def _seed_repo(name: str, team: Team | None) -> Repo:
    repo = Repo.objects.create(name=name, url=f"https://git.example/acme/{name}.git", team=team)
    now = timezone.now()
    scan = Scan.objects.create(
        repo=repo,
        state=Scan.State.DONE,
        commit="0123456789abcdef0123456789abcdef01234567",
        finished_at=now,
        targets=["linux/amd64", "linux/arm64"],
        summary={
            "linux/amd64": {"wheel": 140, "sdist": 0, "none": 0, "unknown": 0, "n/a": 2, "ready": True},
            "linux/arm64": {"wheel": 137, "sdist": 3, "none": 1, "unknown": 0, "n/a": 2, "blockers": 1, "ready": False},
        },
    )
    repo.latest_scan = scan
    repo.save(update_fields=["latest_scan"])
    ScanFile.objects.create(scan=scan, path="uv.lock", kind="lockfile", format="uv")
    ScanFinding.objects.create(
        scan=scan,
        path="Dockerfile",
        line=1,
        rule="platform-pinned",
        severity="blocker",
        message="FROM --platform=linux/amd64 pins the image to amd64",
    )
    Verdict.objects.create(scan=scan, package="psutil", version="5.9.8", target="linux/arm64", status="sdist")
    return repo


@pytest.fixture
def seeded() -> dict[str, object]:
    team = Team.objects.create(name="payments")
    repo = _seed_repo("payments-api", team)
    Repo.objects.create(name="never-scanned", url="/srv/git/x", enabled=False)
    Scan.objects.create(repo=repo, state=Scan.State.QUEUED)
    now = timezone.now()
    page = IndexPage.objects.create(
        index_url="https://index.test/simple/",
        name="psutil",
        body=BODY,
        content_type="application/vnd.pypi.simple.v1+json",
        fetched_at=now,
        changed_at=now - dt.timedelta(days=1),
    )
    return {"team": team, "repo": repo, "scan": repo.latest_scan, "page": page}


@pytest.mark.parametrize("model", ["team", "repo", "scan", "indexpage"])
def test_changelists_render(admin_client: Client, seeded: dict, model: str) -> None:
    response = admin_client.get(reverse(f"admin:readiness_{model}_changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1


def test_repo_list_shows_team_enabled_and_latest_state(admin_client: Client, seeded: dict) -> None:
    response = admin_client.get(reverse("admin:readiness_repo_changelist"))
    content = response.content.decode()
    assert "payments-api" in content and "payments" in content
    assert ">done<" in content and "never scanned" in content


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("?enabled__exact=0", ["never-scanned"]),
        ("?q=payments", ["payments-api"]),
        ("?team__id__exact={team}", ["payments-api"]),
    ],
)
def test_repo_filters_and_search(admin_client: Client, seeded: dict, query: str, names: list[str]) -> None:
    response = admin_client.get(reverse("admin:readiness_repo_changelist") + query.format(team=seeded["team"].pk))
    assert response.status_code == 200
    assert [r.name for r in response.context["cl"].result_list] == names


def test_scan_list_filters_by_state(admin_client: Client, seeded: dict) -> None:
    response = admin_client.get(reverse("admin:readiness_scan_changelist") + "?state__exact=queued")
    assert [s.state for s in response.context["cl"].result_list] == ["queued"]


def test_scan_page_is_read_only_with_inlines_and_counts(admin_client: Client, seeded: dict) -> None:
    scan = seeded["scan"]
    response = admin_client.get(reverse("admin:readiness_scan_change", args=[scan.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert "uv.lock" in content and "platform-pinned" in content
    assert "linux/arm64: 137 wheel, 3 sdist, 1 none, 2 n/a (blocked)" in content
    assert "linux/amd64: 140 wheel, 2 n/a (ready)" in content
    assert "psutil" not in content  # verdict rows are never listed
    assert 'name="_save"' not in content


@pytest.mark.parametrize("model", ["scan", "indexpage"])
def test_read_only_models_refuse_add_change_delete(admin_client: Client, seeded: dict, model: str) -> None:
    obj = seeded["scan"] if model == "scan" else seeded["page"]
    assert admin_client.get(reverse(f"admin:readiness_{model}_add")).status_code == 403
    assert (
        admin_client.post(reverse(f"admin:readiness_{model}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403
    )
    assert admin_client.post(reverse(f"admin:readiness_{model}_change", args=[obj.pk]), {}).status_code == 403
    assert type(obj).objects.filter(pk=obj.pk).exists()


def test_index_page_shows_size_not_body(admin_client: Client, seeded: dict) -> None:
    page = seeded["page"]
    for url in (
        reverse("admin:readiness_indexpage_changelist"),
        reverse("admin:readiness_indexpage_change", args=[page.pk]),
    ):
        content = admin_client.get(url).content.decode()
        assert "psutil" in content
        assert str(len(BODY)) in content
        assert "secret-marker-in-body" not in content


def test_repo_can_be_edited(admin_client: Client, seeded: dict) -> None:
    repo = seeded["repo"]
    response = admin_client.post(
        reverse("admin:readiness_repo_change", args=[repo.pk]),
        {
            "name": repo.name,
            "url": repo.url,
            "branch": "develop",
            "team": seeded["team"].pk,
            "enabled": "on",
            "credentials_ref": "GITHUB_TOKEN",
        },
    )
    assert response.status_code == 302
    repo.refresh_from_db()
    assert (repo.branch, repo.credentials_ref) == ("develop", "GITHUB_TOKEN")


@pytest.mark.parametrize("model", ["repo", "scan", "team"])
def test_changelist_query_count_does_not_grow_with_rows(admin_client: Client, seeded: dict, model: str) -> None:
    url = reverse(f"admin:readiness_{model}_changelist")
    admin_client.get(url)  # warm the session and content-type caches
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url).status_code == 200
    team = Team.objects.create(name="platform")
    for i in range(15):
        _seed_repo(f"svc-{i:02d}", team)
    with CaptureQueriesContext(connection) as many:
        assert admin_client.get(url).status_code == 200
    assert len(many) == len(few)


def test_index_pages_show_their_index_url_without_its_token(admin_client: Client, seeded: dict) -> None:
    # PIP_INDEX_URL often carries a token: the cached pages' index is shown, filtered and linked redacted.
    now = timezone.now()
    page = IndexPage.objects.create(
        index_url="https://ci:idxT0ken0123@private.test/simple/",
        name="internal-lib",
        body=BODY,
        page_url="https://ci:idxT0ken0123@private.test/simple/internal-lib/",
        content_type="application/vnd.pypi.simple.v1+json",
        fetched_at=now,
        changed_at=now,
    )
    changelist = reverse("admin:readiness_indexpage_changelist")
    for url in (changelist, reverse("admin:readiness_indexpage_change", args=[page.pk])):
        content = admin_client.get(url).content.decode()
        assert "idxT0ken0123" not in content
        assert "https://***@private.test/simple/" in content
    response = admin_client.get(changelist, {"index": "https://***@private.test/simple/"})
    assert [p.name for p in response.context["cl"].result_list] == ["internal-lib"]


def test_campaign_and_triage_pages_render_and_triage_is_read_only(admin_client: Client, seeded: dict) -> None:
    from readiness.models import BlockerTriage, Campaign, TriageEvent

    campaign = Campaign.objects.create(
        name="arm64", slug="arm64", targets=["linux/arm64"], start=dt.date(2027, 1, 1), due=dt.date(2027, 3, 31)
    )
    triage = BlockerTriage.objects.create(repo=seeded["repo"], kind="package", subject="psutil", target="linux/arm64")
    TriageEvent.objects.create(triage=triage, action="acknowledge", state="acknowledged")
    for name, pk in (("campaign", campaign.pk), ("blockertriage", triage.pk)):
        assert admin_client.get(reverse(f"admin:readiness_{name}_changelist")).status_code == 200
        assert admin_client.get(reverse(f"admin:readiness_{name}_change", args=[pk])).status_code == 200
    page = admin_client.get(reverse("admin:readiness_blockertriage_change", args=[triage.pk])).content.decode()
    assert "acknowledge" in page and 'name="_save"' not in page  # its history shows; nothing to save
    assert admin_client.get(reverse("admin:readiness_blockertriage_add")).status_code == 403
