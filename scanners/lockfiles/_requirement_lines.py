"""The line grammar of pip requirements files, as pip's own ``req_file`` reads it: backslash
continuations joined, comments removed (and kept, for pip-compile's ``# via``), options split
from requirements. :mod:`scanners.lockfiles.requirements` gives the lines their meaning."""

from __future__ import annotations

import re

__all__ = ["logical_lines", "split_option", "split_options", "strip_comment"]

_COMMENT_RE = re.compile(r"(^|\s+)#.*$")


def logical_lines(text: str) -> list[tuple[int, str, list[str]]]:
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
            result.append((start, strip_comment(" ".join(parts), comments), comments))
            parts, comments = [], []
        if raw.endswith("\\") and not is_comment:
            if not parts:
                start = number
            parts.append(raw[:-1])
            continue
        if parts:
            parts.append(raw)
            result.append((start, strip_comment(" ".join(parts), comments), comments))
            parts, comments = [], []
            continue
        line_comments: list[str] = []
        result.append((number, strip_comment(raw, line_comments), line_comments))
    if parts:
        result.append((start, strip_comment(" ".join(parts), comments), comments))
    return result


def strip_comment(line: str, comments: list[str]) -> str:
    match = _COMMENT_RE.search(line)
    if match:
        comments.append(match.group(0).strip()[1:].strip())
        line = line[: match.start()]
    return line.strip()


def split_option(line: str) -> tuple[str, str]:
    """``-r file``, ``-rfile``, ``--requirement=file``, ``--requirement file`` -> (option, value)."""
    if line.startswith("--"):
        option, sep, value = line.partition("=")
        if not sep:
            option, _, value = line.partition(" ")
        return option.strip(), value.strip()
    option, value = line[:2], line[2:]
    return option, value.strip().removeprefix("=").strip()


def split_options(line: str) -> tuple[str, list[str]]:
    """The requirement and its per-requirement options (``--hash=…``, ``--config-settings …``):
    like pip's ``break_args_options``, the requirement ends at the first whitespace-separated
    token that starts with ``-``."""
    tokens = line.split()
    for index, token in enumerate(tokens):
        if token.startswith("-"):
            return " ".join(tokens[:index]), tokens[index:]
    return " ".join(tokens), []
