"""No page, export or admin screen shows a secret, whatever a repo's row or lockfile holds.

The repo is scanned for real (git CLI, fixture index): its requirements pin a private package as
``private @ git+https://user:TOKEN@git.test/…``, so the verdict reason is the engine's own. Its row
is then given a URL with a bare token, as rows imported before such URLs were refused may have.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from readiness.models import Repo, Team
from readiness.services.scans import scan_request
from tests.readiness.factories import make_user
from tests.readiness.scan_support import repo_row
from tests.scanners.git_helpers import make_repo

pytestmark = pytest.mark.django_db(transaction=True)

LOCK_TOKEN = "lockT0ken5ecret0123456789"
ROW_TOKEN = "ghp_rowT0ken5ecret0123456789"
REQUIREMENTS = (
    f"psutil==5.9.8\nfilprofiler==2022.5.0\nprivate @ git+https://user:{LOCK_TOKEN}@git.test/acme/private.git\n"
)


@pytest.fixture
def leaky(tmp_path, scan_index) -> Repo:
    path = make_repo(tmp_path, {"requirements.txt": REQUIREMENTS}, name="leaky")
    repo = repo_row("leaky", path, team=Team.objects.create(name="payments"))
    scan_request(repo=repo, trigger="manual")
    repo.refresh_from_db()
    assert repo.latest_scan is not None and repo.latest_scan.state == "done", repo.latest_scan
    Repo.objects.filter(pk=repo.pk).update(url=f"http://{ROW_TOKEN}@git.test/acme/leaky.git")
    repo.refresh_from_db()
    return repo


def _bodies(client: Client, urls: list[str]) -> dict[str, str]:
    out = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        out[url] = b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()
    return out


def _assert_no_secret(bodies: dict[str, str]) -> None:
    for url, body in bodies.items():
        assert LOCK_TOKEN not in body, url
        assert ROW_TOKEN not in body, url


def test_dashboard_pages_and_exports_show_no_token(leaky: Repo, client: Client) -> None:
    client.force_login(make_user("viewer"))
    bodies = _bodies(
        client,
        [
            "/",
            "/repos/",
            "/repos/leaky/",
            "/repos/leaky/scan.json",
            "/blockers/",
            "/packages/private/",
            "/packages/filprofiler/",
            "/export/matrix.csv",
            "/export/matrix.json",
            "/export/blockers.csv",
        ],
    )
    _assert_no_secret(bodies)
    # What is shown instead: the URL with its userinfo hidden, and the package's reason naming its source.
    page = bodies["/repos/leaky/"]
    assert "http://***@git.test/acme/leaky.git" in page
    assert "git+https://***@git.test/acme/private.git" in page
    assert '"source": "http://***@git.test/acme/leaky.git"' in bodies["/export/matrix.json"]
    assert "git+https://***@git.test/acme/private.git" in bodies["/export/matrix.json"]
    assert "leaky" in bodies["/export/blockers.csv"] and "filprofiler" in bodies["/export/blockers.csv"]


def test_admin_shows_no_token_and_keeps_the_stored_url_on_save(leaky: Repo, client: Client) -> None:
    client.force_login(User.objects.create_superuser("root", "root@example.test", "pw"))
    change = reverse("admin:readiness_repo_change", args=[leaky.pk])
    bodies = _bodies(
        client,
        [
            reverse("admin:readiness_repo_changelist"),
            change,
            reverse("admin:readiness_scan_changelist"),
            reverse("admin:readiness_scan_change", args=[leaky.latest_scan_id]),
        ],
    )
    _assert_no_secret(bodies)
    assert 'value="http://***@git.test/acme/leaky.git"' in bodies[change]

    # Saving the form as shown changes another field and leaves the URL git fetches with alone.
    form = {
        "name": "leaky",
        "url": "http://***@git.test/acme/leaky.git",
        "branch": "develop",
        "team": leaky.team_id,
        "enabled": "on",
        "credentials_ref": "",
    }
    assert client.post(change, form).status_code == 302
    leaky.refresh_from_db()
    assert (leaky.branch, leaky.url) == ("develop", f"http://{ROW_TOKEN}@git.test/acme/leaky.git")

    # A new URL with a token is refused, as repos.toml refuses it, and the page does not echo it.
    response = client.post(change, {**form, "url": "https://x:ghp_pasted0123456789@git.test/acme/leaky.git"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "contains a password or token; remove it and name an environment variable" in body
    leaky.refresh_from_db()
    assert leaky.url == f"http://{ROW_TOKEN}@git.test/acme/leaky.git"
