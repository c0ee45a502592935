"""The index client against a real local index serving recorded pages."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import httpx
import pytest
from packaging.version import Version
from pypi_simple import PYPI_SIMPLE_ENDPOINT

from scanners.index import (
    ACCEPT,
    CachedPage,
    FileIndexCache,
    IndexClient,
    MemoryIndexCache,
    ProjectResult,
    default_index_url,
    parse_project_page,
)
from tests.support.index_server import FixtureIndexServer

FAST = {"backoff": 0.001, "timeout": 5.0}


class SleepRecorder:
    """Records the waits the client asks for instead of sleeping (no test waits on a clock)."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def _comparable(result: ProjectResult, base: str) -> list[tuple]:
    assert result.files is not None, result.error
    return sorted(
        (f.filename, f.url.replace(base, "BASE/") if f.url else None, f.requires_python, f.yanked, f.sha256)
        for f in result.files.files
    )


@pytest.mark.parametrize("project", ["psutil", "numpy", "requests", "pyyaml", "cryptography", "six"])
def test_json_and_html_pages_give_the_same_files(make_fixture_index, project: str) -> None:
    json_index, html_index = make_fixture_index(mode="json"), make_fixture_index(mode="html")
    with IndexClient(json_index.url, **FAST) as a, IndexClient(html_index.url, **FAST) as b:
        from_json, from_html = a.fetch_project(project), b.fetch_project(project)
    assert from_json.status == from_html.status == "ok"
    assert _comparable(from_json, json_index.base_url) == _comparable(from_html, html_index.base_url)
    # PEP 700 fields only exist in JSON: that is how we know which format was parsed.
    assert all(f.upload_time is not None for f in from_json.files.files)
    assert all(f.upload_time is None for f in from_html.files.files)
    assert json_index.page_requests()[0].headers["accept"] == ACCEPT


def test_both_mode_negotiates_json_for_the_client(fixture_index: FixtureIndexServer) -> None:
    with IndexClient(fixture_index.url, **FAST) as client:
        result = client.fetch_project("orjson")
    assert result.status == "ok"
    assert {str(v) for v in result.files.versions()} == {"3.9.15", "3.10.7"}
    assert all(isinstance(f.upload_time, dt.datetime) for f in result.files.files)


@pytest.mark.parametrize("mode", ["json", "html"])
@pytest.mark.parametrize(
    ("project", "filename", "requires_python", "yanked"),
    [
        (
            "requests",
            "requests-2.32.0-py3-none-any.whl",
            ">=3.8",
            "Yanked due to conflicts with CVE-2024-35195 mitigation",
        ),
        ("requests", "requests-2.32.3-py3-none-any.whl", ">=3.8", False),
        ("numpy", "numpy-2.2.6.tar.gz", ">=3.10", False),
        ("numpy", "numpy-1.21.0.zip", ">=3.7", False),
        (
            "pyyaml",
            "PyYAML-6.0.2rc1-cp312-cp312-musllinux_1_1_x86_64.whl",
            ">=3.6",
            "incorrect python_requires (included EOL Pythons)",
        ),
        ("six", "six-1.16.0-py2.py3-none-any.whl", ">=2.7, !=3.0.*, !=3.1.*, !=3.2.*", False),
        (
            "filprofiler",
            "filprofiler-2022.5.0-cp39-cp39-manylinux_2_12_x86_64.manylinux2010_x86_64.whl",
            ">=3.7",
            False,
        ),
    ],
)
def test_requires_python_and_yanked_are_kept(
    make_fixture_index, mode, project, filename, requires_python, yanked
) -> None:
    index = make_fixture_index(mode=mode)
    with IndexClient(index.url, **FAST) as client:
        result = client.fetch_project(project)
    by_name = {f.filename: f for f in result.files.files}
    f = by_name[filename]
    assert (f.requires_python, f.yanked) == (requires_python, yanked)
    served = {x["filename"]: x for x in index.project_page(project)["files"]}
    assert f.sha256 == served[filename]["hashes"]["sha256"]
    assert f.url == index.files_url + filename


@pytest.mark.parametrize("mode", ["json", "html"])
def test_yank_without_reason_is_an_empty_reason(make_fixture_index, mode: str) -> None:
    index = make_fixture_index(mode=mode)
    index.add_project(
        "Tiny_Pkg",
        [
            {"filename": "tiny_pkg-1.0-py3-none-any.whl", "yanked": True},
            {"filename": "tiny_pkg-1.1-py3-none-any.whl", "requires-python": "<3.9"},
        ],
    )
    with IndexClient(index.url, **FAST) as client:
        result = client.fetch_project("tiny.pkg")
    assert result.name == "tiny-pkg"
    assert [(str(f.version), f.yanked, f.requires_python) for f in result.files.files] == [
        ("1.0", "", None),
        ("1.1", False, "<3.9"),
    ]


