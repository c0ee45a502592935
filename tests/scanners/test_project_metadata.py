"""Project URLs from PEP 658 core metadata, on a real local index (JSON and HTML pages)."""

from __future__ import annotations

import httpx
import pytest

from scanners.project_metadata import fetch_project_metadata, parse_core_metadata

META = [
    "Project-URL: Bug Tracker, https://github.com/o/r/issues",
    "Project-URL: Source, https://github.com/o/r",
    "Home-page: https://r.example.test/",
]


@pytest.mark.parametrize("mode", ["json", "html"])
def test_newest_release_metadata(make_fixture_index, mode):
    index = make_fixture_index(mode=mode)
    index.add_project(
        "meta-demo",
        [
            {"filename": "meta_demo-1.0-py3-none-any.whl"},
            {"filename": "meta_demo-2.0-py3-none-any.whl", "x-metadata": META},
            {"filename": "meta_demo-2.0.tar.gz"},
            {"filename": "meta_demo-3.0b1-py3-none-any.whl"},  # a pre-release is not the newest release
            {"filename": "meta_demo-2.5-py3-none-any.whl", "yanked": "broken"},
        ],
    )
    index.clear_requests()
    with httpx.Client() as http:
        meta = fetch_project_metadata("Meta_Demo", index_url=index.url, http=http)
    assert meta.error == ""
    assert (meta.name, meta.version) == ("meta-demo", "2.0")
    assert meta.project_urls == (("Bug Tracker", "https://github.com/o/r/issues"), ("Source", "https://github.com/o/r"))
    assert meta.home_page == "https://r.example.test/"
    assert [r.path for r in index.requests][-1] == "/files/meta_demo-2.0-py3-none-any.whl.metadata"


@pytest.mark.parametrize(
    ("status", "files", "error"),
    [
        ("missing", [], "answered HTTP 404"),
        ("sdist-only", [{"filename": "sdist_only-1.0.tar.gz"}], "serves no core metadata"),
    ],
)
def test_errors_are_answers(make_fixture_index, status, files, error):
    index = make_fixture_index()
    if files:
        index.add_project(status, files)
    with httpx.Client() as http:
        meta = fetch_project_metadata(status, index_url=index.url, http=http)
    assert error in meta.error
    assert meta.project_urls == ()


def test_dead_index(make_fixture_index):
    index = make_fixture_index()
    index.stop()
    with httpx.Client() as http:
        meta = fetch_project_metadata("six", index_url=index.url, http=http, timeout=2)
    assert meta.error.startswith("cannot read the metadata of six")


@pytest.mark.parametrize(
    ("text", "urls", "home"),
    [
        (
            b"Name: x\nProject-URL: Issues, https://a.test/i\nProject-URL: https://b.test\n",
            (("Issues", "https://a.test/i"), ("", "https://b.test")),
            "",
        ),
        (b"Name: x\nHome-page: UNKNOWN\n", (), ""),
        (b"\xff\xfe garbage", (), ""),
    ],
)
def test_parse_core_metadata(text, urls, home):
    assert parse_core_metadata(text) == (urls, home)


def test_nul_characters_are_dropped_from_urls_and_home_page() -> None:
    data = b"Metadata-Version: 2.1\nName: odd\nProject-URL: Iss\x00ues, https://example.test/is\x00sues\nHome-page: https://example.test/\x00home\n\n"
    assert parse_core_metadata(data) == ((("Issues", "https://example.test/issues"),), "https://example.test/home")
