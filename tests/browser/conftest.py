"""Browser tests: Playwright driving Debian's chromium against pytest-django's ``live_server``.

Never downloads a browser: it uses ``/usr/bin/chromium`` (``apt-get install chromium``). Without
it the tests are skipped with a reason, except in CI (``CI`` set), where that is a failure.
Screenshots go to ``test-artifacts/`` (gitignored) for a human to look at.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from readiness.celery import app as celery_app

CHROMIUM = os.environ.get("READINESS_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Playwright's sync API runs an event loop in this thread; the test's own ORM calls (seeding,
# assertions) are still plain synchronous code, so Django's async-safety guard must not refuse them.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _chromium() -> str:
    path = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium") or ""
    if not path:
        message = f"no chromium at {CHROMIUM}: apt-get install -y chromium (browser tests never download one)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def screenshot(page, request):
    """``screenshot("overview")`` saves test-artifacts/<test>-overview.png (full page)."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(name: str) -> Path:
        path = ARTIFACTS / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture(autouse=True)
def eager_tasks(settings, tmp_path_factory):
    """The rescan's task runs in the live server's request, on commit (no broker in these tests)."""
    old = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    settings.READINESS_GIT_CACHE_DIR = tmp_path_factory.mktemp("git-cache")
    yield
    celery_app.conf.task_always_eager = old
