"""The upstream page (drafts, tracker and search links, filed/dismiss buttons), the package page's
upstream section and the blocker list's advice, after real scans against a real local index."""

from __future__ import annotations

import html as htmllib

import pytest
from django.test import Client

from readiness.models import Repo, UpstreamSuggestion
from readiness.services.scans import scan_request
from tests.readiness.factories import make_user
from tests.readiness.scan_support import repo_row
from tests.scanners.git_helpers import commit_files, make_repo

pytestmark = pytest.mark.django_db(transaction=True)

ALPINE = "FROM python:3.12-alpine\nRUN pip install -r requirements.txt\n"
SLIM = "FROM python:3.12-slim\nRUN pip install -r requirements.txt\n"


@pytest.fixture
def scanned(tmp_path, scan_index, settings):
    settings.READINESS_INDEX_CACHE_SECONDS = 0
    scan_index.add_project(
        "never-arm",
        [
            {
                "filename": "never_arm-1.0-cp312-cp312-manylinux_2_17_x86_64.whl",
                "x-metadata": ["Project-URL: Source, https://gitlab.com/example/never-arm"],
            }
        ],
    )
    repos = {
        "svc-a": {"requirements.txt": "never-arm==1.0\n", "Dockerfile": SLIM},
        "svc-b": {"requirements.txt": "never-arm==1.0\npsycopg2==2.9.9\n", "Dockerfile": ALPINE},
    }
    paths = {}
    for name, files in repos.items():
        paths[name] = make_repo(tmp_path, files, name=name)
        scan = scan_request(repo=repo_row(name, paths[name]), trigger="manual")
        scan.refresh_from_db()
        assert scan.state == "done", scan.error
    return paths


@pytest.fixture
def engineer(client):
    client.force_login(make_user("engineer", role="engineer"))
    return client


def test_upstream_page_shows_the_draft_and_links(engineer, scanned):
    response = engineer.get("/upstream/")
    html = response.content.decode()
    (s,) = response.context["page"].suggestions
    # One draft for the glibc and the musl (Alpine, both arches) repo.
    assert s.platform_tags == "manylinux_2_17_aarch64 musllinux_1_2_aarch64 musllinux_1_2_x86_64"
    assert s.repos_blocked == 2
    assert htmllib.escape(s.new_issue_url) in html and s.new_issue_url.startswith(
        "https://gitlab.com/example/never-arm/-/issues/new?"
    )
    assert htmllib.escape(s.search_url) in html
    assert "Mark filed" in html and "Dismiss" in html
    assert "cibuildwheel" in html and "svc-a" not in s.body


def test_marking_filed_and_dismissed_through_the_page(engineer, scanned):
    s = UpstreamSuggestion.objects.get()
    response = engineer.post(
        f"/upstream/{s.pk}/mark/",
        {"status": "filed", "upstream_url": "https://gitlab.com/example/never-arm/-/issues/9"},
    )
    assert response.status_code == 302 and response["Location"].endswith(f"/upstream/#suggestion-{s.pk}")
    s.refresh_from_db()
    assert (s.status, s.upstream_url, s.status_changed_by.username) == (
        "filed",
        "https://gitlab.com/example/never-arm/-/issues/9",
        "engineer",
    )
    html = engineer.get("/upstream/").content.decode()
    assert 'href="https://gitlab.com/example/never-arm/-/issues/9"' in html

    # A rescan of a changed repo keeps the mark.
    commit_files(scanned["svc-a"], {"requirements.txt": "never-arm==1.0\n\n"})
    scan = scan_request(repo=Repo.objects.get(name="svc-a"), trigger="manual")
    scan.refresh_from_db()
    assert scan.state == "done" and not scan.unchanged
    s.refresh_from_db()
    assert s.status == "filed"

    engineer.post(f"/upstream/{s.pk}/mark/", {"status": "dismissed"})
    s.refresh_from_db()
    assert (s.status, s.upstream_url) == ("dismissed", "")
    page = engineer.get("/upstream/").context["page"]
    assert page.active == () and [x.pk for x in page.closed] == [s.pk]


@pytest.mark.parametrize(
    ("method", "data", "status"),
    [
        ("get", None, 405),
        ("post", {"status": "bogus"}, 400),
        ("post", {"status": "filed", "upstream_url": "ftp://x"}, 400),
    ],
)
def test_bad_mark_requests(engineer, scanned, method, data, status):
    s = UpstreamSuggestion.objects.get()
    response = getattr(engineer, method)(f"/upstream/{s.pk}/mark/", data)
    assert response.status_code == status
    s.refresh_from_db()
    assert s.status == "open"


def test_anonymous_cannot_mark(scanned):
    s = UpstreamSuggestion.objects.get()
    response = Client().post(f"/upstream/{s.pk}/mark/", {"status": "dismissed"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    s.refresh_from_db()
    assert s.status == "open"


def test_a_viewer_sees_the_drafts_but_cannot_mark_them(client, scanned):
    client.force_login(make_user("viewer", role="viewer"))
    s = UpstreamSuggestion.objects.get()
    page = client.get("/upstream/").content.decode()
    assert s.title in page and "Mark filed" not in page
    response = client.post(f"/upstream/{s.pk}/mark/", {"status": "dismissed"})
    assert response.status_code == 403 and "ask a manager" in response.content.decode()
    s.refresh_from_db()
    assert s.status == "open"


def test_package_page_shows_the_draft_and_ways_out(engineer, scanned):
    html = engineer.get("/packages/never-arm/").content.decode()
    assert "Mark filed" in html and "gitlab.com/example/never-arm/-/issues/new" in html
    html = engineer.get("/packages/psycopg2/").content.decode()
    assert "libpq-dev" in html and "psycopg2-binary" in html and "psycopg.org" in html


def test_blocker_list_shows_the_advice(engineer, scanned):
    html = engineer.get("/blockers/").content.decode()
    assert 'href="/upstream/">ask upstream for a wheel for linux/arm64</a>' in html
    # svc-b's Alpine image has no compiler for psycopg2's sdist: the toolchain and libpq-dev.
    assert "add build-base python3-dev to the image (for psycopg2: libpq-dev)" in html
