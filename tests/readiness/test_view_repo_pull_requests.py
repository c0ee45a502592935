"""The repository page's "open pull requests": each check's outcome, its new blockers, a constant query count."""

from __future__ import annotations

import pytest

from readiness.models import PullRequestCheck, Repo
from scanners.compare import compare_reports
from tests.readiness.factories import seed_org, viewer_client  # noqa: F401  (fixtures)
from tests.scanners.test_compare import doc, package


def comparison():
    before = doc(package("six", "1.16.0"), package("pyyaml", "5.3.1", arm64="none"))
    after = doc(
        package("six", "1.16.0"),
        package("pyyaml", "5.4.1"),
        package("filprofiler", "2022.5.0", arm64="none", line=3, fix="2024.11.2"),
    )
    return compare_reports(before, after)


def add_checks(repo: Repo, count: int) -> None:
    for number in range(1, count + 1):
        PullRequestCheck.objects.create(
            repo=repo,
            number=number,
            title=f"Bump dependencies <{number}>",
            html_url=f"https://github.example.test/acme/svc/pull/{number}" if number != 2 else "javascript:alert(1)",
            author="tallis-okafor",
            head_ref=f"deps-{number}",
            base_ref="main",
            head_sha="5f1c0e9d7a3b" + "0" * 28,
            checked_sha="5f1c0e9d7a3b" + "0" * 28,
            state="done",
            conclusion="failure",
            comparison=comparison(),
        )


def test_open_pull_requests_show_outcome_changes_and_each_new_blocker(viewer_client):
    seed_org(repos=1, packages=3, weeks=1)
    repo = Repo.objects.get(name="svc-0000")
    add_checks(repo, 2)
    PullRequestCheck.objects.create(repo=repo, number=9, title="Docs", state="skipped", detail="no lockfile changed")
    html = viewer_client.get("/repos/svc-0000/").content.decode()
    section = html[html.index('id="pull-requests"') : html.index('id="history-title"')]
    assert "Open pull requests (3)" in section
    assert section.index("#9 Docs") < section.index("#2 Bump") < section.index("#1 Bump")  # newest first
    assert "no dependency change" in section
    assert (
        '<a href="https://github.example.test/acme/svc/pull/1" rel="noopener noreferrer">#1 Bump dependencies &lt;1&gt;</a>'
        in section
    )
    assert "javascript:" not in section  # a URL that is not http(s) is not a link
    assert "✖</span> fails" in section
    assert "1 new blocker, 1 resolved" in section
    assert (
        "<strong>filprofiler 2022.5.0</strong> blocks linux/arm64 (<code>requirements.txt:3</code>) — upgrade to 2024.11.2"
        in section
    )


def test_no_pull_request_says_how_they_get_here(viewer_client):
    seed_org(repos=1, packages=3, weeks=1)
    html = viewer_client.get("/repos/svc-0000/").content.decode()
    assert "Pull requests are checked when the GitHub webhook sends pull request events" in html


@pytest.mark.parametrize("count", [1, 30])
def test_query_count_does_not_grow_with_pull_requests(viewer_client, django_assert_num_queries, count):
    seed_org(repos=1, packages=5, weeks=1)
    add_checks(Repo.objects.get(name="svc-0000"), count)
    with django_assert_num_queries(13):
        response = viewer_client.get("/repos/svc-0000/")
    assert len(response.context["pull_requests"]) == count
