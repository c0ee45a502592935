"""The rule for reusing an answer, on its provenance: each page as read, and the metadata it lacked."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from readiness.models import CoreMetadata, ImagePlatformsCache, IndexPage, Scan
from readiness.services.index_cache import DatabaseIndexCache
from readiness.services.organisation import organisation_scan
from readiness.services.unchanged import answer_still_good, current_inputs
from scanners import ANALYSER_VERSION
from tests.readiness.scan_support import repo_row
from tests.scanners.git_helpers import make_repo

READ_AT = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)


class _Index:
    """The index side of the rule: pages already in the database, fresh (no request needed)."""

    base_url = "https://index.test/simple/"

    def __init__(self) -> None:
        self.cache = DatabaseIndexCache()
        self.refreshed: list[str] = []

    def refresh(self, names) -> int:
        self.refreshed.extend(sorted(names))
        return 0


def _answer(repo, provenance: dict) -> Scan:
    return Scan.objects.create(
        repo=repo,
        state=Scan.State.DONE,
        commit="a" * 40,
        analyser_version=ANALYSER_VERSION,
        finished_at=timezone.now(),
        provenance=provenance,
    )


def _page(name: str, changed_at: dt.datetime) -> IndexPage:
    return IndexPage.objects.create(
        index_url=_Index.base_url,
        name=name,
        body=b"{}",
        content_type="application/vnd.pypi.simple.v1+json",
        fetched_at=timezone.now(),
        changed_at=changed_at,
    )


def _still_good(scan: Scan, index: _Index | None = None) -> bool:
    index = index or _Index()
    now = current_inputs([scan], index)
    assert now is not None
    assert index.refreshed == sorted(scan.provenance.get("pages", ()))  # only the pages it read
    return answer_still_good(scan, now)


def test_an_answer_is_good_while_every_page_it_read_is_as_it_read_it(db, tmp_path):
    repo = repo_row("svc", make_repo(tmp_path, {"requirements.txt": "six==1.16.0\n"}))
    page = _page("six", READ_AT)
    scan = _answer(repo, {"pages": {"six": {"used_for": "files", "changed_at": READ_AT.isoformat()}}})
    assert _still_good(scan)
    page.changed_at = READ_AT + dt.timedelta(seconds=1)
    page.save()
    assert not _still_good(scan)


def test_a_page_another_repo_fetched_later_is_no_news_to_an_answer_that_never_read_it(db, tmp_path):
    """The poetry/uv case: their wheels came from the lock; pages other scans fetch do not matter."""
    repo = repo_row("svc", make_repo(tmp_path, {"poetry.lock": ""}))
    scan = _answer(repo, {"pages": {}, "missing_metadata": []})
    _page("django", timezone.now())  # fetched after the answer, by some other repo's scan
    assert _still_good(scan)


def test_an_advice_page_the_index_lacked_is_good_until_it_appears(db, tmp_path):
    repo = repo_row("svc", make_repo(tmp_path, {"poetry.lock": ""}))
    scan = _answer(repo, {"pages": {"inhouse": {"used_for": "advice", "changed_at": None}}})
    assert _still_good(scan)
    _page("inhouse", timezone.now())
    assert not _still_good(scan)


def test_metadata_the_answer_lacked_turning_up_makes_it_stale(db, tmp_path):
    repo = repo_row("svc", make_repo(tmp_path, {"requirements.txt": ""}))
    scan = _answer(repo, {"pages": {}, "missing_metadata": ["sha256:" + "b" * 64]})
    assert _still_good(scan)
    CoreMetadata.objects.create(key="sha256:" + "b" * 64, body=b"x")
    assert not _still_good(scan)


SLIM = ["docker.io", "library/python", "3.12-slim"]


def _image_row(digest: str = "", *, failed_ago: dt.timedelta | None = None, host: bool = False) -> None:
    ImagePlatformsCache.objects.create(
        registry="docker.io",
        repository="" if host else "library/python",
        reference="" if host else "3.12-slim",
        platforms=["linux/amd64", "linux/arm64"] if digest else [],
        digest=digest,
        fetched_at=timezone.now() if digest else None,
        error="HTTP 503" if failed_ago is not None else "",
        failed_at=timezone.now() - failed_ago if failed_ago is not None else None,
    )


def test_a_base_image_answer_holds_until_its_digest_changes(db, tmp_path):
    repo = repo_row("svc", make_repo(tmp_path, {"Dockerfile": "FROM python:3.12-slim\n"}))
    image = {"key": SLIM, "digest": "sha256:" + "1" * 64, "failed": False}
    scan = _answer(repo, {"pages": {}, "images": {"python:3.12-slim": image}})
    assert _still_good(scan)  # no cache entry: nothing says it changed
    _image_row("sha256:" + "1" * 64)
    assert _still_good(scan)
    ImagePlatformsCache.objects.update(digest="sha256:" + "2" * 64)  # the tag moved to a new image
    assert not _still_good(scan)


def test_an_answer_the_registry_could_not_give_holds_only_while_the_failure_is_remembered(db, tmp_path, settings):
    settings.READINESS_REGISTRY_FAILURE_SECONDS = 600
    repo = repo_row("svc", make_repo(tmp_path, {"Dockerfile": "FROM python:3.12-slim\n"}))
    scan = _answer(repo, {"pages": {}, "images": {"python:3.12-slim": {"key": SLIM, "digest": None, "failed": True}}})
    _image_row(failed_ago=dt.timedelta(minutes=5))
    assert _still_good(scan)
    ImagePlatformsCache.objects.update(failed_at=timezone.now() - dt.timedelta(minutes=11))
    assert not _still_good(scan)  # the registry is worth asking again: so is the answer
    _image_row(failed_ago=dt.timedelta(minutes=1), host=True)  # unless its host's breaker is open
    assert _still_good(scan)


def test_an_answer_without_provenance_is_analysed_again(db, tmp_path):
    """Scans stored before provenance was kept have none: analysed once more, never guessed at."""
    repo = repo_row("svc", make_repo(tmp_path, {"requirements.txt": ""}))
    assert not _still_good(_answer(repo, {}))


def test_the_second_organisation_scan_settles_a_repo_that_locks_its_own_files(
    db, tmp_path, scan_index, django_capture_on_commit_callbacks
):
    """In process: a uv.lock whose wheels all come from the lock is unchanged without any page."""
    uv_lock = """\
version = 1
requires-python = ">=3.11"

[[package]]
name = "six"
version = "1.16.0"
source = { registry = "https://index.test/simple" }
sdist = { url = "https://index.test/files/six-1.16.0.tar.gz", hash = "sha256:1111111111111111111111111111111111111111111111111111111111111111" }
wheels = [
    { url = "https://index.test/files/six-1.16.0-py2.py3-none-any.whl", hash = "sha256:2222222222222222222222222222222222222222222222222222222222222222" },
]
"""
    repo_row("uv-svc", make_repo(tmp_path, {"uv.lock": uv_lock}))
    with django_capture_on_commit_callbacks(execute=True):
        (first,) = organisation_scan(trigger="manual")
    first.refresh_from_db()
    assert (first.state, first.provenance["pages"]) == ("done", {})
    scan_index.clear_requests()
    with django_capture_on_commit_callbacks(execute=True) as queued:
        (second,) = organisation_scan(trigger="manual")
    assert (second.unchanged, len(queued), scan_index.page_requests()) == (True, 0, [])
