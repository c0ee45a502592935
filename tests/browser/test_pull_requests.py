"""The repository page's open pull requests in a real browser, at desktop and phone widths."""

from __future__ import annotations

import pytest

from readiness.models import PullRequestCheck, Repo
from scanners.compare import compare_reports
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_dashboard import _log_in
from tests.readiness.factories import make_user, seed_org
from tests.scanners.test_compare import NO_COMPILER, PINNED, doc, package

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _seed() -> None:
    seed_org(repos=2, weeks=2)
    repo = Repo.objects.get(name="svc-0000")
    no_compiler = {
        **NO_COMPILER,
        "message": "PyYAML==5.3.1 has no wheel for this image: python:3.9-slim has no C compiler",
    }
    base = doc(
        package("six", "1.16.0"), package("pyyaml", "5.3.1", amd64="sdist", arm64="sdist"), findings=[no_compiler]
    )
    fil = compare_reports(
        base,
        doc(
            package("six", "1.16.0"),
            package("pyyaml", "5.3.1", amd64="sdist", arm64="sdist"),
            package("filprofiler", "2022.5.0", arm64="none", line=3, fix="2024.11.2 (major version)"),
            findings=[no_compiler, {**PINNED, "message": "FROM --platform=linux/amd64 pins the image to amd64"}],
        ),
    )
    bump = compare_reports(base, doc(package("six", "1.16.0"), package("pyyaml", "5.4.1")))
    common = {"repo": repo, "author": "tallis-okafor", "base_ref": "main", "state": "done"}
    PullRequestCheck.objects.create(
        **common,
        number=41,
        title="Profile memory of the invoice export with filprofiler",
        html_url="https://github.example.test/acme/svc-0000/pull/41",
        head_ref="add-filprofiler",
        checked_sha="5f1c0e9d7a3b2c4e6f8091a2b3c4d5e6f7081920",
        conclusion="failure",
        comparison=fil,
    )
    PullRequestCheck.objects.create(
        **common,
        number=40,
        title="Bump PyYAML from 5.3.1 to 5.4.1",
        html_url="https://github.example.test/acme/svc-0000/pull/40",
        head_ref="dependabot/pip/pyyaml-5.4.1",
        checked_sha="8d2e4f6a0b1c3d5e7f9012a3b4c5d6e7f8091a2b",
        conclusion="success",
        comparison=bump,
    )
    PullRequestCheck.objects.create(
        repo=repo, number=39, title="Fix a typo in the README", head_ref="docs", base_ref="main", state="skipped"
    )


@pytest.mark.parametrize("width", [1440, 390])
def test_open_pull_requests_read_well_at_desktop_and_phone_widths(page, live_server, width):
    _seed()
    make_user("vera", role="viewer")
    page.set_viewport_size({"width": width, "height": 900})
    _log_in(page, live_server, "vera")
    page.goto(f"{live_server.url}/repos/svc-0000/#pull-requests")
    section = page.locator("#pull-requests")
    assert section.locator("h2").inner_text() == "Open pull requests (3)"
    items = section.locator("ul.pull-requests > li")
    assert items.count() == 3
    assert "filprofiler 2022.5.0 blocks linux/arm64" in items.nth(0).inner_text()
    assert "1 resolved" in items.nth(1).inner_text()
    # Nothing wider than the window: long branch names and messages wrap.
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{overflow}px of horizontal scroll at {width}px"
    ARTIFACTS.mkdir(exist_ok=True)
    section.screenshot(path=str(ARTIFACTS / f"repo-pull-requests-{width}.png"))
