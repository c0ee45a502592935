"""Names, files and findings come from outside: they render as text on every page, never as HTML."""

from __future__ import annotations

import json

import pytest

from readiness.models import Repo, Scan, ScanFinding, Team, Verdict
from tests.readiness.factories import viewer_client  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

EVIL = "<script>alert(1)</script>"
EVIL_PKG = "evil<script>alert(1)</script>"


@pytest.fixture
def evil_repo(db) -> Repo:
    team = Team.objects.create(name="t<img src=x onerror=alert(2)>")
    repo = Repo.objects.create(name="evil-repo", url="https://git.example.test/<b>x</b>", team=team)
    scan = Scan.objects.create(
        repo=repo,
        state=Scan.State.DONE,
        error=EVIL,
        summary={
            "linux/arm64": {"wheel": 0, "sdist": 0, "none": 1, "unknown": 0, "n/a": 0, "blockers": 2, "ready": False}
        },
    )
    Repo.objects.filter(pk=repo.pk).update(latest_scan=scan)
    Verdict.objects.create(
        scan=scan,
        package=EVIL_PKG,
        version="1<b>",
        target="linux/arm64",
        status="none",
        file="x<script>.whl",
        lockfile="<i>req</i>.txt",
        reason=EVIL,
    )
    ScanFinding.objects.create(
        scan=scan, path="Docker<script>file", line=3, rule="platform-pinned", severity="blocker", message=EVIL
    )
    return repo


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/repos/",
        "/repos/evil-repo/",
        "/blockers/",
        "/upstream/",
        f"/packages/{EVIL_PKG}/",
        "/trends/",
        "/?team=%3Cscript%3Ealert(1)%3C/script%3E",
        "/repos/?q=%3Cscript%3E",
        "/trends/?period=%3Cscript%3E",
    ],
)
def test_outside_text_is_escaped(viewer_client, evil_repo, url):
    response = viewer_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert" not in html
    assert "<img src=x" not in html and "<b>x</b>" not in html


def test_the_escaped_text_is_shown(viewer_client, evil_repo):
    html = viewer_client.get("/repos/evil-repo/").content.decode()
    assert "evil&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the package name
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the finding message and the scan error
    assert "Docker&lt;script&gt;file" in html


def test_exports_carry_the_text_verbatim(viewer_client, evil_repo):
    body = b"".join(viewer_client.get("/export/matrix.json").streaming_content)
    assert json.loads(body)[0]["packages"][0]["name"] == EVIL_PKG
