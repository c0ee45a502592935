"""Release files as an index (or a lockfile) lists them: pure values, no I/O.

A :class:`DistributionFile` parses its own file name once, at construction, because the
analyser looks at the same file for every target and every repo that locks the release:
parsing wheel tags per verdict would dominate a scan's CPU time.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Literal

from packaging.tags import Tag
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

__all__ = ["DistributionFile", "FileKind", "ProjectFiles"]

FileKind = Literal["wheel", "sdist", "other"]

# Legacy sdist suffixes pip still accepts (pip._internal.utils.filetypes.ARCHIVE_EXTENSIONS).
_SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar.xz", ".tbz", ".tar")


@dataclass(frozen=True, slots=True)
class DistributionFile:
    """One downloadable file of a release.

    ``yanked`` is ``False`` or the yank reason (``""`` when the index gave none), as PEP 592
    and PEP 691 describe it. ``kind``, ``project``, ``version`` and ``tags`` are derived from
    the file name; a name that cannot be parsed gives ``kind="other"`` and ``version=None``
    (pip ignores such files too).
    """

    filename: str
    url: str | None = None
    requires_python: str | None = None
    yanked: bool | str = False
    upload_time: dt.datetime | None = None
    sha256: str | None = None
    size: int | None = None
    kind: FileKind = field(init=False, default="other")
    project: NormalizedName | None = field(init=False, default=None)
    version: Version | None = field(init=False, default=None)
    tags: frozenset[Tag] = field(init=False, default=frozenset())

    def __post_init__(self) -> None:
        kind, project, version, tags = _parse_filename(self.filename)
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "project", project)
        object.__setattr__(self, "version", version)
        object.__setattr__(self, "tags", tags)

    @property
    def is_yanked(self) -> bool:
        return self.yanked is not False and self.yanked is not None

    @property
    def is_pure(self) -> bool:
        """True for wheels that run anywhere (``py3-none-any`` and the like)."""
        return self.kind == "wheel" and all(t.abi == "none" and t.platform == "any" for t in self.tags)


@functools.lru_cache(maxsize=1 << 17)
def _parse_filename(filename: str) -> tuple[FileKind, NormalizedName | None, Version | None, frozenset[Tag]]:
    # Cached: an organisation's locks name the same few thousand files over and over (every uv or
    # poetry lock lists each release's files), and parsing a wheel's tag set costs ~50 us. The
    # result is immutable (Version, frozenset of Tag), so sharing it is safe.
    lower = filename.lower()
    if lower.endswith(".whl"):
        try:
            name, version, _build, tags = parse_wheel_filename(filename)
        except (InvalidWheelFilename, InvalidVersion):
            return "other", None, None, frozenset()
        return "wheel", name, version, tags
    if lower.endswith(".tar.gz") or lower.endswith(".zip"):
        try:
            name, version = parse_sdist_filename(filename)
            return "sdist", name, version, frozenset()
        except (InvalidSdistFilename, InvalidVersion):
            pass
    for suffix in _SDIST_SUFFIXES:
        if lower.endswith(suffix):
            stem = filename[: -len(suffix)]
            # Legacy names are ambiguous ("foo-bar-1.0"): the version is after the last dash.
            legacy_name, sep, legacy_version = stem.rpartition("-")
            if sep:
                try:
                    return "sdist", canonicalize_name(legacy_name), Version(legacy_version), frozenset()
                except InvalidVersion:
                    pass
            return "other", None, None, frozenset()
    return "other", None, None, frozenset()


@dataclass(frozen=True, slots=True)
class ProjectFiles:
    """All files of one project, as one index page (or one lockfile entry) lists them.

    ``by_version`` is built once so that looking up a release is a dict access: a scan asks
    for the same project's releases thousands of times.
    """

    name: NormalizedName
    files: tuple[DistributionFile, ...]
    project_urls: tuple[tuple[str, str], ...] = ()
    by_version: dict[Version, tuple[DistributionFile, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        grouped: dict[Version, list[DistributionFile]] = {}
        for f in self.files:
            if f.version is not None and (f.project is None or f.project == self.name):
                grouped.setdefault(f.version, []).append(f)
        object.__setattr__(self, "by_version", {v: tuple(fs) for v, fs in grouped.items()})

    def release(self, version: str | Version) -> tuple[DistributionFile, ...]:
        """Files of one release; empty when the index does not list that version."""
        try:
            v = version if isinstance(version, Version) else Version(version)
        except InvalidVersion:
            return ()
        return self.by_version.get(v, ())

    def versions(self) -> list[Version]:
        return sorted(self.by_version)
