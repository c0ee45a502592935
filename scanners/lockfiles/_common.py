"""Helpers shared by the lockfile parsers: decoding TOML/JSON into a clear error, names, files.

Every parser turns a decode failure into :class:`LockfileError` with the line the decoder
reports, so a user sees ``poetry.lock:41: …`` instead of a traceback, and every bad entry
into a :class:`LockfileProblem` with a key path such as ``package[3].files[0]``.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import unquote

import rtoml
import tomli
from packaging.markers import InvalidMarker, Marker
from packaging.utils import InvalidName, NormalizedName, canonicalize_name

from scanners.distributions import DistributionFile
from scanners.lockfiles.base import LockfileError, LockfileProblem, Source

__all__: list[str] = []  # private module: the parsers import the names they need

_TOML_LINE_RE = re.compile(r"\(at line (\d+), column \d+\)")
_HASH_RE = re.compile(r"^sha256[:=]([0-9a-fA-F]{64})$")
_VCS_KEYS = ("git", "hg", "svn", "bzr")


def check_text(path: str, text: str) -> str:
    """Refuse binary input up front: a NUL byte never occurs in a text lockfile, and TOML/JSON
    decoders would otherwise report a confusing error somewhere in the middle."""
    if "\x00" in text:
        raise LockfileError(path, "binary file (contains NUL bytes), not a lockfile")
    return text.removeprefix("\ufeff")


def _document_text(path: str, text: str) -> str:
    """A TOML/JSON lock must have content: an empty one is a failed write, not "no packages"."""
    text = check_text(path, text)
    if not text.strip():
        raise LockfileError(path, "empty file")
    return text


def header_command(text: str, commands: tuple[str, ...], *, lines: int = 12) -> str | None:
    """The command a tool's header comment says wrote the file (``#    pip-compile --generate-hashes …``),
    if one of ``commands`` starts a comment line among the first ``lines``."""
    pattern = re.compile(rf"^#\s+((?:{'|'.join(re.escape(c) for c in commands)})\b.*?)\s*$", re.MULTILINE)
    match = pattern.search("\n".join(text.splitlines()[:lines]))
    return match.group(1) if match else None


def load_toml(path: str, text: str) -> dict[str, Any]:
    text = _document_text(path, text)
    try:
        # rtoml (Rust) reads a 150-package uv.lock or poetry.lock in a third of tomli's time, the
        # largest single cost of reading such a lock; the two give equal values (checked on every
        # TOML file of the corpus and of this machine). A document rtoml refuses is read again by
        # tomli, whose answer is the one kept: its value where it accepts the document, else its
        # error, whose message names the line as tomllib's does.
        return rtoml.loads(text)
    except Exception:  # noqa: BLE001 - whatever rtoml objects to, tomli decides
        pass
    try:
        return tomli.loads(text)
    except tomli.TOMLDecodeError as exc:
        # The line is read from the message, which is the same in tomllib (no lineno before 3.14).
        message = str(exc)
        match = _TOML_LINE_RE.search(message)
        line = int(match.group(1)) if match else None
        if line is None and "(at end of document)" in message:
            # A truncated file: the decoder ran out of text on the last line.
            line = max(len(text.splitlines()), 1)
            message = message.replace("(at end of document)", "")
        message = _TOML_LINE_RE.sub("", message).strip()
        raise LockfileError(path, f"invalid TOML: {message}", line=line) from None


def load_json(path: str, text: str) -> Any:
    text = _document_text(path, text)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise LockfileError(path, f"invalid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno) from None
    except RecursionError:
        raise LockfileError(path, "invalid JSON: nested too deeply") from None


def array_table_lines(text: str, key: str) -> list[int]:
    """Line numbers of each ``[[key]]`` header, in order: tomllib keeps no positions, but the
    i-th header is the i-th array element, which is all a "line 120" message needs."""
    pattern = re.compile(rf"^\s*\[\[\s*{re.escape(key)}\s*\]\]\s*(#.*)?$")
    return [n for n, line in enumerate(text.splitlines(), start=1) if pattern.match(line)]


def line_for(lines: list[int], index: int, count: int) -> int | None:
    """The header line of element ``index``, only when headers and elements agree in number
    (an inline array ``package = [{…}]`` has no headers: better no line than a wrong one)."""
    return lines[index] if len(lines) == count else None


def package_array(path: str, data: dict[str, Any]) -> list[Any]:
    """The ``[[package]]`` array of poetry.lock, uv.lock and pdm.lock (absent: empty)."""
    raw_packages = data.get("package", [])
    if not isinstance(raw_packages, list):
        raise LockfileError(path, "'package' is not an array of tables")
    return raw_packages


def tool_metadata(
    path: str, data: dict[str, Any], *, tool: str, lock_name: str, problems: list[LockfileProblem]
) -> tuple[dict[str, Any], list[Any]]:
    """``[metadata]`` and ``[[package]]`` of a poetry.lock or pdm.lock. A missing table is only a
    problem, but a file with neither is some other TOML file that happens to bear the name."""
    metadata = data.get("metadata")
    if not isinstance(metadata, dict):
        metadata = {}
        problems.append(LockfileProblem(path, "metadata", f"no [metadata] table: not written by {tool}?"))
    raw_packages = package_array(path, data)
    if not raw_packages and not metadata:
        raise LockfileError(path, f"no [[package]] entries and no [metadata]: not a {lock_name}")
    return metadata, raw_packages


def tables(
    items: list[Any], *, path: str, location: str, problems: list[LockfileProblem]
) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """``(index, key path, table)`` for each table of an array; any other element is reported
    with its key path and skipped, so one stray value never hides its neighbours."""
    for index, item in enumerate(items):
        where = f"{location}[{index}]"
        if not isinstance(item, dict):
            problems.append(LockfileProblem(path, where, "not a table"))
            continue
        yield index, where, item


def package_tables(
    path: str, text: str, raw_packages: list[Any], *, problems: list[LockfileProblem]
) -> Iterator[tuple[int, str, int | None, dict[str, Any]]]:
    """:func:`tables` over ``[[package]]``, with each entry's header line for messages."""
    header_lines = array_table_lines(text, "package")
    for index, location, raw in tables(raw_packages, path=path, location="package", problems=problems):
        yield index, location, line_for(header_lines, index, len(raw_packages)), raw


