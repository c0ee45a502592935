"""README badges and API tokens in a real browser: the badges render as images on the repository
page, and a token made on the settings page is shown once and works against the API."""

from __future__ import annotations

import os
import shutil

import httpx
import pytest

from readiness.models import ApiToken, Repo
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_dashboard import _log_in
from tests.readiness.factories import make_user, seed_org

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _widths(page, screenshot, name: str) -> None:
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        # nothing wider than the screen: the Markdown wraps, the table scrolls in its own box
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        screenshot(f"{name}-{width}")


def test_badges_render_and_a_token_is_made_shown_once_and_revoked(page, live_server, screenshot, settings):
    settings.SITE_ROOT = live_server.url
    seed_org(repos=3, weeks=2)
    Repo.objects.filter(name="svc-0001").update(public=True)
    make_user("erin", role="engineer")
    _log_in(page, live_server, "erin")

    page.goto(f"{live_server.url}/repos/svc-0000/")
    images = page.locator("#badges-title + p.badges img")
    assert images.count() == 2
    page.wait_for_function("[...document.querySelectorAll('p.badges img')].every(i => i.complete)")
    # Chromium decoded each SVG: an image it could not read has no natural width
    assert all(w > 60 for w in images.evaluate_all("imgs => imgs.map(i => i.naturalWidth)"))
    snippet = page.locator("pre.snippet code").nth(1).inner_text()
    assert snippet.startswith("[![linux/arm64 readiness](") and "/badge/svc-0000/linux-arm64.svg?token=" in snippet
    # The Markdown's image URL works without the session (what a README viewer's browser sends)
    image_url = snippet.split("](", 1)[1].split(")", 1)[0]
    answer = httpx.get(image_url)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("image/svg+xml")
    assert "3 blockers" in answer.text
    _widths(page, screenshot, "repo-badges")

    page.goto(f"{live_server.url}/settings/email/")
    page.fill("#token-name", "CI gate")
    page.click("text=Make a token")
    secret = page.locator("#new-token-value").inner_text()
    assert secret.startswith("rdy_")
    assert (
        httpx.get(f"{live_server.url}/api/v1/repos/", headers={"Authorization": f"Bearer {secret}"}).json()["count"]
        == 3
    )
    page.fill("#token-name", "dashboards")
    page.click("text=Make a token")
    _widths(page, screenshot, "settings-tokens")
    page.goto(f"{live_server.url}/settings/email/")
    assert secret not in page.content()
    page.locator("tr", has_text="CI gate").locator("text=Revoke").click()
    assert "Token revoked" in page.content()
    assert ApiToken.objects.get(name="CI gate").revoked_at is not None
    assert (
        httpx.get(f"{live_server.url}/api/v1/repos/", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    )

    # READINESS_UPDATE_SCREENSHOTS=1 refreshes the screenshots docs/ and the README show
    for name in ("repo-badges-1440", "repo-badges-390", "settings-tokens-1440", "settings-tokens-390"):
        shot = ARTIFACTS / f"test_badges_render_and_a_token_is_made_shown_once_and_revoked-{name}.png"
        if os.environ.get("READINESS_UPDATE_SCREENSHOTS"):
            shutil.copy(shot, ARTIFACTS.parent / "docs" / "screenshots" / f"{name}.png")
