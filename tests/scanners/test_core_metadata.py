"""Old releases whose metadata modern pip refuses: a ``none``, as real pip says.

celery 4.4.7's wheel declares ``Requires-Dist: pytz (>dev)``; pip 24.1 and newer parse it with a
``packaging`` that no longer accepts legacy specifiers and ignore the whole version ("Ignoring
version 4.4.7 of celery since it has invalid metadata"), so an old lock pinning it fails to install.
"""

from __future__ import annotations

import subprocess
import tempfile

import pytest

from scanners.check import TargetDefaults, check_snapshot, is_relevant_path
from scanners.core_metadata import invalid_requirements, required_names
from scanners.git import fetch_snapshot
from scanners.index import IndexClient
from scanners.project_metadata import metadata_reader
from tests.scanners.git_helpers import make_repo
from tests.support.real_pip import PIP_DOWNLOAD, pip_env

OLD = "2020-08-05T10:00:00Z"
CELERY_LIKE = [
    {
        "filename": "oldpin-4.4.7-py2.py3-none-any.whl",
        "upload-time": OLD,
        "x-metadata": ["Requires-Dist: pytz (>dev)", "Requires-Dist: billiard (<4.0,>=3.6.3.0)"],
    },
    {"filename": "oldpin-4.4.7.tar.gz", "upload-time": OLD},
    # Like celery 5.0.0 to 5.2.6: the next releases still declare it; 5.2.7 no longer does.
    {
        "filename": "oldpin-5.0.0-py3-none-any.whl",
        "upload-time": "2020-09-24T10:00:00Z",
        "x-metadata": ["Requires-Dist: pytz (>dev)"],
    },
    {
        "filename": "oldpin-5.2.7-py3-none-any.whl",
        "upload-time": "2022-05-29T10:00:00Z",
        "x-metadata": ["Requires-Dist: pytz>=2021.3"],
    },
]


@pytest.mark.parametrize(
    ("lines", "invalid", "names"),
    [
        (
            ["pytz (>dev)", "billiard (<4.0,>=3.6.3.0)", "redis (>=3.2.0) ; extra == 'redis'"],
            ["pytz (>dev)"],
            {"billiard"},
        ),
        (["foo (>=1.0.*)"], ["foo (>=1.0.*)"], set()),
        (["requests>=2", 'pywin32; sys_platform == "win32"'], [], {"requests", "pywin32"}),
    ],
)
def test_invalid_requirements_and_required_names(lines, invalid, names):
    metadata = (
        "Metadata-Version: 2.1\nName: x\nVersion: 1\n" + "".join(f"Requires-Dist: {line}\n" for line in lines)
    ).encode()
    assert invalid_requirements(metadata) == invalid
    assert required_names(metadata) == names


@pytest.fixture
def index(make_fixture_index):
    server = make_fixture_index()
    server.add_project("oldpin", CELERY_LIKE)
    return server


def test_a_version_with_invalid_metadata_is_none(index, tmp_path):
    import httpx

    repo = make_repo(tmp_path, {"requirements.txt": "oldpin==4.4.7\nsix==1.16.0\n"}, name="svc")
    snapshot = fetch_snapshot(str(repo), wanted=is_relevant_path, cache_dir=tmp_path / "git")
    with IndexClient(index.url) as client, httpx.Client() as http:
        report = check_snapshot(
            snapshot,
            index=client,
            read_metadata=metadata_reader(http),
            defaults=TargetDefaults(python="3.11", libc="glibc:2.36"),
        )
    results = {r.package.name: r for r in report.packages}
    for verdict in results["oldpin"].verdicts.values():
        assert verdict.status == "none"
        assert "invalid requirement 'pytz (>dev)'" in verdict.reason and "pip 24.1 and newer" in verdict.reason
    assert results["six"].verdicts["linux/arm64"].status == "wheel"  # valid metadata: untouched
    assert report.summary["linux/arm64"].blockers == 1
    upgrade = results["oldpin"].advice[0]
    assert (upgrade.kind, upgrade.fix_version) == ("upgrade", "5.2.7")  # 5.0.0 would be ignored too
    assert results["oldpin"].fix_version == "5.2.7"


def test_without_a_metadata_reader_nothing_is_read(index, tmp_path):
    repo = make_repo(tmp_path, {"requirements.txt": "oldpin==4.4.7\n"}, name="svc")
    snapshot = fetch_snapshot(str(repo), wanted=is_relevant_path, cache_dir=tmp_path / "git")
    with IndexClient(index.url) as client:
        report = check_snapshot(snapshot, index=client, defaults=TargetDefaults(python="3.11", libc="glibc:2.36"))
    assert report.packages[0].verdicts["linux/arm64"].status == "wheel"
    assert not [r for r in index.requests if r.path.endswith(".metadata")]


@pytest.mark.slow
def test_real_pip_ignores_that_version(index):
    env = pip_env()
    with tempfile.TemporaryDirectory() as dest:
        proc = subprocess.run(
            [
                *PIP_DOWNLOAD,
                "-d",
                dest,
                "--index-url",
                index.url,
                "--only-binary=:all:",
                "--python-version",
                "3.11",
                "--implementation",
                "cp",
                "--platform",
                "manylinux_2_36_aarch64",
                "oldpin==4.4.7",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
    assert proc.returncode != 0
    assert "Ignoring version 4.4.7 of oldpin since it has invalid metadata" in proc.stderr
    assert "No matching distribution found for oldpin==4.4.7" in proc.stderr


@pytest.mark.parametrize(
    "body",
    [
        b"Metadata-Version: 2.1\nName: a\nVersion: 1\nRequires-Dist: six (>=1.0)\nRequires-Dist: pytz (>dev)\n\nlong\nRequires-Dist: not-a-header\n",
        "Metadata-Version: 2.1\nName: a\nAuthor: Jos\u00e9\nRequires-Dist: caf\u00e9-lib>=1\n\n\u00e9t\u00e9\n".encode(),
        b"Metadata-Version: 2.1\nName: a\nRequires-Dist: b;\n  python_version < '3'\n\n",
        b"",
    ],
    ids=["ascii", "utf-8", "folded", "empty"],
)
def test_requires_dist_is_read_from_the_headers_as_parse_email_reads_it(body):
    from packaging.metadata import parse_email

    from scanners.core_metadata import _requires_dist

    raw, _unparsed = parse_email(body)
    assert _requires_dist(body) == [line.strip() for line in raw.get("requires_dist", [])]
