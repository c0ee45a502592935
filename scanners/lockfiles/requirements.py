"""pip requirements files as pip-tools (``pip-compile``) and ``uv pip compile`` write them.

The line grammar follows pip's own parser (``pip._internal.req.req_file``), re-implemented
here because pip's internals are not a stable API: backslash continuations are joined first,
then comments (``#`` at the start or after whitespace) are removed, then a line is either an
option (``-r``, ``-c``, ``-e``, ``--index-url``, …) or a requirement followed by per-requirement
options (``--hash=…``).

Includes: ``-r``/``--requirement`` files add their packages (reported with their own path and
line); ``-c``/``--constraint`` files only *constrain*, as in pip: their pins never add a
package, but an unpinned requirement (``django``) that a constraint file pins (``django==5.2``)
is reported with the constraint's version, because that is what pip installs. A constraints
file that is scanned on its own (``constraints.txt`` matches :func:`detect_format`) lists its
pins as packages: it is then the file that fixes the deployed versions.

pip-compile's ``# via`` annotations (both the block style and ``--annotation-style=line``)
become ``required_by``; a package required ``via -r requirements.in`` (or via the project's
``pyproject.toml``/``setup.py``/``setup.cfg``) is ``direct``.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidName, NormalizedName, canonicalize_name

from scanners.distributions import DistributionFile
from scanners.lockfiles._common import check_text, normalise_marker, url_basename
from scanners.lockfiles.base import LockedPackage, LockfileProblem, ParsedLockfile, Source

__all__ = ["parse_requirements"]

ReadFile = Callable[[str], str | None]

# pip's COMMENT_RE: a "#" at the start of a line or after whitespace starts a comment, so a
# URL fragment ("…#egg=foo") is not one.
_COMMENT_RE = re.compile(r"(^|\s+)#.*$")
_VCS_SCHEMES = ("git+", "hg+", "svn+", "bzr+")
_EGG_RE = re.compile(r"[#&]egg=([^&\s]+)")
_DIRECT_VIA_RE = re.compile(r"^-r\s|\((pyproject\.toml|setup\.py|setup\.cfg)\)$")

# Options pip accepts in a requirements file that do not change which packages are listed.
# They are reported as "info" so a scan still says, for example, that a private index is used.
_INFO_OPTIONS = {
    "-i": "--index-url",
    "--index-url": "--index-url",
    "--extra-index-url": "--extra-index-url",
    "--no-index": "--no-index",
    "-f": "--find-links",
    "--find-links": "--find-links",
    "--trusted-host": "--trusted-host",
    "--no-binary": "--no-binary",
    "--only-binary": "--only-binary",
    "--prefer-binary": "--prefer-binary",
    "--pre": "--pre",
    "--require-hashes": "--require-hashes",
    "--use-feature": "--use-feature",
}
_FLAG_OPTIONS = {"--no-index", "--prefer-binary", "--pre", "--require-hashes"}
_INCLUDE_OPTIONS = {
    "-r": "requirement",
    "--requirement": "requirement",
    "-c": "constraint",
    "--constraint": "constraint",
}
_EDITABLE_OPTIONS = {"-e", "--editable"}
_MAX_INCLUDE_DEPTH = 16
_MAX_INCLUDED_FILES = 256


@dataclass(slots=True)
class _Entry:
    """A package while its file is being read: ``# via`` lines after it still add to it."""

    package: LockedPackage
    required_by: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _State:
    read_file: ReadFile | None
    problems: list[LockfileProblem] = field(default_factory=list)
    includes: list[str] = field(default_factory=list)
    visited: set[str] = field(default_factory=set)
    constraints: dict[NormalizedName, LockedPackage] = field(default_factory=dict)


