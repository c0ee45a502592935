"""The database cache of release files' core metadata: fetched once, for every scan and worker."""

from __future__ import annotations

import pytest

from readiness.models import CoreMetadata
from readiness.services.metadata_cache import DatabaseMetadataReader
from scanners.distributions import DistributionFile

pytestmark = pytest.mark.django_db


def _file(name: str, sha: str | None = None) -> DistributionFile:
    return DistributionFile(name, url=f"https://index.test/files/{name}#sha256=x", sha256=sha)


def test_each_file_is_fetched_once_then_read_from_the_database():
    fetched: list[str] = []

    def fetch(f: DistributionFile) -> bytes | None:
        fetched.append(f.filename)
        return None if f.filename.startswith("none") else f"Name: {f.filename}\n".encode()

    files = [_file("a-1-py3-none-any.whl", "aa"), _file("b-1-py3-none-any.whl"), _file("none-1-py3-none-any.whl", "cc")]
    first = DatabaseMetadataReader(fetch).read_many(files)
    assert first == {
        "a-1-py3-none-any.whl": b"Name: a-1-py3-none-any.whl\n",
        "b-1-py3-none-any.whl": b"Name: b-1-py3-none-any.whl\n",
        "none-1-py3-none-any.whl": None,
    }
    assert sorted(CoreMetadata.objects.values_list("key", flat=True)) == [
        "https://index.test/files/b-1-py3-none-any.whl",
        "sha256:aa",  # no digest: keyed by the URL without fragment
    ]
    # A new reader (another scan, another worker): stored bodies come from the database; a file
    # without metadata is asked again, never remembered as having none.
    fetched.clear()
    second = DatabaseMetadataReader(fetch)
    assert second(files[0]) == b"Name: a-1-py3-none-any.whl\n"
    assert second.read_many(files) == first
    assert fetched == ["none-1-py3-none-any.whl"]
