"""Recording what a check's answer was computed from: the index pages it read, what for, and the metadata it lacked.

A later scan of the same commit may reuse the answer only if none of these inputs moved, so
the check records them as it reads them, whatever the lockfile format:

* a package whose lockfile lists no files (``requirements.txt`` without hashes, a pinned
  ``Pipfile.lock``…) takes its files from its index page: the page is used for ``files``;
* a package whose lockfile lists its own files (poetry, uv, pylock, pdm) needs its page only
  when something must be advised — a fix version, a re-lock, a parent's upgrade: ``advice``.
  A repo whose every locked package installs a wheel from its lock depends on no page at all;
* a release file's core metadata never changes once the index has it (the file is immutable),
  so only the files whose metadata could *not* be read are recorded: the answer assumed none;
* each base image's registry answer (its digest, or the error that made it unknown): an answer
  that could not ask the registry is worth asking again once the failure is no longer remembered.

Names are canonical (PEP 503). The first use recorded wins: a page read for ``files`` and again
for advice stays ``files``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence

from packaging.utils import canonicalize_name

from scanners.check.report import PageUse, ProjectSource, Provenance
from scanners.distributions import DistributionFile
from scanners.registry.manifests import ImagePlatforms

ImageLookup = Callable[[Sequence[str]], Mapping[str, ImagePlatforms]]

__all__ = ["ProvenanceRecorder"]


class ProvenanceRecorder:
    """Wraps the index and the metadata reader a check is given, and notes what passes through."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # the metadata reader may be called from a thread pool
        self._pages: dict[str, PageUse] = {}
        self._missing: dict[str, DistributionFile] = {}
        self._images: dict[str, ImagePlatforms] = {}

    def source(self, index: ProjectSource | None, use: PageUse) -> ProjectSource | None:
        """``index``, recording every project asked of it as used for ``use``."""
        if index is None:
            return None
        return _RecordingSource(index, self, use)

    def reader(
        self, read: Callable[[DistributionFile], bytes | None] | None
    ) -> Callable[[DistributionFile], bytes | None] | None:
        """``read``, recording every file it had no metadata for (keeps its batch ``read_many``)."""
        if read is None:
            return None
        return _RecordingReader(read, self)

    def images(self, lookup: ImageLookup | None) -> ImageLookup | None:
        """``lookup`` (a registry client's ``platforms_many``), recording every answer it gives."""
        if lookup is None:
            return None

        def recording(references: Sequence[str]) -> Mapping[str, ImagePlatforms]:
            answers = lookup(references)
            with self._lock:
                self._images.update(answers)
            return answers

        return recording

    def provenance(self) -> Provenance:
        with self._lock:
            return Provenance(
                pages=dict(sorted(self._pages.items())),
                missing_metadata=tuple(self._missing[k] for k in sorted(self._missing)),
                images=dict(sorted(self._images.items())),
            )

    def _note_pages(self, names: Sequence[str], use: PageUse) -> None:
        with self._lock:
            for name in names:
                self._pages.setdefault(canonicalize_name(name), use)

    def _note_missing(self, file: DistributionFile) -> None:
        with self._lock:
            self._missing.setdefault(file.filename, file)


class _RecordingSource:
    def __init__(self, inner: ProjectSource, recorder: ProvenanceRecorder, use: PageUse) -> None:
        self._inner, self._recorder, self._use = inner, recorder, use

    def fetch_many(self, names, *, progress=None):
        names = list(names)
        self._recorder._note_pages(names, self._use)
        return self._inner.fetch_many(names, progress=progress)


class _RecordingReader:
    def __init__(self, inner: Callable[[DistributionFile], bytes | None], recorder: ProvenanceRecorder) -> None:
        self._inner, self._recorder = inner, recorder
        many = getattr(inner, "read_many", None)
        if many is not None:
            # scanners.check.verdicts.read_all asks a batch at once when the reader can answer one.
            self.read_many = lambda files: self._read_many(many, files)
        prefetch = getattr(inner, "prefetch", None)
        if prefetch is not None:
            # Fetching ahead records nothing: what the answer read is what it then asks for.
            self.prefetch = prefetch

    def __call__(self, file: DistributionFile) -> bytes | None:
        body = self._inner(file)
        if body is None:
            self._recorder._note_missing(file)
        return body

    def _read_many(self, many, files: Sequence[DistributionFile]) -> dict[str, bytes | None]:
        found = many(files)
        for f in files:
            if found.get(f.filename) is None:
                self._recorder._note_missing(f)
        return found