def parse_requirements(path: str, text: str, *, read_file: ReadFile | None = None) -> ParsedLockfile:
    """Parse a requirements file and, through ``read_file``, the files it includes.

    :param path: repository-relative path, used in messages and to resolve ``-r``/``-c``.
    :param read_file: returns another repository file's text, or ``None`` when it is missing.
        Without it, includes are listed in ``includes`` and reported as not followed.
    :raises LockfileError: only for binary input; every bad line is a problem instead.
    """
    text = check_text(path, text)
    state = _State(read_file=read_file, visited={path})
    entries = _parse_file(path, text, state=state, stack=(path,), as_constraint=False)
    project = _project_name(entries)
    packages = []
    for entry in entries:
        pkg = entry.package
        if project is not None and pkg.direct is False and project in pkg.required_by:
            pkg = replace(pkg, direct=True)
        if pkg.source == "unpinned" and pkg.name in state.constraints:
            pin = state.constraints[pkg.name]
            pkg = replace(
                pkg,
                version=pin.version,
                source="index",
                detail=f"pinned by constraint {pin.lockfile} line {pin.line}",
            )
        packages.append(pkg)
    return ParsedLockfile(
        path=path,
        format="requirements",
        packages=tuple(packages),
        problems=tuple(state.problems),
        includes=tuple(dict.fromkeys(state.includes)),
    )


def _project_name(entries: list[_Entry]) -> str | None:
    """``uv export`` writes ``# via web-service`` where pip-compile writes ``# via -r …``: when a
    file has no ``-r``/``pyproject.toml`` annotation and exactly one ``via`` name that is not a
    package of the file, that name can only be the project itself."""
    listed = {e.package.name for e in entries}
    vias = {r for e in entries for r in e.package.required_by}
    if any(_DIRECT_VIA_RE.search(v) for v in vias):
        return None
    unlisted = set()
    for via in vias:
        if via.startswith("-"):
            continue
        try:
            if canonicalize_name(via, validate=True) not in listed:
                unlisted.add(via)
        except InvalidName:
            continue
    return unlisted.pop() if len(unlisted) == 1 else None


def _logical_lines(text: str) -> list[tuple[int, str, list[str]]]:
    """pip's ``join_lines`` + ``ignore_comments``: (first line number, line without comments,
    the comments met on the way). Comment-only lines are kept with an empty line so that the
    ``# via`` blocks after a requirement can be attached to it."""
    result: list[tuple[int, str, list[str]]] = []
    parts: list[str] = []
    comments: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        is_comment = raw.lstrip().startswith("#")
        if parts and is_comment:
            # pip ends a continuation at a comment line; the comment is its own line.
            result.append((start, _strip_comment(" ".join(parts), comments), comments))
            parts, comments = [], []
        if raw.endswith("\\") and not is_comment:
            if not parts:
                start = number
            parts.append(raw[:-1])
            continue
        if parts:
            parts.append(raw)
            result.append((start, _strip_comment(" ".join(parts), comments), comments))
            parts, comments = [], []
            continue
        line_comments: list[str] = []
        result.append((number, _strip_comment(raw, line_comments), line_comments))
    if parts:
        result.append((start, _strip_comment(" ".join(parts), comments), comments))
    return result


def _strip_comment(line: str, comments: list[str]) -> str:
    match = _COMMENT_RE.search(line)
    if match:
        comments.append(match.group(0).strip()[1:].strip())
        line = line[: match.start()]
    return line.strip()


def _parse_file(path: str, text: str, *, state: _State, stack: tuple[str, ...], as_constraint: bool) -> list[_Entry]:
    entries: list[_Entry] = []
    via_target: _Entry | None = None  # the package the following "# via" block belongs to
    in_via_block = False
    for number, line, comments in _logical_lines(text):
        if not line:
            if comments and via_target is not None:
                in_via_block = _absorb_via(via_target, comments[0], in_via_block)
            else:
                in_via_block = False
            continue
        in_via_block = False
        via_target = None
        if line.startswith("-"):
            entry = _parse_option_line(path, number, line, state=state, stack=stack, entries=entries)
        else:
            entry = _parse_requirement_line(path, number, line, state=state, editable=False)
        if entry is None:
            continue
        if as_constraint:
            state.constraints.setdefault(entry.package.name, entry.package)
            continue
        entries.append(entry)
        via_target = entry
        if comments:
            in_via_block = _absorb_via(entry, comments[0], False)
    return [_finish(e) for e in entries]


def _absorb_via(entry: _Entry, comment: str, in_block: bool) -> bool:
    """Read one pip-compile annotation comment; returns whether a ``# via`` block is open."""
    if comment == "via":
        return True
    if comment.startswith("via "):
        entry.required_by.extend(p.strip() for p in comment[4:].split(",") if p.strip())
        return False
    if in_block and comment:
        entry.required_by.append(comment)
        return True
    return False


