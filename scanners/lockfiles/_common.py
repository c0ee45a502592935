"""Helpers shared by the lockfile parsers: decoding TOML/JSON into a clear error, names, files.

Every parser turns a decode failure into :class:`LockfileError` with the line the decoder
reports, so a user sees ``poetry.lock:41: …`` instead of a traceback, and every bad entry
into a :class:`LockfileProblem` with a key path such as ``package[3].files[0]``.
"""

from __future__ import annotations

import datetime as dt
import json
import posixpath
import re
import tomllib
from typing import Any
from urllib.parse import unquote, urlsplit

from packaging.markers import InvalidMarker, Marker
from packaging.utils import InvalidName, NormalizedName, canonicalize_name

from scanners.distributions import DistributionFile
from scanners.lockfiles.base import LockfileError, LockfileProblem

__all__: list[str] = []  # private module: the parsers import the names they need

_TOML_LINE_RE = re.compile(r"\(at line (\d+), column \d+\)")
_HASH_RE = re.compile(r"^sha256[:=]([0-9a-fA-F]{64})$")


def check_text(path: str, text: str) -> str:
    """Refuse binary input up front: a NUL byte never occurs in a text lockfile, and TOML/JSON
    decoders would otherwise report a confusing error somewhere in the middle."""
    if "\x00" in text:
        raise LockfileError(path, "binary file (contains NUL bytes), not a lockfile")
    return text.removeprefix("\ufeff")


def load_toml(path: str, text: str) -> dict[str, Any]:
    text = check_text(path, text)
    if not text.strip():
        raise LockfileError(path, "empty file")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # Python 3.11's TOMLDecodeError has no lineno attribute: the line is only in the message.
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
    text = check_text(path, text)
    if not text.strip():
        raise LockfileError(path, "empty file")
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
    """The file name an index URL points at (``…/numpy-2.0-cp311-….whl#sha256=…`` -> the name)."""
    return unquote(posixpath.basename(urlsplit(url).path))


def distribution_file(
    filename: str,
    *,
    url: str | None = None,
    sha256: str | None = None,
    size: object = None,
    upload_time: object = None,
    requires_python: str | None = None,
) -> DistributionFile:
    return DistributionFile(
        filename=filename,
        url=url,
        sha256=sha256,
        size=size if isinstance(size, int) and not isinstance(size, bool) else None,
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
