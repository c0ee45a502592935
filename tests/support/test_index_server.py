"""The fixture index itself: it must behave like a real index, or client tests prove nothing."""

from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.support.index_server import FixtureIndexServer, negotiate
from tests.support.real_pip import PIP_DOWNLOAD, pip_env

JSON = "application/vnd.pypi.simple.v1+json"
PIP_ACCEPT = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.1, text/html;q=0.01"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (PIP_ACCEPT, JSON),
        ("text/html", "text/html"),
        ("application/vnd.pypi.simple.v1+html", "application/vnd.pypi.simple.v1+html"),
        ("application/vnd.pypi.simple.v1+json;q=0.1, text/html;q=0.5", "text/html"),
        ("application/vnd.pypi.simple.v1+html;q=0.5, application/vnd.pypi.simple.v1+json;q=0.5", JSON),
        ("*/*", JSON),
        ("text/*", "text/html"),
        ("application/json", None),
        ("application/vnd.pypi.simple.v1+json;q=0", None),
        (None, JSON),
    ],
)
def test_negotiation_honours_q_values(accept, expected) -> None:
    assert negotiate(accept) == expected


@pytest.mark.parametrize(
    ("mode", "accept", "status", "content_type"),
    [
        ("both", PIP_ACCEPT, 200, JSON),
        ("both", "text/html", 200, "text/html; charset=utf-8"),
        ("both", "application/json", 406, None),
        ("json", PIP_ACCEPT, 200, JSON),
        ("json", "text/html", 404, None),
        ("html", PIP_ACCEPT, 200, "text/html; charset=utf-8"),
        ("html", "text/html", 200, "text/html; charset=utf-8"),
    ],
)
def test_modes(make_fixture_index, mode, accept, status, content_type) -> None:
    index = make_fixture_index(mode=mode)
    r = httpx.get(index.url + "six/", headers={"Accept": accept})
    assert r.status_code == status
    if content_type:
        assert r.headers["content-type"] == content_type
        assert "six-1.16.0-py2.py3-none-any.whl" in r.text
        assert index.files_url in r.text and "index.test" not in r.text


@pytest.mark.parametrize("spelling", ["PyYAML", "py_yaml", "pyyaml"])
def test_non_canonical_names_redirect(fixture_index: FixtureIndexServer, spelling: str) -> None:
    r = httpx.get(fixture_index.url + spelling, headers={"Accept": JSON})
    assert (r.status_code, r.headers["location"]) == (
        301,
        f"/simple/{'py-yaml' if spelling == 'py_yaml' else 'pyyaml'}/",
    )


def test_root_listing_and_unknown_project(fixture_index: FixtureIndexServer) -> None:
    root = httpx.get(fixture_index.url, headers={"Accept": JSON}).json()
    names = {p["name"] for p in root["projects"]}
    assert {"psutil", "numpy", "filprofiler", "tensorflow-macos"} <= names and len(names) >= 25
    assert httpx.get(fixture_index.url + "not-a-project/", headers={"Accept": JSON}).status_code == 404


def test_html_page_carries_pep_503_592_658_attributes(fixture_index: FixtureIndexServer) -> None:
    text = httpx.get(fixture_index.url + "requests/", headers={"Accept": "text/html"}).text
    line = next(x for x in text.splitlines() if ">requests-2.32.0-py3-none-any.whl<" in x)
    assert 'data-requires-python="&gt;=3.8"' in line
    assert 'data-yanked="Yanked due to conflicts with CVE-2024-35195 mitigation"' in line
    assert 'data-dist-info-metadata="sha256=' in line and "#sha256=" in line


def test_etag_and_last_modified_give_304(fixture_index: FixtureIndexServer) -> None:
    first = httpx.get(fixture_index.url + "numpy/", headers={"Accept": JSON})
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    again = httpx.get(fixture_index.url + "numpy/", headers={"Accept": JSON, "If-None-Match": etag})
    since = httpx.get(fixture_index.url + "numpy/", headers={"Accept": JSON, "If-Modified-Since": modified})
    other = httpx.get(fixture_index.url + "numpy/", headers={"Accept": JSON, "If-None-Match": '"nope"'})
    assert (again.status_code, again.content, since.status_code, other.status_code) == (304, b"", 304, 200)


def test_synthesised_wheel_matches_its_page(fixture_index: FixtureIndexServer) -> None:
    page = fixture_index.project_page("numpy")
    f = next(x for x in page["files"] if x["filename"] == "numpy-2.2.6-cp312-cp312-musllinux_1_2_aarch64.whl")
    data = httpx.get(f["url"]).content
    assert len(data) == f["size"]
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        metadata = zf.read("numpy-2.2.6.dist-info/METADATA").decode()
        assert "Tag: cp312-cp312-musllinux_1_2_aarch64" in zf.read("numpy-2.2.6.dist-info/WHEEL").decode()
    assert "Requires-Python: >=3.10" in metadata and "Version: 2.2.6" in metadata
    assert httpx.get(f["url"] + ".metadata").text == metadata


@pytest.mark.parametrize(
    ("range_header", "status", "expected"),
    [
        ("bytes=0-3", 206, slice(0, 4)),
        ("bytes=-22", 206, slice(-22, None)),
        ("bytes=10-", 206, slice(10, None)),
        ("bytes=999999-", 416, None),
    ],
)
def test_range_requests_on_files(fixture_index: FixtureIndexServer, range_header, status, expected) -> None:
    url = fixture_index.files_url + "six-1.16.0-py2.py3-none-any.whl"
    whole = httpx.get(url).content
    r = httpx.get(url, headers={"Range": range_header})
    assert r.status_code == status
    if expected is not None:
        assert r.content == whole[expected]
        assert r.headers["content-range"].endswith(f"/{len(whole)}")


def test_faults_are_counted_and_consumed(make_fixture_index) -> None:
    index = make_fixture_index()
    index.fail(status=429, times=1)
    first = httpx.get(index.url + "six/", headers={"Accept": JSON})
    second = httpx.get(index.url + "six/", headers={"Accept": JSON})
    assert (first.status_code, first.headers["retry-after"], second.status_code) == (429, "1", 200)
    assert [r.path for r in index.requests] == ["/simple/six/", "/simple/six/"]
    index.clear_requests()
    assert index.requests == []


@pytest.mark.slow
def test_real_pip_downloads_from_the_fixture_index(make_fixture_index, tmp_path: Path) -> None:
    index = make_fixture_index(mode="both")
    env = pip_env()
    cases = [
        (
            ["psutil==6.0.0", "--only-binary=:all:", "--platform", "manylinux2014_aarch64", "--python-version", "3.11"],
            "psutil-6.0.0-cp36-abi3-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
        ),
        (["psycopg2==2.9.9"], "psycopg2-2.9.9.tar.gz"),  # sdist: pip prepares metadata with the in-tree backend
    ]
    for args, filename in cases:
        proc = subprocess.run(
            [
                *PIP_DOWNLOAD,
                "--index-url",
                index.url,
                "-d",
                str(tmp_path),
                *args,
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert proc.returncode == 0, proc.stderr
        assert (tmp_path / filename).exists()
    # psutil 5.9.8 has no aarch64 wheel and --only-binary forbids the sdist: pip must fail.
    proc = subprocess.run(
        [
            *PIP_DOWNLOAD,
            "--index-url",
            index.url,
            "-d",
            str(tmp_path),
            "psutil==5.9.8",
            "--only-binary=:all:",
            "--platform",
            "manylinux2014_aarch64",
            "--python-version",
            "3.11",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode != 0 and "No matching distribution" in proc.stderr