def _finish(entry: _Entry) -> _Entry:
    if not entry.required_by:
        return entry
    direct = any(_DIRECT_VIA_RE.search(r) for r in entry.required_by)
    entry.package = replace(entry.package, required_by=tuple(entry.required_by), direct=direct)
    return entry


def _split_option(line: str) -> tuple[str, str]:
    """``-r file``, ``-rfile``, ``--requirement=file``, ``--requirement file`` -> (option, value)."""
    if line.startswith("--"):
        option, sep, value = line.partition("=")
        if not sep:
            option, _, value = line.partition(" ")
        return option.strip(), value.strip()
    option, value = line[:2], line[2:]
    return option, value.strip().removeprefix("=").strip()


def _parse_option_line(
    path: str, number: int, line: str, *, state: _State, stack: tuple[str, ...], entries: list[_Entry]
) -> _Entry | None:
    location = f"line {number}"
    option, value = _split_option(line)
    if option in _EDITABLE_OPTIONS:
        if not value:
            state.problems.append(LockfileProblem(path, location, f"{option} needs a path or URL"))
            return None
        return _parse_requirement_line(path, number, value, state=state, editable=True)
    if option in _INCLUDE_OPTIONS:
        kind = _INCLUDE_OPTIONS[option]
        if not value:
            state.problems.append(LockfileProblem(path, location, f"{option} needs a file name"))
            return None
        included = _follow_include(path, number, value, kind=kind, state=state, stack=stack)
        entries.extend(included)
        return None
    if option in _INFO_OPTIONS:
        name = _INFO_OPTIONS[option]
        if name not in _FLAG_OPTIONS and not value:
            state.problems.append(LockfileProblem(path, location, f"{name} needs a value"))
            return None
        shown = f"{name} {value}".strip()
        state.problems.append(
            LockfileProblem(path, location, f"option {shown} is not taken into account", severity="info")
        )
        return None
    state.problems.append(LockfileProblem(path, location, f"unknown option {option!r} ignored"))
    return None


def _follow_include(
    path: str, number: int, value: str, *, kind: str, state: _State, stack: tuple[str, ...]
) -> list[_Entry]:
    location = f"line {number}"
    if "://" in value:
        state.problems.append(
            LockfileProblem(path, location, f"{kind} file {value} is a URL: not followed", severity="info")
        )
        return []
    target = posixpath.normpath(posixpath.join(posixpath.dirname(path), value))
    state.includes.append(target)
    if target in stack:
        chain = " -> ".join((*stack, target))
        state.problems.append(LockfileProblem(path, location, f"include cycle: {chain}"))
        return []
    if target in state.visited:
        return []  # already read through another include: its packages are listed once
    if len(stack) > _MAX_INCLUDE_DEPTH or len(state.visited) >= _MAX_INCLUDED_FILES:
        # "-r sub/reqs.txt" inside sub/reqs.txt names a new path at every level: no cycle to
        # detect, so a bound stops it (pip itself would recurse until it crashes).
        state.problems.append(
            LockfileProblem(path, location, f"{kind} file {target} not followed: includes nest too deep")
        )
        return []
    if state.read_file is None:
        state.problems.append(
            LockfileProblem(path, location, f"{kind} file {target} not followed (no file reader)", severity="info")
        )
        return []
    text = state.read_file(target)
    if text is None:
        state.problems.append(LockfileProblem(path, location, f"{kind} file {target} not found"))
        return []
    if "\x00" in text:
        state.problems.append(LockfileProblem(path, location, f"{kind} file {target} is binary"))
        return []
    state.visited.add(target)
    return _parse_file(
        target,
        text.removeprefix("\ufeff"),
        state=state,
        stack=(*stack, target),
        as_constraint=kind == "constraint",
    )


def _split_hash_options(line: str) -> str:
    """Drop per-requirement options (``--hash=…``, ``--config-settings …``): like pip's
    ``break_args_options``, the requirement ends at the first whitespace-separated ``-`` token."""
    tokens = line.split()
    kept: list[str] = []
    for token in tokens:
        if token.startswith("-"):
            break
        kept.append(token)
    return " ".join(kept)


