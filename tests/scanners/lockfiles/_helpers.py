"""Shared by the lockfile tests: fixture loading and the broken inputs every format must survive."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanners.lockfiles import parse_lockfile
from scanners.lockfiles.base import LockfileError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "lockfiles"


def fixture(relative: str) -> str:
    return (FIXTURES / relative).read_text(encoding="utf-8")


def truncated(text: str, marker: str) -> str:
    """Cut the text a few characters into a quoted value after the middle: what a partial
    download or a disk-full write leaves behind, and never valid TOML/JSON."""
    at = text.index(marker, len(text) // 2)
    return text[: at + len(marker) + 5]


BINARY = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"


def assert_unreadable(path: str, text: str, *, message: str, line: int | None) -> LockfileError:
    """The file is refused as a whole, and the error names the file (and the line when known)
    the way a user reads it: ``poetry.lock:41: invalid TOML …``."""
    with pytest.raises(LockfileError, match=message) as info:
        parse_lockfile(path, text)
    error = info.value
    assert (error.path, error.line) == (path, line)
    assert str(error).startswith(f"{path}:{line}: " if line else f"{path}: ")
    return error


def assert_truncation_names_last_line(path: str, text: str, *, message: str) -> None:
    """A lock cut off mid-value is reported at its last line, where the cut is."""
    assert_unreadable(path, text, message=message, line=len(text.splitlines()))
