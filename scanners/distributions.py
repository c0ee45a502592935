"""Release files as an index (or a lockfile) lists them: pure values, no I/O.

A :class:`DistributionFile` parses its own file name once, at construction, because the
analyser looks at the same file for every target and every repo that locks the release:
parsing wheel tags per verdict would dominate a scan's CPU time.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping, Sequence
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

__all__ = [
    "DistributionFile",
    "FileKind",
    "FileRow",
    "ProjectFiles",
    "file_from_row",
    "file_row",
    "release_key",
    "wheel_name_and_version",
]

FileKind = Literal["wheel", "sdist", "other"]

# Legacy sdist suffixes pip still accepts (pip._internal.utils.filetypes.ARCHIVE_EXTENSIONS).
_SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar.xz", ".tbz", ".tar")


@dataclass(frozen=True, slots=True, init=False)
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

    def __init__(
        self,
        filename: str,
        url: str | None = None,
        requires_python: str | None = None,
        yanked: bool | str = False,
        upload_time: dt.datetime | None = None,
        sha256: str | None = None,
        size: int | None = None,
    ) -> None:
        # The generated __init__ of a frozen dataclass sets each of the 11 slots through
        # object.__setattr__; the slots' own descriptors do it in 40 % of the time, and a scan
        # builds thousands of these (every file of every page and of every file-carrying lock).
        kind, project, version, tags = _parse_filename(filename)
        _set_filename(self, filename)
        _set_url(self, url)
        _set_requires_python(self, requires_python)
        _set_yanked(self, yanked)
        _set_upload_time(self, upload_time)
        _set_sha256(self, sha256)
        _set_size(self, size)
        _set_kind(self, kind)
        _set_project(self, project)
        _set_version(self, version)
        _set_tags(self, tags)

    @property
    def is_yanked(self) -> bool:
        return self.yanked is not False and self.yanked is not None

    @property
    def is_pure(self) -> bool:
        """True for wheels that run anywhere (``py3-none-any`` and the like)."""
        return self.kind == "wheel" and all(t.abi == "none" and t.platform == "any" for t in self.tags)


# The slots' descriptors (made by the dataclass decorator) that DistributionFile.__init__ sets through.
(
    _set_filename,
    _set_url,
    _set_requires_python,
    _set_yanked,
    _set_upload_time,
    _set_sha256,
    _set_size,
    _set_kind,
    _set_project,
    _set_version,
    _set_tags,
) = (
    getattr(DistributionFile, name).__set__
    for name in (
        "filename",
        "url",
        "requires_python",
        "yanked",
        "upload_time",
        "sha256",
        "size",
        "kind",
        "project",
        "version",
        "tags",
    )
)


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


def wheel_name_and_version(filename: str) -> tuple[NormalizedName, Version] | None:
    """A wheel file name's project and version as ``packaging.utils.parse_wheel_filename`` reads
    them (from this module's cached halves); ``None`` where packaging refuses the name."""
    parsed = _parse_wheel_filename(filename)
    return None if parsed is None else (parsed[0], parsed[1])


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


FileRow = tuple[str, "str | None", "str | None", "bool | str", "str | None", "str | None", "int | None"]
"""A :class:`DistributionFile` as plain values (``filename, url, requires_python, yanked, upload_time
ISO string, sha256, size``): what an on-disk cache of parsed pages keeps (``marshal`` reads it fast)."""


def file_row(f: DistributionFile) -> FileRow:
    return (
        f.filename,
        f.url,
        f.requires_python,
        f.yanked,
        f.upload_time.isoformat() if f.upload_time else None,
        f.sha256,
        f.size,
    )


def release_key(filename: str, project: NormalizedName) -> str | None:
    """The version key :meth:`ProjectFiles.from_rows` wants for a file of ``project``: the release
    it belongs to, as :class:`ProjectFiles` groups files (``None``: no release of this project)."""
    if filename.endswith(".whl") and filename.count("-") in (4, 5):
        # A release's wheels (dozens for a native project) share their name-version head: it is
        # worked out once per release, and each wheel's tags only checked as _parse_wheel_filename
        # checks them (a seventh of a cold run's time went to this function).
        head, interpreter, abi, platform = filename[:-4].rsplit("-", 3)
        if _wheel_tags(f"{interpreter}-{abi}-{platform}") is None:
            return None
        return _wheel_head_key(head, project)
    # Past the per-file cache: a page's files are seen once here, and caching each of a cold run's
    # hundreds of thousands of names would hold more memory than the pages themselves.
    _kind, name, version, _tags = _parse_filename.__wrapped__(filename)
    if version is None or (name is not None and name != project):
        return None
    # Cached by its parts, not by the Version: 1.0 == 1.0.0, and a release keeps its file's spelling.
    return _version_text(
        (version.epoch, version.release, version.pre, version.post, version.dev, version.local), version
    )


@functools.lru_cache(maxsize=1 << 14)
def _wheel_head_key(head: str, project: NormalizedName) -> str | None:
    """:func:`release_key` of the wheels whose ``name-version[-build]`` is ``head``."""
    release = _wheel_release(head)
    if release is None or release[0] != project:
        return None
    version = release[1]
    return _version_text(
        (version.epoch, version.release, version.pre, version.post, version.dev, version.local), version
    )


@functools.lru_cache(maxsize=1 << 14)
def _version_text(parts: tuple, version: Version) -> str:
    return str(version)


def file_from_row(row: FileRow) -> DistributionFile:
    filename, url, requires_python, yanked, upload_time, sha256, size = row
    when = dt.datetime.fromisoformat(upload_time) if upload_time else None
    return DistributionFile(filename, url, requires_python, yanked, when, sha256, size)


class ProjectFiles:
    """All files of one project, as one index page (or one lockfile entry) lists them.

    Releases are kept by version so that looking one up is a dict access: a scan asks for the same
    project's releases thousands of times. ``answers`` keeps what is derived from these files alone
    (a fix version, whether any release has a wheel for a target): a worker holds one parsed page
    for every scan that reads it, so each answer is worked out once per page, not once per
    repository, and a changed page is a new object with none.

    :meth:`from_rows` builds one from plain rows grouped by version, and makes a release's
    :class:`DistributionFile` values only when that release is asked for: a warm command-line run
    reads pages of thousands of files from its cache and looks at a few releases of each.
    :meth:`from_loaders` goes further and reads a release's rows only then (from a mapped cache
    file: a 500-package lock's pages would otherwise take hundreds of megabytes).
    """

    __slots__ = ("name", "project_urls", "answers", "_files", "_releases", "_rows")

    def __init__(
        self,
        name: NormalizedName,
        files: tuple[DistributionFile, ...] = (),
        project_urls: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.name = name
        self.project_urls = project_urls
        self.answers: dict[tuple, object] = {}
        self._files: tuple[DistributionFile, ...] | None = tuple(files)
        self._rows: tuple[tuple[str | None, FileRow], ...] | Callable[[], list] | None = None
        grouped: dict[Version, list[DistributionFile]] = {}
        for f in self._files:
            if f.version is not None and (f.project is None or f.project == name):
                grouped.setdefault(f.version, []).append(f)
        self._releases: dict[Version, tuple[DistributionFile, ...] | list[FileRow] | Callable[[], list[FileRow]]] = {
            v: tuple(fs) for v, fs in grouped.items()
        }

    @classmethod
    def from_rows(
        cls,
        name: NormalizedName,
        rows: Sequence[tuple[str | None, FileRow]],
        project_urls: tuple[tuple[str, str], ...] = (),
    ) -> ProjectFiles:
        """From ``(version key, row)`` pairs in page order (:meth:`rows`): the version key is the
        release the file belongs to, ``None`` for a file of no release (unparsable, another project)."""
        self = cls.__new__(cls)
        self.name = name
        self.project_urls = project_urls
        self.answers = {}
        self._files = None
        self._rows = tuple(rows)
        pending: dict[Version, list[FileRow]] = {}
        for key, row in self._rows:
            if key is not None:
                pending.setdefault(_version(key), []).append(row)
        self._releases = dict(pending)
        return self

    @classmethod
    def from_loaders(
        cls,
        name: NormalizedName,
        releases: Mapping[str, Callable[[], list[FileRow]]],
        rows: Callable[[], list[tuple[str | None, FileRow]]],
        project_urls: tuple[tuple[str, str], ...] = (),
    ) -> ProjectFiles:
        """Like :meth:`from_rows`, but each release's rows (keyed by distinct versions) and the page's
        rows are read by the given functions when first needed."""
        self = cls.__new__(cls)
        self.name = name
        self.project_urls = project_urls
        self.answers = {}
        self._files = None
        self._rows = rows
        self._releases = {_version(key): load for key, load in releases.items()}
        return self

    def rows(self) -> list[tuple[str | None, FileRow]]:
        """``(version key, row)`` per file in page order, for :meth:`from_rows`."""
        if callable(self._rows):
            self._rows = tuple(self._rows())
        if self._rows is not None:
            return list(self._rows)
        released = {id(f): str(v) for v, fs in self.by_version.items() for f in fs}
        return [(released.get(id(f)), file_row(f)) for f in self.files]

    @property
    def files(self) -> tuple[DistributionFile, ...]:
        if self._files is None:
            made = {f.filename: f for fs in self.by_version.values() for f in fs}
            self._files = tuple(made.get(row[0]) or file_from_row(row) for _key, row in self.rows())
        return self._files

    @property
    def by_version(self) -> dict[Version, tuple[DistributionFile, ...]]:
        return {v: self._release(v) for v in self._releases}

    def _release(self, version: Version) -> tuple[DistributionFile, ...]:
        files = self._releases.get(version, ())
        if callable(files):  # rows not yet read
            files = files()
        if isinstance(files, list):  # rows not yet made into files
            files = tuple(file_from_row(row) for row in files)
            self._releases[version] = files
        return files

    def release(self, version: str | Version) -> tuple[DistributionFile, ...]:
        """Files of one release; empty when the index does not list that version."""
        try:
            v = version if isinstance(version, Version) else Version(version)
        except InvalidVersion:
            return ()
        return self._release(v)

    def versions(self) -> list[Version]:
        return sorted(self._releases)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ProjectFiles):
            return NotImplemented
        return (self.name, self.files, self.project_urls) == (other.name, other.files, other.project_urls)

    __hash__ = None  # type: ignore[assignment]  # mutable answers: not a dict key

    def __repr__(self) -> str:
        return f"ProjectFiles(name={self.name!r}, releases={len(self._releases)})"


@functools.lru_cache(maxsize=1 << 16)
def _version(key: str) -> Version:
    return Version(key)
