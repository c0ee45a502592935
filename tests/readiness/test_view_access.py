"""Every page and export needs a login; only admins trigger scans."""

from __future__ import annotations

import pytest

from tests.readiness.factories import seed_org, viewer_client  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

URLS = [
    "/",
    "/repos/",
    "/repos/svc-0000/",
    "/repos/svc-0000/scan.json",
    "/packages/grpcio/",
    "/blockers/",
    "/trends/",
    "/upstream/",
    "/export/matrix.csv",
    "/export/matrix.json",
    "/export/blockers.csv",
    "/export/trends.csv",
]


@pytest.mark.parametrize("url", URLS)
def test_anonymous_visitors_go_to_the_login_page(client, url):
    seed_org(repos=1, rollups=False)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_anonymous_rescan_goes_to_the_login_page(client):
    seed_org(repos=1, rollups=False)
    assert client.post("/repos/svc-0000/rescan/")["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", [u for u in URLS if u != "/repos/svc-0000/scan.json"])
def test_every_page_and_export_answers_on_an_empty_database(viewer_client, url):
    response = viewer_client.get(url)
    assert response.status_code == (404 if "/repos/svc-0000/" in url else 200)  # an unknown repo is a 404


def test_login_page_renders_and_logs_in(client):
    from tests.readiness.factories import make_user

    make_user("alice", password="s3cret-pw")
    assert b"Log in" in client.get("/accounts/login/").content
    response = client.post("/accounts/login/", {"username": "alice", "password": "s3cret-pw"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert b"How ready are we" in client.get("/").content


def test_404_and_500_pages_are_the_dashboards_own(client):
    from django.template.loader import render_to_string

    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"Not found" in response.content and b"/static/css/base.css" in response.content
    html = render_to_string("500.html")  # Django renders it without a request or a user
    assert "Something went wrong" in html and "/static/css/base.css" in html
