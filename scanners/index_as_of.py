"""The package index as it was at a moment in the past, for analysing history truthfully.

A backfilled point (last March's commit) must be decided against what the index listed last
March: a wheel uploaded in June would not have been installed then, and a trend that counted it
would show readiness rising all at once on the day of the backfill rather than when the wheels
appeared. :class:`IndexAsOf` wraps any index source and leaves out every file whose PEP 700
``upload-time`` is after the moment.

What it cannot know, it leaves as the index says today, and says so:

* a file with no ``upload-time`` (PEP 503 HTML pages, mirrors that omit it) is kept;
* ``yanked`` has no date in the Simple API, so a yank is applied as it stands today.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Callable, Iterable, Mapping

from scanners.check.report import ProjectSource
from scanners.distributions import ProjectFiles
from scanners.index import ProjectResult

__all__ = ["IndexAsOf"]


class IndexAsOf:
    """``inner`` as it was at ``moment`` (timezone-aware): later uploads are not listed.

    :attr:`undated` counts the distinct files kept only because the index gave them no upload time.
    """

    def __init__(self, inner: ProjectSource, moment: dt.datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("moment must be timezone-aware")
        self._inner = inner
        self.moment = moment
        self._undated: set[str] = set()
        self._lock = threading.Lock()

    @property
    def undated(self) -> int:
        with self._lock:
            return len(self._undated)

    def fetch_many(
        self, names: Iterable[str], *, progress: Callable[[int, int], None] | None = None
    ) -> Mapping[str, ProjectResult]:
        results = self._inner.fetch_many(names, progress=progress)
        return {name: self._as_of(result) for name, result in results.items()}

    def _as_of(self, result: ProjectResult) -> ProjectResult:
        if result.files is None:
            return result
        kept = [f for f in result.files.files if f.upload_time is None or f.upload_time <= self.moment]
        undated = [f.filename for f in kept if f.upload_time is None]
        if undated:
            with self._lock:
                self._undated.update(undated)
        if len(kept) == len(result.files.files):
            return result
        files = ProjectFiles(result.files.name, tuple(kept), result.files.project_urls)
        return dataclasses.replace(result, files=files)
