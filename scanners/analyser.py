"""The verdict for one locked package on one target: exactly the file pip would pick.

pip's choice for ``pip install name==version`` on a target, as this module mirrors it:

1. A wheel is *applicable* when one of its tags is among the target's tags and its
   Requires-Python admits the target's Python (``LinkEvaluator.evaluate_link``); an sdist is
   applicable when its Requires-Python admits the Python. Files pip cannot use at all (eggs,
   installers) are ignored. An invalid Requires-Python is ignored, as pip ignores it.
2. Yanked files are skipped unless *every* applicable file is yanked and the requirement is
   pinned (``==`` without ``.*``, or ``===``): the resolver's rule in
   ``Factory._iter_found_candidates`` (PEP 592). So a yanked wheel next to a good sdist gives
   the sdist.
3. Among the rest, ``CandidateEvaluator._sort_key`` prefers the wheel whose best tag comes
   first in the target's tag list, then the higher build tag; any wheel beats an sdist.

In hash-checking mode (a lock with hashes), step 1 is followed by pip's
``filter_unallowed_hashes``: of the applicable files, those with a digest the lock does not allow
are dropped, as long as at least one applicable file matches. When none matches, pip keeps them
all, downloads the best one and stops with "THESE PACKAGES DO NOT MATCH THE HASHES": ``none``.

This is the hot loop of a scan (about a million verdicts), so the per-target tables from
:attr:`scanners.targets.Target.table` are used directly: one dict lookup per wheel for its
tag set's rank and one per distinct Requires-Python string.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from scanners.distributions import DistributionFile
from scanners.http import redact
from scanners.targets import NOT_SUPPORTED, TagTable, Target

if TYPE_CHECKING:  # only a type here: importing the lockfile parsers is not needed to decide
    from scanners.lockfiles.base import LockedPackage

__all__ = ["Status", "Verdict", "analyse_package", "applies", "decide", "wheel_rank"]

Status = Literal["wheel", "sdist", "none", "unknown", "n/a"]

_BUILD_TAG_RE = re.compile(r"^(\d+)(.*)$")


@dataclass(frozen=True, slots=True)
class Verdict:
    """What pip would do for one package on one target, with a sentence saying why.

    ``file`` is the bare file name pip would download (``None`` for ``none``/``unknown``/``n/a``).
    ``pure`` marks a wheel that runs anywhere (``py3-none-any``). ``native_elsewhere`` (for
    ``sdist``/``none``) says the release ships platform wheels for other platforms, so it has
    native code and a wheel for this target is a reasonable upstream request. ``yanked`` is
    set when pip would install a yanked file (only for an exact pin).
    """

    status: Status
    file: str | None
    reason: str
    pure: bool = False
    native_elsewhere: bool = False
    yanked: bool = False

    def __post_init__(self) -> None:
        if (self.file is None) != (self.status not in ("wheel", "sdist")):
            raise ValueError(f"a {self.status!r} verdict {'needs' if self.file is None else 'has no'} file")


@functools.lru_cache(maxsize=4096)
def _marker(text: str) -> Marker:
    try:
        return Marker(text)
    except InvalidMarker as exc:
        raise ValueError(f"invalid environment marker {text!r}: {exc}") from None


def applies(markers: str | None, target: Target) -> bool:
    """Whether a requirement with these PEP 508 ``markers`` is installed on ``target``.

    The target's complete environment is passed, because ``Marker.evaluate`` fills any key
    left out from the *running* interpreter. ``extra`` is ``""``: a locked package's markers
    that mention an extra were resolved for the extras the project asked for.

    :raises ValueError: quoting the markers when they cannot be parsed or evaluated.
    """
    if markers is None or not markers.strip():
        return True
    marker = _marker(markers.strip())
    try:
        return marker.evaluate(target.table.environment)
    except (UndefinedComparison, UndefinedEnvironmentName) as exc:
        raise ValueError(f"cannot evaluate environment marker {markers!r}: {exc}") from None


def _requires_python_ok(table: TagTable, spec: str) -> bool:
    """pip's ``check_requires_python``: an invalid specifier admits everything (pip logs and ignores it)."""
    ok = table.requires_python_ok.get(spec)
    if ok is None:
        try:
            ok = SpecifierSet(spec).contains(table.python_version, prereleases=True)
        except InvalidSpecifier:
            ok = True
        table.requires_python_ok[spec] = ok
    return ok