def test_unknown_project_is_not_found_without_retries(make_fixture_index) -> None:
    index = make_fixture_index()
    sleeps = SleepRecorder()
    with IndexClient(index.url, sleep=sleeps, **FAST) as client:
        result = client.fetch_project("no-such-package-here")
    assert result.status == "not_found"
    assert result.files is None
    assert "no-such-package-here" in result.error and "404" in result.error
    assert len(index.page_requests()) == 1
    assert sleeps.calls == []


def test_invalid_name_is_an_error_without_a_request(make_fixture_index) -> None:
    index = make_fixture_index()
    with IndexClient(index.url, **FAST) as client:
        result = client.fetch_project("../etc/passwd")
    assert result.status == "error" and "not a valid project name" in result.error
    assert index.requests == []


def test_503_twice_then_ok_is_retried(make_fixture_index) -> None:
    index = make_fixture_index()
    index.fail("psutil", status=503, times=2)
    sleeps = SleepRecorder()
    with IndexClient(index.url, sleep=sleeps, **FAST) as client:
        result = client.fetch_project("psutil")
    assert result.status == "ok"
    assert Version("5.9.8") in result.files.versions()
    assert len(index.page_requests("psutil")) == 3
    assert len(sleeps.calls) == 2
    assert sleeps.calls[1] > sleeps.calls[0] * 0.3  # exponential backoff with jitter, never zero


@pytest.mark.parametrize(("retry_after", "cap", "expected"), [(2, 60.0, 2.0), (120, 5.0, 5.0), (0, 60.0, 0.0)])
def test_429_honours_retry_after_capped(make_fixture_index, retry_after, cap, expected) -> None:
    index = make_fixture_index()
    index.fail("six", status=429, times=1, retry_after=retry_after)
    sleeps = SleepRecorder()
    with IndexClient(index.url, sleep=sleeps, max_retry_after=cap, **FAST) as client:
        result = client.fetch_project("six")
    assert result.status == "ok"
    assert sleeps.calls == [expected]
    assert len(index.page_requests("six")) == 2


def test_exhausted_retries_give_an_error_result(make_fixture_index) -> None:
    index = make_fixture_index()
    index.fail("six", status=500, times=10)
    sleeps = SleepRecorder()
    with IndexClient(index.url, sleep=sleeps, retries=2, **FAST) as client:
        result = client.fetch_project("six")
    assert result.status == "error" and result.files is None
    assert "HTTP 500" in result.error and "3 attempts" in result.error
    assert "\n" not in result.error
    assert len(index.page_requests("six")) == 3


def test_dead_index_is_an_error_result_not_an_exception(make_fixture_index) -> None:
    index = make_fixture_index()
    url = index.url
    index.stop()
    sleeps = SleepRecorder()
    with IndexClient(url, sleep=sleeps, retries=2, **FAST) as client:
        results = client.fetch_many(["psutil", "numpy"])
    assert {r.status for r in results.values()} == {"error"}
    assert "cannot reach index" in results["psutil"].error
    assert "127.0.0.1" in results["psutil"].error


def test_timeout_is_an_error_result(make_fixture_index) -> None:
    index = make_fixture_index()
    index.delay(3.0, project="six")
    with IndexClient(index.url, retries=1, backoff=0.001, timeout=0.2, sleep=SleepRecorder()) as client:
        result = client.fetch_project("six")
    index.delay(0)
    assert result.status == "error"
    assert "timed out" in result.error


def test_fetch_many_makes_one_request_per_distinct_project(make_fixture_index) -> None:
    index = make_fixture_index()
    spellings = [
        "psutil",
        "PSUTIL",
        "numpy",
        "NumPy",
        "cryptography",
        "orjson",
        "pydantic_core",
        "Pydantic-Core",
        "grpcio",
        "psycopg2",
        "psycopg2-binary",
        "psycopg2_binary",
        "psycopg-binary",
        "filprofiler",
        "tensorflow-macos",
        "tensorflow.macos",
        "charset_normalizer",
        "PyYAML",
        "pyyaml",
        "requests",
        "six",
        "Pillow",
        "lxml",
        "MarkupSafe",
        "cffi",
        "greenlet",
        "backports.zoneinfo",
        "zope.interface",
        "nonexistent-pkg",
        "Nonexistent_Pkg",
    ]
    assert len(spellings) == 30
    progress: list[tuple[int, int]] = []
    with IndexClient(index.url, max_concurrency=4, **FAST) as client:
        results = client.fetch_many(spellings, progress=lambda done, total: progress.append((done, total)))
        again = client.fetch_project("Psutil")
    distinct = {r.name for r in results.values()}
    assert len(distinct) == 23
    requested = sorted(r.path for r in index.page_requests())
    assert len(requested) == 23 and len(set(requested)) == 23
    assert progress[-1] == (23, 23) and len(progress) == 23
    assert results["PyYAML"] is results["pyyaml"]
    assert results["backports-zoneinfo"].status == "ok"
    assert results["nonexistent-pkg"].status == "not_found"
    assert again is results["psutil"]  # memoised: no 24th request
    assert len(index.page_requests()) == 23


