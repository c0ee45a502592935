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

from packaging.tags import InvalidTag, Tag, parse_tag
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


@functools.lru_cache(maxsize=1 << 16)
def _parse_filename(filename: str) -> tuple[FileKind, NormalizedName | None, Version | None, frozenset[Tag]]:
    # Cached: an organisation's locks name the same files over and over (every uv or poetry lock
    # lists each release's files). The result is immutable (Version, frozenset of Tag), so sharing
    # it is safe. Wheels are parsed in two cached halves (below), so a file this cache has
    # forgotten costs a split and two lookups, not a parse.
    lower = filename.lower()
    if lower.endswith(".whl"):
        parsed = _parse_wheel_filename(filename)
        if parsed is None:
            return "other", None, None, frozenset()
        return "wheel", *parsed
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


def _parse_wheel_filename(filename: str) -> tuple[NormalizedName, Version, frozenset[Tag]] | None:
    """``packaging.utils.parse_wheel_filename``, from two cached halves: the name and version
    (one per release, checked by packaging itself) and the tag set (a few hundred distinct in an
    organisation, one shared frozenset each). ``None`` where packaging refuses the name."""
    if not filename.endswith(".whl"):
        return None  # packaging refuses ".WHL"
    stem = filename[:-4]
    dashes = stem.count("-")
    if dashes not in (4, 5):
        return None
    head, _, tags = stem.rpartition("-")
    head, _, abi = head.rpartition("-")
    head, _, interpreter = head.rpartition("-")
    release = _wheel_release(head)
    tag_set = _wheel_tags(f"{interpreter}-{abi}-{tags}")
    if release is None or tag_set is None:
        return None
    return release[0], release[1], tag_set


@functools.lru_cache(maxsize=1 << 16)
def _wheel_release(head: str) -> tuple[NormalizedName, Version] | None:
    """``name-version[-build]`` of a wheel file name, validated as packaging validates it."""
    try:
        name, version, _build, _tags = parse_wheel_filename(f"{head}-py3-none-any.whl")
    except (InvalidWheelFilename, InvalidVersion):
        return None
    return name, version


@functools.lru_cache(maxsize=1 << 14)
def _wheel_tags(tags: str) -> frozenset[Tag] | None:
    try:
        return parse_tag(tags)
    except InvalidTag:  # an empty component ("foo-1.0--none-any.whl"): packaging refuses the name
        return None


@dataclass(frozen=True, slots=True)
class ProjectFiles:
    """All files of one project, as one index page (or one lockfile entry) lists them.

    ``by_version`` is built once so that looking up a release is a dict access: a scan asks
    for the same project's releases thousands of times. ``answers`` keeps what is derived from
    these files alone (a fix version, whether any release has a wheel for a target): a worker
    holds one parsed page for every scan that reads it, so each answer is worked out once per
    page, not once per repository, and a changed page is a new object with none.
    """

    name: NormalizedName
    files: tuple[DistributionFile, ...]
    project_urls: tuple[tuple[str, str], ...] = ()
    by_version: dict[Version, tuple[DistributionFile, ...]] = field(init=False, repr=False, compare=False)
    answers: dict[tuple, object] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        grouped: dict[Version, list[DistributionFile]] = {}
        for f in self.files:
            if f.version is not None and (f.project is None or f.project == self.name):
                grouped.setdefault(f.version, []).append(f)
        object.__setattr__(self, "by_version", {v: tuple(fs) for v, fs in grouped.items()})
        object.__setattr__(self, "answers", {})

    def release(self, version: str | Version) -> tuple[DistributionFile, ...]:
        """Files of one release; empty when the index does not list that version."""
        try:
            v = version if isinstance(version, Version) else Version(version)
        except InvalidVersion:
            return ()
        return self.by_version.get(v, ())

    def versions(self) -> list[Version]:
        return sorted(self.by_version)
