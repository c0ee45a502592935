"""The index cache in the database: one request per package per cache period, across workers."""

from __future__ import annotations

import httpx
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from readiness.models import IndexPage, Scan
from readiness.services.index_cache import DatabaseIndexCache, DatabaseIndexClient
from readiness.services.scans import scan_request
from scanners.index import ACCEPT
from scanners.index_cache import CachedPage
from tests.readiness.scan_support import ORG_LAYOUTS, in_two_sessions, repo_row
from tests.scanners.git_helpers import commit_files, make_repo

pytestmark = pytest.mark.django_db(transaction=True)


def test_second_scan_within_the_cache_period_makes_no_index_request(tmp_path, scan_index) -> None:
    path = make_repo(tmp_path, ORG_LAYOUTS[0].files, name="svc")
    repo = repo_row("svc", path)
    scan_request(repo=repo, trigger="manual")
    assert sorted(r.path for r in scan_index.page_requests()) == ["/simple/psutil/", "/simple/six/"]
    scan_index.clear_requests()
    commit_files(path, {"README": "a new commit: a full analysis, not an unchanged scan\n"})
    other = repo_row("other", make_repo(tmp_path, {"requirements.txt": "six==1.16.0\n"}, name="other"))

    again = scan_request(repo=repo, trigger="manual")
    second_repo = scan_request(repo=other, trigger="manual")

    again.refresh_from_db()
    second_repo.refresh_from_db()
    assert (again.state, again.unchanged) == (Scan.State.DONE, False)
    assert second_repo.state == Scan.State.DONE
    assert scan_index.page_requests() == []
    assert IndexPage.objects.count() == 2


def test_changed_at_moves_only_when_the_body_changes(scan_index) -> None:
    def fetch(name: str) -> IndexPage:
        with DatabaseIndexClient(scan_index.url, cache_period=0, retries=0) as client:
            assert client.fetch_many([name])[name].status == "ok"
        return IndexPage.objects.get(name=name)

    first = fetch("six")
    revalidated = fetch("six")  # cache period over: a conditional request, answered 304
    page = scan_index.project_page("six")
    scan_index.add_project(
        "six", [{"filename": f["filename"]} for f in page["files"]] + [{"filename": "six-1.17.0.tar.gz"}]
    )
    uploaded = fetch("six")

    assert scan_index.page_requests("six")[1].headers.get("if-none-match") == first.etag
    assert revalidated.fetched_at > first.fetched_at
    assert (revalidated.changed_at, bytes(revalidated.body), revalidated.etag) == (
        first.changed_at,
        bytes(first.body),
        first.etag,
    )
    assert uploaded.changed_at > first.changed_at
    assert b"six-1.17.0.tar.gz" in bytes(uploaded.body) and uploaded.etag != first.etag
    assert IndexPage.objects.count() == 1


def test_a_page_this_process_parsed_is_not_read_again_until_another_worker_changes_it(scan_index) -> None:
    def fetch(name: str, *, cache_period: float = 3600):
        with CaptureQueriesContext(connection) as queries:
            with DatabaseIndexClient(scan_index.url, cache_period=cache_period, retries=0) as client:
                result = client.fetch_many([name])[name]
                changed = client.cache.changed_at(client.base_url, [name])
        assert result.status == "ok"
        bodies_read = [q["sql"] for q in queries if q["sql"].startswith("SELECT") and '"body"' in q["sql"]]
        return sorted(f.filename for f in result.files.files), changed, bodies_read

    files, changed, _ = fetch("psutil")  # fetched from the index: parsed once here
    again, changed_again, bodies_read = fetch("psutil")  # the next scan in this worker
    assert (again, changed_again, bodies_read) == (files, changed, [])  # the change time is still recorded
    assert len(scan_index.page_requests("psutil")) == 1

    # Another worker's revalidation finds an upload: the page row gets a new body and change time.
    page = scan_index.project_page("psutil")
    scan_index.add_project(
        "psutil",
        [{"filename": f["filename"]} for f in page["files"]]
        + [{"filename": "psutil-9.9.9-cp36-abi3-manylinux_2_17_aarch64.whl"}],
    )
    # (written as another worker process writes it: this process has never parsed the new body)
    row = IndexPage.objects.get(name="psutil")
    response = httpx.get(f"{scan_index.url}psutil/", headers={"Accept": ACCEPT})
    other_worker = DatabaseIndexCache()
    other_worker.put(
        row.index_url,
        "psutil",
        CachedPage(
            body=response.content,
            content_type=response.headers["content-type"],
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
            fetched_at=timezone.now(),
            url=str(response.url),
        ),
    )
    assert other_worker.flush() == 1
    uploaded, changed_now, bodies_read = fetch("psutil")
    assert "psutil-9.9.9-cp36-abi3-manylinux_2_17_aarch64.whl" in uploaded and len(bodies_read) == 1
    assert changed_now["psutil"] > changed["psutil"]


def test_failed_fetches_are_not_cached(scan_index) -> None:
    scan_index.stop()

    with DatabaseIndexClient(scan_index.url, retries=0) as client:
        result = client.fetch_many(["six"])["six"]

    assert result.status == "error" and "cannot reach index" in result.error
    assert not IndexPage.objects.exists()


def test_two_workers_fetching_the_same_packages_send_one_request_each(scan_index) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's; SQLite serialises writers anyway")
    names = ["psutil", "six", "numpy", "requests"]
    scan_index.delay(0.3)  # both clients are in flight at the same time

    def worker(together) -> dict:
        with DatabaseIndexClient(scan_index.url, retries=0) as client:
            together()
            return {n: r.status for n, r in client.fetch_many(names).items()}

    answers = in_two_sessions(worker)
    assert answers == [dict.fromkeys(names, "ok")] * 2
    assert sorted(r.path for r in scan_index.page_requests()) == sorted(f"/simple/{n}/" for n in names)
    assert IndexPage.objects.count() == 4
