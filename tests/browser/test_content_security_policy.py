"""Every page works under the Content-Security-Policy it is sent with: charts draw, buttons work,
and Chromium reports no violation (it logs each one to the console as "Refused to …")."""

from __future__ import annotations

import pytest

from readiness.middleware import CONTENT_SECURITY_POLICY
from tests.readiness.factories import make_user, seed_org

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PAGES = [
    "/",
    "/repos/",
    "/repos/svc-0000/",
    "/blockers/",
    "/trends/",
    "/upstream/",
    "/packages/grpcio/",
    "/settings/email/",
    "/admin/",
    "/admin/readiness/repo/",
    "/admin/readiness/repo/add/",
    "/no-such-page/",
]


def test_pages_draw_under_the_policy_with_no_violation(page, live_server):
    seed_org(repos=6, weeks=4)
    make_user("boss", role="manager")
    from django.contrib.auth.models import User

    User.objects.filter(username="boss").update(is_superuser=True)
    messages: list[str] = []
    page.on("console", lambda m: messages.append(f"{m.type}: {page.url} {m.text}"))
    page.on("pageerror", lambda e: messages.append(f"pageerror: {e}"))

    response = page.goto(f"{live_server.url}/accounts/login/")
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    page.fill("#id_username", "boss")
    page.fill("#id_password", "pw")
    page.click("form.login button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.wait_for_selector("#trend-chart svg.main-svg")  # plotly runs under script-src 'self'
    for path in PAGES:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("load")
        if path == "/trends/":
            page.wait_for_selector("#chart-targets svg.main-svg")
    violations = [m for m in messages if "Content Security Policy" in m or m.startswith("pageerror")]
    assert violations == []