def wheel_rank(file: DistributionFile, target: Target) -> int | None:
    """Index of the wheel's best tag in ``target``'s tag list, or ``None`` when none matches."""
    rank = _tag_set_rank(target.table, file.tags)
    return None if rank == NOT_SUPPORTED else rank


def _tag_set_rank(table: TagTable, tags: frozenset) -> int:
    priority = table.priority
    rank = NOT_SUPPORTED
    for tag in tags:
        r = priority.get(tag, NOT_SUPPORTED)
        if r < rank:
            rank = r
    table.tag_set_ranks[tags] = rank
    return rank


def _build_tag(filename: str) -> tuple[int, str] | tuple[()]:
    """pip's ``Wheel.build_tag``: the optional third part of a wheel name, as ``(int, str)``."""
    parts = filename[:-4].split("-")
    if len(parts) != 6:
        return ()
    m = _BUILD_TAG_RE.match(parts[2])
    return (int(m.group(1)), m.group(2)) if m else ()


def decide(
    files: Sequence[DistributionFile],
    target: Target,
    *,
    pinned: bool = True,
    allowed_hashes: frozenset[str] | None = None,
) -> Verdict:
    """pip's choice among the files of one release on ``target``.

    ``files`` are the files of a single release. ``pinned`` is ``True`` for an exact pin
    (``==1.2`` or ``===1.2``), the only case where pip installs a yanked file, and only when
    every applicable file is yanked. ``allowed_hashes`` (sha256 digests) turns on hash checking.
    """
    table = target.table
    ranks = table.tag_set_ranks
    rp_ok = table.requires_python_ok
    # Best candidates so far; "_y" for yanked ones. Ties go to the later file, as pip's stable
    # sort followed by reversed() does.
    best: DistributionFile | None = None
    best_rank = NOT_SUPPORTED
    best_y: DistributionFile | None = None
    best_y_rank = NOT_SUPPORTED
    sdist: DistributionFile | None = None
    sdist_y: DistributionFile | None = None
    any_wheel = native = False
    excluded_by_python: list[DistributionFile] = []
    # Hash checking (pip's filter_unallowed_hashes): applicable files whose digest the lock does
    # not allow are left out, provided some applicable file's digest is allowed.
    hashed = allowed_hashes is not None
    allowed: frozenset[str] = allowed_hashes or frozenset()
    matched = refused = False
    refused_wheel: DistributionFile | None = None  # the best wheel left out, for the reason
    refused_rank = NOT_SUPPORTED
    for f in files:
        kind = f.kind
        if kind == "wheel":
            any_wheel = True
            tags = f.tags
            rank = ranks.get(tags)
            if rank is None:
                rank = _tag_set_rank(table, tags)
            if rank == NOT_SUPPORTED:
                if not native and not f.is_pure:
                    native = True
                continue
            spec = f.requires_python
            if spec:
                ok = rp_ok.get(spec)
                if ok is None:
                    ok = _requires_python_ok(table, spec)
                if not ok:
                    excluded_by_python.append(f)
                    continue
            if hashed and f.sha256 is not None:
                if f.sha256 not in allowed:
                    refused = True
                    if rank < refused_rank:
                        refused_wheel, refused_rank = f, rank
                    continue
                matched = True
            y = f.yanked
            if y is False or y is None:
                if (
                    best is None
                    or rank < best_rank
                    or (rank == best_rank and _build_tag(f.filename) >= _build_tag(best.filename))
                ):
                    best, best_rank = f, rank
            elif (
                best_y is None
                or rank < best_y_rank
                or (rank == best_y_rank and _build_tag(f.filename) >= _build_tag(best_y.filename))
            ):
                best_y, best_y_rank = f, rank
        elif kind == "sdist":
            spec = f.requires_python
            if spec and not _requires_python_ok(table, spec):
                excluded_by_python.append(f)
                continue
            if hashed and f.sha256 is not None:
                if f.sha256 not in allowed:
                    refused = True
                    continue
                matched = True
            if f.yanked is False or f.yanked is None:
                sdist = f
            else:
                sdist_y = f
    if refused and not matched:
        return _hash_mismatch(files, target, pinned)
    if not native and any_wheel and best is None and best_y is None:
        native = any(f.kind == "wheel" and not f.is_pure for f in files)

    if best is not None:
        return _wheel_verdict(best, target, yanked=False)
    if sdist is not None:
        why = None
        if refused_wheel is not None and best_y is None:
            why = f"the lock's hashes allow no wheel ({refused_wheel.filename} is on the index, not in the lock)"
        return _sdist_verdict(sdist, files, target, native, best_y, yanked=False, why=why)
    if (yanked_file := best_y or sdist_y) is not None:
        if pinned:
            if best_y is not None:
                return _wheel_verdict(best_y, target, yanked=True)
            return _sdist_verdict(yanked_file, files, target, native, None, yanked=True)
        name = yanked_file.filename
        return Verdict(
            "none",
            None,
            f"every file pip could use on {target.describe()} is yanked (such as {name}); "
            f"pip only installs a yanked release for an exact '==' pin",
            native_elsewhere=native,
        )
    return _none_verdict(files, target, native, excluded_by_python)


