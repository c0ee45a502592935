"""Core metadata of release files in the database: each file's ``.metadata`` is fetched once, ever.

Scans read the metadata of old wheels (is it one modern pip refuses?) and of parents' newer
releases ("upgrade the parent"). Across an organisation the same files come up in every repo, so
:class:`DatabaseMetadataReader` answers from :class:`~readiness.models.CoreMetadata` rows first,
fetches the rest in parallel (worker threads do HTTP only, never the database) and stores them.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from readiness.models import CoreMetadata
from scanners.distributions import DistributionFile
from scanners.metadata_cache import metadata_key

__all__ = ["DatabaseMetadataReader", "metadata_key"]

_FETCH_THREADS = 8


class DatabaseMetadataReader:
    """``read(file)`` and ``read_many(files)`` over a fetching reader (``scanners.project_metadata.metadata_reader``).

    Only bodies are stored: a file without metadata, or an index that could not be reached, is
    asked again next time rather than remembered as having none.
    """

    def __init__(self, fetch: Callable[[DistributionFile], bytes | None]) -> None:
        self._fetch = fetch
        self._memo: dict[str, bytes | None] = {}

    def __call__(self, file: DistributionFile) -> bytes | None:
        return self.read_many([file]).get(file.filename)

    def read_many(self, files: Sequence[DistributionFile]) -> dict[str, bytes | None]:
        """``filename -> metadata`` for ``files``: one query for those not yet seen, then the fetches."""
        keyed = {key: f for f in files if (key := metadata_key(f)) is not None}
        wanted = [k for k in keyed if k not in self._memo]
        if wanted:
            for key, body in CoreMetadata.objects.filter(key__in=wanted).values_list("key", "body"):
                self._memo[key] = zlib.decompress(bytes(body))
            missing = [k for k in wanted if k not in self._memo]
            with ThreadPoolExecutor(max_workers=_FETCH_THREADS) as pool:
                fetched = dict(zip(missing, pool.map(lambda k: self._fetch(keyed[k]), missing)))
            CoreMetadata.objects.bulk_create(
                [CoreMetadata(key=k, body=zlib.compress(b)) for k, b in fetched.items() if b is not None],
                ignore_conflicts=True,  # another worker stored the same file meanwhile: same bytes
            )
            self._memo.update(fetched)
        return {f.filename: self._memo.get(key) for key, f in keyed.items()}