def test_fetch_many_of_nothing() -> None:
    with IndexClient("http://127.0.0.1:9/simple/") as client:
        assert client.fetch_many([]) == {}


@pytest.fixture(params=["memory", "file"])
def cache(request, tmp_path: Path):
    return MemoryIndexCache() if request.param == "memory" else FileIndexCache(tmp_path / "index-cache")


def test_within_cache_period_no_request(make_fixture_index, cache) -> None:
    index = make_fixture_index()
    with IndexClient(index.url, cache=cache, cache_period=3600, **FAST) as first:
        fresh = first.fetch_project("lxml")
    index.clear_requests()
    with IndexClient(index.url, cache=cache, cache_period=3600, **FAST) as second:
        cached = second.fetch_project("lxml")
    assert fresh.from_cache is False and cached.from_cache is True
    assert cached.files.files == fresh.files.files
    assert index.requests == []


def test_expired_cache_revalidates_with_304(make_fixture_index, cache) -> None:
    index = make_fixture_index()
    with IndexClient(index.url, cache=cache, **FAST) as first:
        fresh = first.fetch_project("bcrypt")
    before = cache.get(index.url, "bcrypt")
    index.clear_requests()
    with IndexClient(index.url, cache=cache, cache_period=0, **FAST) as second:
        revalidated = second.fetch_project("bcrypt")
    [request] = index.page_requests("bcrypt")
    assert request.headers["if-none-match"] == before.etag
    assert request.headers["if-modified-since"] == before.last_modified
    assert revalidated.status == "ok" and revalidated.from_cache is True
    assert revalidated.files.files == fresh.files.files
    assert cache.get(index.url, "bcrypt").fetched_at > before.fetched_at


def test_expired_cache_of_a_changed_project_is_refetched(make_fixture_index) -> None:
    index = make_fixture_index()
    cache = MemoryIndexCache()
    index.add_project("newpkg", [{"filename": "newpkg-1.0.tar.gz"}])
    with IndexClient(index.url, cache=cache, **FAST) as first:
        assert [str(v) for v in first.fetch_project("newpkg").files.versions()] == ["1.0"]
    index.add_project("newpkg", [{"filename": "newpkg-1.0.tar.gz"}, {"filename": "newpkg-2.0-py3-none-any.whl"}])
    with IndexClient(index.url, cache=cache, cache_period=0, **FAST) as second:
        result = second.fetch_project("newpkg")
    assert result.from_cache is False
    assert [str(v) for v in result.files.versions()] == ["1.0", "2.0"]


def test_dead_index_falls_back_to_a_stale_cached_page(make_fixture_index) -> None:
    index = make_fixture_index()
    cache = MemoryIndexCache()
    with IndexClient(index.url, cache=cache, **FAST) as first:
        first.fetch_project("uvloop")
    index.stop()
    with IndexClient(index.url, cache=cache, cache_period=0, retries=0, **FAST) as second:
        result = second.fetch_project("uvloop")
    assert result.status == "ok" and result.from_cache is True
    assert "cannot reach index" in result.warning and "using the page cached at" in result.warning


def test_file_cache_ignores_a_corrupt_entry(tmp_path: Path) -> None:
    cache = FileIndexCache(tmp_path)
    page = CachedPage(b"{}", "application/vnd.pypi.simple.v1+json", '"x"', None, dt.datetime.now(dt.UTC))
    cache.put("http://idx/simple/", "six", page)
    assert cache.get("http://idx/simple/", "six") == page
    [body] = tmp_path.rglob("six.body")
    body.write_bytes(b"torn")
    assert cache.get("http://idx/simple/", "six") is None
    assert cache.get("http://idx/simple/", "other") is None


