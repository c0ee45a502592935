"""README badges: SVG per repo and platform, who may read them, cache headers, the repo page's Markdown."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from readiness.models import Repo
from readiness.queries.badges import badge_token
from tests.readiness.factories import make_user, seed_org

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"


def _svg(response) -> tuple[ET.Element, list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
    root = ET.fromstring(response.content)  # well-formed XML, or this raises
    assert root.tag == f"{SVG}svg" and root.get("height") == "20" and int(root.get("width")) > 60
    return root, [t.text for t in root.iter(f"{SVG}text")]


@pytest.mark.parametrize(
    ("repo", "platform", "message"),
    [
        ("svc-0000", "linux-arm64", "3 blockers"),  # grpcio, filprofiler and the pinned platform
        ("svc-0001", "linux-arm64", "builds from source"),  # psutil sdist
        ("svc-0005", "linux-arm64", "ready"),
        ("svc-0001", "linux-amd64", "ready"),
        ("svc-0001", "windows-amd64", "unknown"),  # not a platform the scan checked
    ],
)
def test_public_badges_say_the_state(client, repo, platform, message):
    seed_org(repos=6, packages=5)
    Repo.objects.update(public=True)
    root, texts = _svg(client.get(f"/badge/{repo}/{platform}.svg"))
    label = platform.replace("-", "/")
    assert texts == [label, label, message, message]
    assert root.get("aria-label") == f"{label}: {message}"
    assert root.find(f"{SVG}title").text == f"{label}: {message}"


def test_a_repo_never_scanned_is_unknown(client, db):
    Repo.objects.create(name="fresh", url="https://git.example.test/fresh.git", public=True)
    _root, texts = _svg(client.get("/badge/fresh/linux-arm64.svg"))
    assert texts[-1] == "unknown"


def test_private_badges_need_the_token_or_a_login(client):
    seed_org(repos=2, packages=4)
    assert client.get("/badge/svc-0000/linux-arm64.svg").status_code == 404
    assert client.get("/badge/svc-0000/linux-arm64.svg?token=wrong").status_code == 404
    # another repo's token does not open this one
    assert client.get(f"/badge/svc-0000/linux-arm64.svg?token={badge_token('svc-0001')}").status_code == 404
    # an unknown repo answers the same: a badge URL does not tell which private repos exist
    assert client.get("/badge/nope/linux-arm64.svg").status_code == 404
    response = client.get(f"/badge/svc-0000/linux-arm64.svg?token={badge_token('svc-0000')}")
    _svg(response)
    assert response["Cache-Control"] == "private, max-age=300"
    client.force_login(make_user())
    _svg(client.get("/badge/svc-0000/linux-arm64.svg"))


def test_cache_headers_and_revalidation(client):
    seed_org(repos=1, packages=3)
    Repo.objects.update(public=True)
    response = client.get("/badge/svc-0000/linux-arm64.svg")
    assert response["Cache-Control"] == "public, max-age=300"
    etag = response["ETag"]
    again = client.get("/badge/svc-0000/linux-arm64.svg", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    assert again["Cache-Control"] == "public, max-age=300" and again["Vary"] == "Cookie"
    for listed in (f'"other", W/{etag}', "*"):  # a list with a weak tag, and "any": RFC 9110
        assert client.get("/badge/svc-0000/linux-arm64.svg", headers={"If-None-Match": listed}).status_code == 304
    assert client.get("/badge/svc-0000/linux-arm64.svg", headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.post("/badge/svc-0000/linux-arm64.svg").status_code == 405


def test_names_with_slashes_and_markup_are_escaped(client, db):
    Repo.objects.create(name='acme/<b>"x"', url="https://git.example.test/x.git", public=True)
    response = client.get("/badge/acme/%3Cb%3E%22x%22/linux-arm64.svg")
    _svg(response)
    assert b"<b>" not in response.content


def test_repo_page_shows_the_markdown(client):
    seed_org(repos=1, packages=3)
    client.force_login(make_user())
    page = client.get("/repos/svc-0000/").content.decode()
    token = badge_token("svc-0000")
    assert (
        f"[![linux/arm64 readiness](http://localhost:8000/badge/svc-0000/linux-arm64.svg?token={token})]"
        "(http://localhost:8000/repos/svc-0000/)" in page
    )
    assert f'<img src="/badge/svc-0000/linux-amd64.svg?token={token}"' in page  # same origin, as the CSP wants
    Repo.objects.update(public=True)
    page = client.get("/repos/svc-0000/").content.decode()
    assert "(http://localhost:8000/badge/svc-0000/linux-arm64.svg)](http://localhost:8000/repos/svc-0000/)" in page
    assert "token=" not in page.split("README badges", 1)[1]


@pytest.mark.parametrize("repos", [1, 30])
def test_one_query_per_badge(client, django_assert_num_queries, repos):
    seed_org(repos=repos, packages=4)
    Repo.objects.update(public=True)
    with django_assert_num_queries(1):
        _svg(client.get("/badge/svc-0000/linux-arm64.svg"))