def str_field(table: dict[str, Any], key: str) -> str | None:
    """A value that must be a string; anything else counts as absent."""
    value = table.get(key)
    return value if isinstance(value, str) else None


def str_items(raw: object, *, sort: bool = False) -> tuple[str, ...]:
    """The strings of a list (``groups``, ``extras``); a non-list or non-string item is ignored:
    these labels only annotate a package, they never decide whether it is analysed."""
    if not isinstance(raw, list):
        return ()
    items = [item for item in raw if isinstance(item, str)]
    return tuple(sorted(items) if sort else items)


def requirement_source(
    raw: dict[str, Any], *, url_key: str, url_label: str, ref_keys: tuple[str, ...]
) -> tuple[Source, str | None]:
    """Where a pdm.lock or Pipfile.lock entry comes from: both spell a non-index package as
    pip's requirement fields (``git``/``hg``/…, ``editable``, ``path``, a URL key)."""
    vcs = next((key for key in _VCS_KEYS if key in raw), None)
    if vcs is not None:
        ref = next((raw[key] for key in ref_keys if raw.get(key)), None)
        return "vcs", f"{vcs} {raw[vcs]}" + (f"@{ref}" if ref else "")
    if raw.get("editable"):
        return "editable", f"editable {raw.get('path') or raw.get(url_key)}"
    if "path" in raw:
        return "path", f"path {raw['path']}"
    if url_key in raw:
        return "url", f"{url_label} {raw[url_key]}"
    return "index", None


def with_lines(problems: list[LockfileProblem], text: str, *, key: str, count: int) -> tuple[LockfileProblem, ...]:
    """Give each problem under ``key[i]`` the line of that ``[[key]]`` header, so that a
    message names file and line and not only a key path."""
    headers = array_table_lines(text, key)
    element = re.compile(rf"^{re.escape(key)}\[(\d+)\]")
    located = []
    for problem in problems:
        match = element.match(problem.location or "")
        line = line_for(headers, int(match.group(1)), count) if match and problem.line is None else None
        located.append(replace(problem, line=line) if line else problem)
    return tuple(located)


