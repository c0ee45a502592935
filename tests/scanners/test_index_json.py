"""The index client's own PEP 691 reader agrees with ``pypi_simple`` on every recorded page, and a
page kept parsed on disk (``FileIndexCache.put_files``) comes back as the same files."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest
from pypi_simple import PYPI_SIMPLE_ENDPOINT, ProjectPage

from scanners.distributions import ProjectFiles
from scanners.index import ACCEPT, CachedPage, FileIndexCache, parse_project_page, public_index_url
from scanners.index_pages import _to_file


@pytest.fixture(scope="module")
def json_pages(fixture_index):
    pages = []
    with httpx.Client() as http:
        for name in fixture_index.project_names:
            response = http.get(f"{fixture_index.url}{name}/", headers={"Accept": ACCEPT}, follow_redirects=True)
            assert response.headers["content-type"].startswith("application/vnd.pypi.simple.v1+json")
            pages.append((name, response.content, response.headers["content-type"], str(response.url)))
    assert len(pages) > 20
    return pages


def test_json_pages_parse_as_pypi_simple_parses_them(json_pages):
    files_seen = 0
    for name, body, content_type, url in json_pages:
        ours, status = parse_project_page(name, body, content_type, url=url)
        theirs = ProjectPage.from_json_data(json.loads(body), base_url=url)
        expected = tuple(_to_file(p) for p in theirs.packages)
        assert ours.files == expected, name
        assert [f.upload_time for f in ours.files] == [f.upload_time for f in expected]
        assert status == (theirs.status.value if theirs.status is not None else None)
        files_seen += len(expected)
    assert files_seen > 500


def test_a_malformed_json_page_is_an_error_not_a_crash():
    with pytest.raises(ValueError, match="malformed JSON page"):
        parse_project_page(
            "x",
            b'{"meta": {"api-version": "1.0"}, "files": [{"filename": 1}]}',
            "application/vnd.pypi.simple.v1+json",
            url="https://index.test/simple/x/",
        )
    with pytest.raises(ValueError, match="malformed JSON page"):
        parse_project_page(
            "x",
            b'{"meta": {"api-version": "2.0"}, "name": "x", "files": []}',
            "application/vnd.pypi.simple.v1+json",
            url="https://index.test/simple/x/",
        )


def test_pages_kept_parsed_come_back_as_the_same_files(tmp_path, json_pages):
    cache = FileIndexCache(tmp_path)
    now = dt.datetime.now(dt.UTC)
    for name, body, content_type, url in json_pages:
        files, status = parse_project_page(name, body, content_type, url=url)
        page = CachedPage(body, content_type, None, None, now, url)
        cache.put("https://index.test/simple/", name, page)
        cache.put_files("https://index.test/simple/", name, page, files, status)
        again, again_status = cache.fresh_files("https://index.test/simple/", name, period=60, now=now)
        assert again_status == status
        assert again.versions() == files.versions()
        for version in files.versions():
            assert again.release(version) == files.release(version)
        assert again.files == files.files
        assert again.rows() == files.rows()
    # Stale, or a different page body than the parsed one: read the page again.
    name, body, content_type, url = json_pages[0]
    assert cache.fresh_files("https://index.test/simple/", name, period=60, now=now + dt.timedelta(minutes=2)) is None
    cache.put("https://index.test/simple/", name, CachedPage(body + b" ", content_type, None, None, now, url))
    assert cache.fresh_files("https://index.test/simple/", name, period=60, now=now) is None


def test_a_big_page_kept_parsed_answers_every_release_in_any_order(tmp_path):
    """A parsed page bigger than the pages the cache lets go of after each read (several MB, as the
    biggest real projects' are): releases read back in any order, twice, from two readers at once,
    and the whole page after them, are the files the page was parsed into."""
    files = [
        {
            "filename": f"big-{major}.{minor}-cp3{py}-cp3{py}-manylinux_2_17_{arch}.whl",
            "url": f"https://files.index.test/packages/{major:02x}/{minor:02x}/big-{major}.{minor}-cp3{py}-{arch}.whl",
            "hashes": {"sha256": f"{major:032x}{minor:016x}{py:08x}{len(arch):08x}"},
            "requires-python": ">=3.8",
            "size": 1000 * major + minor,
            "upload-time": f"2024-0{1 + minor % 9}-1{py % 10}T10:00:00.000000Z",
        }
        for major in range(60)
        for minor in range(50)
        for py in (9, 10, 11, 12)
        for arch in ("x86_64", "aarch64")
    ]
    body = json.dumps({"meta": {"api-version": "1.1"}, "name": "big", "files": files}).encode()
    parsed, _status = parse_project_page(
        "big", body, "application/vnd.pypi.simple.v1+json", url="https://index.test/simple/big/"
    )
    cache = FileIndexCache(tmp_path)
    now = dt.datetime.now(dt.UTC)
    page = CachedPage(body, "application/vnd.pypi.simple.v1+json", None, None, now, "https://index.test/simple/big/")
    cache.put("https://index.test/simple/", "big", page)
    cache.put_files("https://index.test/simple/", "big", page, parsed, None)
    assert next(tmp_path.rglob("big.files")).stat().st_size > 4 << 20
    first, _ = cache.fresh_files("https://index.test/simple/", "big", period=60, now=now)
    second, _ = cache.fresh_files("https://index.test/simple/", "big", period=60, now=now)
    versions = parsed.versions()
    assert len(versions) == 3000
    for i, version in enumerate(reversed(versions)):
        reader = first if i % 2 else second
        assert reader.release(version) == parsed.release(version)
        assert len(reader.release(version)) == 8
    for version in versions[::7]:
        assert first.release(version) == second.release(version) == parsed.release(version)
    assert first.files == parsed.files
    assert second.rows() == parsed.rows()


def test_the_public_index_url_is_pypi_simples_constant():
    assert public_index_url() == PYPI_SIMPLE_ENDPOINT


def test_a_release_keeps_the_spelling_of_its_first_file(tmp_path):
    """1.0 == 1.0.0: both files are one release, named as the page's first file names it (fix versions
    print that name), whether the page was just parsed or read back parsed from the cache."""
    files = [
        {"filename": "pkg-1.0.0-py3-none-any.whl", "url": "pkg-1.0.0-py3-none-any.whl", "hashes": {}},
        {"filename": "pkg-1.0.tar.gz", "url": "pkg-1.0.tar.gz", "hashes": {}},
        {"filename": "other-2.0.tar.gz", "url": "other-2.0.tar.gz", "hashes": {}},
        {"filename": "pkg-2.0.tar.gz", "url": "pkg-2.0.tar.gz", "hashes": {}, "yanked": True},
    ]
    body = json.dumps({"meta": {"api-version": "1.1"}, "name": "pkg", "files": files}).encode()
    parsed, _status = parse_project_page(
        "pkg", body, "application/vnd.pypi.simple.v1+json", url="https://index.test/simple/pkg/"
    )
    eager = ProjectFiles(parsed.name, parsed.files)
    assert [str(v) for v in parsed.versions()] == [str(v) for v in eager.versions()] == ["1.0.0", "2.0"]
    assert [f.filename for f in parsed.release("1.0")] == ["pkg-1.0.0-py3-none-any.whl", "pkg-1.0.tar.gz"]
    assert parsed.release("2.0")[0].yanked == ""
    assert len(parsed.files) == 4  # the other project's file stays on the page, in no release
    cache = FileIndexCache(tmp_path)
    now = dt.datetime.now(dt.UTC)
    page = CachedPage(body, "application/vnd.pypi.simple.v1+json", None, None, now, "https://index.test/simple/pkg/")
    cache.put_files("https://index.test/simple/", "pkg", page, parsed, None)
    cache.put("https://index.test/simple/", "pkg", page)
    again, _ = cache.fresh_files("https://index.test/simple/", "pkg", period=60, now=now)
    assert [str(v) for v in again.versions()] == ["1.0.0", "2.0"]
    assert again.files == parsed.files


@pytest.mark.parametrize(
    "link",
    [
        "https://files.index.test/packages/ab/cd/pkg-1.0-py3-none-any.whl",
        "https://files.index.test/packages/pkg-1.0.tar.gz#sha256=00",
        "https://files.index.test/p?x=1",
        "http://other.test/pkg-1.0.tar.gz",
        "https://files.index.test/a/../pkg.whl",
        "https://files.index.test",
        "../../files/pkg-1.0.tar.gz",
        "/files/pkg-1.0.tar.gz",
        "pkg-1.0.tar.gz",
        "https:///no-host.whl",
    ],
)
def test_file_urls_resolve_as_urljoin_resolves_them(link):
    from urllib.parse import urljoin

    from scanners.index_pages import _join

    base = "https://index.test/simple/pkg/"
    assert _join(base, link) == urljoin(base, link)


@pytest.mark.parametrize(
    "sent", ["2020-11-16T10:50:15.123456Z", "2020-11-16T10:50:15+02:00", "2020-11-16T10:50:15", "2020-11-16"]
)
def test_upload_times_read_back_as_the_same_moment(sent):
    from scanners.index_pages import _upload_time

    kept = dt.datetime.fromisoformat(_upload_time(sent))
    moment = dt.datetime.fromisoformat(sent)
    assert kept == (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC))
    assert kept.tzinfo is not None