def _hash_mismatch(files: Sequence[DistributionFile], target: Target, pinned: bool) -> Verdict:
    """No applicable file has a hash the lock allows: pip then keeps them all, downloads the one it
    prefers and stops when its hash does not match."""
    chosen = decide(files, target, pinned=pinned)
    if chosen.file is None or next(f.sha256 for f in files if f.filename == chosen.file) is None:
        return chosen  # no digest to compare before the download: pip checks it after, as it may pass
    return Verdict(
        "none",
        None,
        f"no file pip could use on {target.describe()} has a hash the lock allows: pip downloads "
        f"{chosen.file} and stops with 'THESE PACKAGES DO NOT MATCH THE HASHES'",
        native_elsewhere=chosen.native_elsewhere,
    )


def _wheel_verdict(f: DistributionFile, target: Target, *, yanked: bool) -> Verdict:
    pure = f.is_pure
    what = "a pure-Python wheel" if pure else "a wheel"
    reason = f"pip installs {what}: {f.filename}"
    if yanked:
        reason += f" (yanked{': ' + f.yanked if isinstance(f.yanked, str) and f.yanked else ''}; installed only because the pin is exact)"
    return Verdict("wheel", f.filename, reason, pure=pure, yanked=yanked)


def _sdist_verdict(
    f: DistributionFile,
    files: Sequence[DistributionFile],
    target: Target,
    native: bool,
    yanked_wheel: DistributionFile | None,
    *,
    yanked: bool,
    why: str | None = None,
) -> Verdict:
    if why is None and yanked_wheel is not None:
        why = f"the only matching wheel, {yanked_wheel.filename}, is yanked"
    elif why is None:
        why = f"no wheel for {_platform_words(target)}{_other_pythons(files, target)}"
    needs = (
        "needs a compiler and Python headers"
        if native
        else "slower installs; a compiler is needed if it has C extensions"
    )
    reason = f"{why}; pip builds {f.filename} from source ({needs})"
    if yanked:
        reason += "; that sdist is yanked and installed only because the pin is exact"
    return Verdict("sdist", f.filename, reason, native_elsewhere=native, yanked=yanked)


def _none_verdict(
    files: Sequence[DistributionFile], target: Target, native: bool, excluded: Sequence[DistributionFile]
) -> Verdict:
    name = next((f"{f.project}=={f.version}" for f in files if f.project is not None), "this release")
    if excluded:
        specs = sorted({f.requires_python for f in excluded if f.requires_python})
        reason = (
            f"{name} requires Python {' or '.join(specs)}, not {target.python}; "
            f"pip fails with 'No matching distribution'"
        )
    else:
        platforms = sorted({_platform_family(t.platform) for f in files if f.kind == "wheel" for t in f.tags})
        shipped = f" (it ships wheels for {_short_list(platforms)})" if platforms else ""
        reason = (
            f"no wheel for {_platform_words(target)} and no sdist{shipped}{_other_pythons(files, target)}; "
            f"pip fails with 'No matching distribution'"
        )
    return Verdict("none", None, reason, native_elsewhere=native)