@pytest.mark.parametrize(
    ("content_type", "body", "message"),
    [
        ("application/octet-stream", b"x", "unsupported content type"),
        ("", b"x", "unsupported content type"),
        ("application/vnd.pypi.simple.v1+json", b"{not json", "malformed JSON page"),
        (
            "application/vnd.pypi.simple.v1+json",
            b'{"meta": {"api-version": "1.0"}, "name": "x"}',
            "malformed JSON page",
        ),
        (
            "application/vnd.pypi.simple.v1+json",
            b'{"meta": {"api-version": "9.0"}, "name": "x", "files": []}',
            "malformed JSON page",
        ),
    ],
)
def test_parse_rejects_bad_pages_with_a_reason(content_type: str, body: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_project_page("x", body, content_type, url="http://idx/simple/x/")


def test_parse_html_resolves_relative_urls() -> None:
    html = (
        b'<html><body><a href="../../files/x-1.0.tar.gz#sha256=abc" data-requires-python="&gt;=3.8">'
        b"x-1.0.tar.gz</a></body></html>"
    )
    files, status = parse_project_page("X", html, "text/html; charset=utf-8", url="http://idx/simple/x/")
    [f] = files.files
    assert (f.url, f.sha256, f.requires_python, files.name, status) == (
        "http://idx/files/x-1.0.tar.gz",
        "abc",
        ">=3.8",
        "x",
        None,
    )


def test_a_shared_httpx_client_is_used_and_left_open(make_fixture_index) -> None:
    index = make_fixture_index()
    with httpx.Client() as http:
        with IndexClient(index.url, http=http, **FAST) as client:
            assert client.fetch_project("cffi").status == "ok"
        assert not http.is_closed


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("env", "files", "expected"),
    [
        ({"READINESS_INDEX_URL": "http://r/simple/", "PIP_INDEX_URL": "http://p/simple/"}, {}, "http://r/simple/"),
        (
            {"PIP_INDEX_URL": "http://p/simple/"},
            {"env": "[global]\nindex-url = http://c/simple/\n"},
            "http://p/simple/",
        ),
        ({"READINESS_INDEX_URL": "  "}, {}, PYPI_SIMPLE_ENDPOINT),
        ({}, {"env": "[global]\nindex-url = http://env-file/simple/\n"}, "http://env-file/simple/"),
        ({}, {"env": "[global]\nindex_url = http://underscore/simple/\n"}, "http://underscore/simple/"),
        ({}, {"env": "[global]\nindex-url = http://g/\n[install]\nindex-url = http://i/\n"}, "http://i/"),
        ({}, {"user": "[global]\nindex-url = http://user/simple/\n"}, "http://user/simple/"),
        ({}, {"legacy": "[global]\nindex-url = http://legacy/simple/\n"}, "http://legacy/simple/"),
        # The XDG user file overrides the legacy one, the site file overrides both, PIP_CONFIG_FILE wins.
        (
            {},
            {"legacy": "[global]\nindex-url = http://legacy/\n", "user": "[global]\nindex-url = http://user/\n"},
            "http://user/",
        ),
        (
            {},
            {"user": "[global]\nindex-url = http://user/\n", "site": "[global]\nindex-url = http://site/\n"},
            "http://site/",
        ),
        (
            {},
            {"site": "[global]\nindex-url = http://site/\n", "env": "[global]\nindex-url = http://env/\n"},
            "http://env/",
        ),
        # An existing PIP_CONFIG_FILE hides user files, as in pip.
        ({}, {"user": "[global]\nindex-url = http://user/\n", "env": "[global]\ntimeout = 5\n"}, PYPI_SIMPLE_ENDPOINT),
        ({}, {"xdg_global": "[global]\nindex-url = http://global/\n"}, "http://global/"),
        ({}, {"env": "this is [not an ini file\n"}, PYPI_SIMPLE_ENDPOINT),
        ({}, {"env": "[global]\nextra-index-url = http://extra/\n"}, PYPI_SIMPLE_ENDPOINT),
        ({}, {}, PYPI_SIMPLE_ENDPOINT),
    ],
)
def test_default_index_url_precedence(tmp_path: Path, env: dict, files: dict, expected: str) -> None:
    home, xdg_dirs, prefix = tmp_path / "home", tmp_path / "etc-xdg", tmp_path / "venv"
    locations = {
        "env": tmp_path / "pip-env.conf",
        "user": home / ".config" / "pip" / "pip.conf",
        "legacy": home / ".pip" / "pip.conf",
        "site": prefix / "pip.conf",
        "xdg_global": xdg_dirs / "pip" / "pip.conf",
    }
    environ = {"HOME": str(home), "XDG_CONFIG_DIRS": str(xdg_dirs), **env}
    for kind, text in files.items():
        _write(locations[kind], text)
    if "env" in files:
        environ["PIP_CONFIG_FILE"] = str(locations["env"])
    assert default_index_url(environ, prefix=str(prefix)) == expected


def test_pip_config_file_devnull_disables_every_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _write(home / ".config" / "pip" / "pip.conf", "[global]\nindex-url = http://user/\n")
    environ = {"HOME": str(home), "XDG_CONFIG_DIRS": str(tmp_path / "none"), "PIP_CONFIG_FILE": os.devnull}
    assert default_index_url(environ, prefix=None) == PYPI_SIMPLE_ENDPOINT