def _parse_requirement_line(path: str, number: int, line: str, *, state: _State, editable: bool) -> _Entry | None:
    location = f"line {number}"
    spec = _split_hash_options(line)
    if not spec:
        state.problems.append(LockfileProblem(path, location, f"no requirement before the options: {line!r}"))
        return None
    if editable:
        return _url_or_path_entry(path, number, spec, markers=None, state=state, editable=True)
    try:
        req = Requirement(spec)
    except InvalidRequirement as exc:
        if _looks_like_location(spec):
            url, _, marker_text = spec.partition(";")
            markers = normalise_marker(marker_text.strip(), path=path, location=location, problems=state.problems)
            return _url_or_path_entry(path, number, url.strip(), markers=markers, state=state, editable=False)
        reason = str(exc).splitlines()[0]
        state.problems.append(LockfileProblem(path, location, f"invalid requirement {spec!r}: {reason}"))
        return None
    name = canonicalize_name(req.name)
    markers = str(req.marker) if req.marker else None
    extras = tuple(sorted(canonicalize_name(e) for e in req.extras))
    if req.url:
        return _url_or_path_entry(
            path, number, req.url, markers=markers, state=state, editable=False, name=name, extras=extras
        )
    pins = [s for s in req.specifier if s.operator in ("==", "===") and not s.version.endswith(".*")]
    if len(pins) == 1 and len(req.specifier) == 1:
        return _entry(path, number, name, pins[0].version, source="index", markers=markers, extras=extras)
    detail = f"specifier {req.specifier}" if req.specifier else "no version specifier"
    return _entry(path, number, name, None, source="unpinned", markers=markers, extras=extras, detail=detail)


def _entry(
    path: str,
    number: int,
    name: NormalizedName,
    version: str | None,
    *,
    source: Source,
    markers: str | None,
    extras: tuple[str, ...] = (),
    detail: str | None = None,
) -> _Entry:
    """Every package of a requirements file: the line is the one the requirement starts on."""
    package = LockedPackage(
        name=name,
        version=version,
        lockfile=path,
        line=number,
        markers=markers,
        source=source,
        extras=extras,
        detail=detail,
    )
    return _Entry(package)


def _looks_like_location(spec: str) -> bool:
    head = spec.split(";", 1)[0].strip()
    return (
        "://" in head
        or head.startswith((".", "/", "file:", *_VCS_SCHEMES))
        or head.lower().endswith((".whl", ".tar.gz", ".zip"))
    )


def _url_or_path_entry(
    path: str,
    number: int,
    target: str,
    *,
    markers: str | None,
    state: _State,
    editable: bool,
    name: NormalizedName | None = None,
    extras: tuple[str, ...] = (),
) -> _Entry | None:
    """A requirement the index cannot answer for: VCS, URL, local path or editable."""
    location = f"line {number}"
    lowered = target.lower()
    source: Source
    if editable:
        source = "editable"
    elif lowered.startswith(_VCS_SCHEMES):
        source = "vcs"
    elif lowered.startswith("file:") or "://" not in target:
        source = "path"
    else:
        source = "url"
    basename = (
        url_basename(target.split("#", 1)[0])
        if "://" in target or target.startswith("file:")
        else (posixpath.basename(target.split("#", 1)[0].rstrip("/")))
    )
    # A wheel or sdist names its project and version: the same file-name rules as an index's.
    archive = DistributionFile(basename) if source != "vcs" else None
    file_name = archive.project if archive is not None else None
    version = str(archive.version) if archive is not None and archive.version is not None else None
    if name is None:
        egg = _EGG_RE.search(target)
        if egg:
            try:
                # "#egg=name[extra]" and the legacy "#egg=name-1.0" both start with the name.
                name = canonicalize_name(re.split(r"[\[\-=<>!~]", egg.group(1), maxsplit=1)[0], validate=True)
            except InvalidName:
                name = None
        elif file_name is not None:
            name = file_name
        elif source in ("path", "editable") and basename and "://" not in target:
            try:
                name = canonicalize_name(basename, validate=True)
            except InvalidName:
                name = None
    if name is None and source in ("path", "editable") and posixpath.normpath(target) == ".":
        state.problems.append(
            LockfileProblem(path, location, f"{target!r} is the project itself, not a locked package", severity="info")
        )
        return None
    if name is None:
        state.problems.append(
            LockfileProblem(path, location, f"cannot tell the project name of {target!r} (add #egg=name)")
        )
        return None
    kind = {"vcs": "VCS", "url": "URL", "path": "local path", "editable": "editable"}[source]
    detail = f"{kind} requirement {target}"
    return _entry(path, number, name, version, source=source, markers=markers, extras=extras, detail=detail)