def canonical_name(raw: object, *, path: str, location: str, problems: list[LockfileProblem]) -> NormalizedName | None:
    if not isinstance(raw, str) or not raw:
        problems.append(LockfileProblem(path, location, f"missing or non-string package name: {raw!r}"))
        return None
    try:
        return canonicalize_name(raw, validate=True)
    except InvalidName:
        problems.append(LockfileProblem(path, location, f"invalid package name {raw!r}"))
        return None


def normalise_marker(raw: object, *, path: str, location: str, problems: list[LockfileProblem]) -> str | None:
    """A marker string as the analyser can evaluate it; an invalid one is reported and dropped
    (the package is then assumed to be installed everywhere, the cautious reading)."""
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        problems.append(LockfileProblem(path, location, f"marker is not a string: {raw!r}"))
        return None
    try:
        return str(Marker(raw))
    except InvalidMarker as exc:
        problems.append(LockfileProblem(path, location, f"invalid marker {raw!r}: {exc}"))
        return None


def sha256_of(raw: object) -> str | None:
    """``sha256:<hex>`` (poetry, uv, pdm) to bare lower-case hex; other algorithms give ``None``."""
    if isinstance(raw, str):
        match = _HASH_RE.match(raw.strip())
        if match:
            return match.group(1).lower()
    return None


def parse_time(raw: object) -> dt.datetime | None:
    if isinstance(raw, dt.datetime):
        return raw
    if isinstance(raw, str):
        try:
            return dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def url_basename(url: str) -> str:
    """The file name an index URL points at (``…/numpy-2.0-cp311-….whl#sha256=…`` -> the name).

    What ``basename(urlsplit(url).path)`` gives, by string splitting: a uv or pylock lock has a
    URL per file, thousands of them, and ``urlsplit`` was a tenth of such a lock's parse.
    """
    rest = url.split("#", 1)[0].split("?", 1)[0]
    scheme, sep, after = rest.partition("://")
    if sep and _SCHEME_RE.fullmatch(scheme):  # "scheme://netloc/path": the netloc is not the path
        slash = after.find("/")
        rest = after[slash:] if slash >= 0 else ""
    name = rest.rpartition("/")[2]
    return unquote(name) if "%" in name else name


_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")


def distribution_file(
    filename: str,
    *,
    url: str | None = None,
    sha256: str | None = None,
    size: object = None,
    upload_time: object = None,
    requires_python: str | None = None,
) -> DistributionFile:
    """The file a lock entry describes; values of the wrong type are left out (``None``)."""
    return _distribution_file(
        filename,
        url,
        sha256,
        size if isinstance(size, int) and not isinstance(size, bool) else None,
        upload_time if isinstance(upload_time, (str, dt.datetime)) else None,
        requires_python,
    )


@functools.lru_cache(maxsize=1 << 16)  # ~0.5 kB each: ~30 MB of a worker at most
def _distribution_file(
    filename: str,
    url: str | None,
    sha256: str | None,
    size: int | None,
    upload_time: str | dt.datetime | None,
    requires_python: str | None,
) -> DistributionFile:
    # Remembered: the repos of an organisation lock the same releases, and a file-carrying lock
    # lists every file of each (2,400 per 150-package uv.lock); a DistributionFile is frozen, so
    # one instance serves every lock that lists the same file with the same values.
    return DistributionFile(
        filename=filename,
        url=url,
        sha256=sha256,
        size=size,
        upload_time=parse_time(upload_time),
        requires_python=requires_python,
    )


def or_markers(markers: list[str | None]) -> str | None:
    """Join alternative markers; any ``None`` (unconditional) makes the whole thing unconditional."""
    if not markers or any(m is None for m in markers):
        return None
    unique = list(dict.fromkeys(m for m in markers if m))
    if len(unique) == 1:
        return unique[0]
    return " or ".join(f"({m})" for m in unique)
