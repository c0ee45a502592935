from __future__ import annotations

import pytest

from scanners.lockfiles import FORMATS, detect_format, parse_lockfile
from scanners.lockfiles.base import LockfileError


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("requirements.txt", "requirements"),
        ("requirements-dev.txt", "requirements"),
        ("services/api/requirements_prod.txt", "requirements"),
        ("dev-requirements.txt", "requirements"),
        ("Requirements.TXT", "requirements"),
        ("constraints.txt", "requirements"),
        ("constraints-py311.txt", "requirements"),
        ("requirements/base.txt", "requirements"),
        ("app/requirements/prod.txt", "requirements"),
        ("requirements.in", None),
        ("requirements/base.in", None),
        ("notes.txt", None),
        ("docs/constraints-notes.md", None),
        ("poetry.lock", "poetry.lock"),
        ("backend/poetry.lock", "poetry.lock"),
        ("uv.lock", "uv.lock"),
        ("Pipfile.lock", "Pipfile.lock"),
        ("Pipfile", None),
        ("pdm.lock", "pdm.lock"),
        ("pylock.toml", "pylock.toml"),
        ("sub/pylock.dev.toml", "pylock.toml"),
        ("pylock.a.b.toml", None),
        ("pyproject.toml", None),
        ("windows\\style\\requirements.txt", "requirements"),
    ],
)
def test_detect_format(path: str, expected: str | None) -> None:
    assert detect_format(path) == expected


def test_every_detected_format_is_listed() -> None:
    for path in ("requirements.txt", "poetry.lock", "uv.lock", "Pipfile.lock", "pdm.lock", "pylock.toml"):
        assert detect_format(path) in FORMATS


def test_unknown_file_name_is_a_lockfile_error() -> None:
    with pytest.raises(LockfileError, match="notes.md"):
        parse_lockfile("notes.md", "hello")


def test_format_override_parses_an_oddly_named_file() -> None:
    parsed = parse_lockfile("deps/locked.txt", "requests==2.34.2\n", lockfile_format="requirements")
    assert parsed.format == "requirements"
    assert [(p.name, p.version) for p in parsed.packages] == [("requests", "2.34.2")]
