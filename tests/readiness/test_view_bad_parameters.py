"""Parameters the database cannot take are refused with a 400 page, never a 500.

PostgreSQL (what CI runs these against) rejects a NUL byte in any text parameter, so each of
these used to raise inside the view's query.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from readiness.models import Repo, Team
from tests.readiness.factories import admin_client_, viewer_client  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

NUL_URLS = [
    "/repos/?q=%00",
    "/repos/?q=pay%00ments",
    "/repos/?state=%00",
    "/repos/?target=linux/arm64%00",
    "/?team=%00",
    "/blockers/?team=x%00",
    "/trends/?period=%00",
    "/repos/pay%00ments/",
    "/packages/nu%00mpy/",
    "/export/matrix.csv?team=%00",
    "/repos/?%00=1",
]


@pytest.fixture
def org(db):
    Repo.objects.create(
        name="payments", url="https://git.example.test/payments.git", team=Team.objects.create(name="pay")
    )


@pytest.mark.parametrize("url", NUL_URLS)
def test_nul_byte_anywhere_a_view_reads_is_a_400_page(viewer_client, org, url):
    response = viewer_client.get(url)
    assert response.status_code == 400
    assert b"Bad request" in response.content
    assert b"Arch Readiness" in response.content  # the dashboard's page, not a bare error


@pytest.mark.parametrize("url", [u.replace("%00", "") for u in NUL_URLS])
def test_the_same_urls_without_the_nul_byte_answer(viewer_client, org, url):
    # The refusal is about the byte, not the page: the same addresses work without it.
    assert viewer_client.get(url).status_code in (200, 404)


def test_nul_in_a_form_post_is_refused_before_the_view(admin_client_, org):
    response = admin_client_.post("/repos/payments/rescan/", {"team": "pay\x00"})
    assert response.status_code == 400


def test_nul_in_the_login_form_is_a_400_not_a_500(client, db):
    response = client.post("/accounts/login/", {"username": "a\x00", "password": "x"})
    assert response.status_code == 400


def test_admin_search_with_nul_is_refused(client, db):
    root = User.objects.create_superuser("root", "root@example.test", "pw")
    client.force_login(root)
    assert client.get("/admin/readiness/repo/?q=pay").status_code == 200
    assert client.get("/admin/readiness/repo/?q=%00").status_code == 400