def _other_pythons(files: Sequence[DistributionFile], target: Target) -> str:
    """Say so when wheels for the target's platform exist, but only for other Pythons (an old pin on a new image)."""
    family = f"{'manylinux' if target.libc == 'glibc' else 'musllinux'} {target.arch}"
    interpreters = {
        t.interpreter for f in files if f.kind == "wheel" for t in f.tags if _platform_family(t.platform) == family
    }
    if not interpreters:
        return ""
    ordered = sorted(interpreters, key=lambda i: (len(i), i))
    return f"; its {family} wheels are only for {_short_list(ordered)}"


def _platform_words(target: Target) -> str:
    family = "manylinux" if target.libc == "glibc" else "musllinux"
    return f"{family} {target.arch} on CPython {target.python}"


@functools.lru_cache(maxsize=4096)
def _platform_family(platform: str) -> str:
    """``manylinux_2_17_x86_64`` -> ``manylinux x86_64``; ``macosx_11_0_arm64`` -> ``macOS arm64``.

    Remembered: every sdist or none verdict names the families of each of its release's wheels
    (120,000 calls a 40-repo profile), and an index has a few hundred distinct platform tags."""
    if platform == "any":
        return "any platform"
    m = _FAMILY_RE.match(platform)
    if m is None:
        return platform
    family, arch = m.group(1), m.group(2)
    family = _FAMILY_WORDS.get(family, family)
    return f"{family} {arch}" if arch else family


_FAMILY_RE = re.compile(r"^(manylinux|musllinux|macosx|win|linux)(?:_\d+_\d+|_\d+|\d+)?_?(.*)$")
_FAMILY_WORDS = {"macosx": "macOS", "win": "Windows"}


def _short_list(items: Sequence[str], limit: int = 4) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def analyse_package(
    package: LockedPackage,
    target: Target,
    *,
    files: Sequence[DistributionFile] | None,
    index_error: str | None = None,
) -> Verdict:
    """The verdict for a locked package: markers, source and index answer first, then :func:`decide`.

    ``files`` are the release's files as the index lists them; ``package.files`` (listed by
    the lockfile itself) take precedence. A lockfile pin is exact, so yanked files count as
    pinned. Invalid markers give ``unknown`` with the marker text rather than an exception,
    so one bad line never stops a scan.
    """
    try:
        if not applies(package.markers, target):
            return Verdict(
                "n/a", None, f"not installed on {target.describe()}: the lockfile's markers are {package.markers!r}"
            )
    except ValueError as exc:
        where = f"{package.lockfile}:{package.line}" if package.line else package.lockfile
        return Verdict("unknown", None, f"{where}: {str(exc).splitlines()[0]}")
    if package.source != "index" or package.version is None:
        detail = package.detail or _SOURCE_WORDS.get(package.source, package.source)
        if package.source == "index":
            detail = package.detail or "the lockfile names no exact version"
        # The detail quotes the lockfile's URL; a package built elsewhere than a parser (a test, a
        # stored lock) may still carry its token, and the reason is shown on pages and exports.
        return Verdict("unknown", None, redact(f"{package.name} is not an exact pin from the package index: {detail}"))
    release = package.files if package.files is not None else files
    if index_error and package.files is None:
        return Verdict(
            "unknown", None, redact(f"the package index could not be read for {package.name}: {index_error}")
        )
    if not release:
        return Verdict("unknown", None, f"the index lists no files for {package.name}=={package.version}")
    if package.files is not None or package.hashes is None:
        return decide(release, target, pinned=True)
    if not package.hashes:
        where = f"{package.lockfile}:{package.line}" if package.line else package.lockfile
        return Verdict(
            "none",
            None,
            f"{where} has no --hash while other lines have one: in hash-checking mode pip refuses to install from the file",
        )
    return decide(release, target, pinned=True, allowed_hashes=package.hashes)


_SOURCE_WORDS = {
    "url": "a direct URL requirement",
    "vcs": "a VCS requirement",
    "path": "a local path requirement",
    "editable": "an editable install",
    "unpinned": "the lockfile names no exact version",
}
