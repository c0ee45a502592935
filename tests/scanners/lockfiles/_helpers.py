"""Shared by the lockfile tests: fixture loading and the broken inputs every format must survive."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "lockfiles"


def fixture(relative: str) -> str:
    return (FIXTURES / relative).read_text(encoding="utf-8")


def truncated(text: str, marker: str) -> str:
    """Cut the text a few characters into a quoted value after the middle: what a partial
    download or a disk-full write leaves behind, and never valid TOML/JSON."""
    at = text.index(marker, len(text) // 2)
    return text[: at + len(marker) + 5]


BINARY = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"
