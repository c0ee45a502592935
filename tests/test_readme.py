"""The README tells users what the code does: every setting, and nothing outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_every_environment_setting_is_in_the_readme_table():
    settings = (ROOT / "readiness" / "settings.py").read_text()
    names = set(re.findall(r'env(?:str|int|bool|secret)\(\s*"([A-Z][A-Z0-9_]+)"', settings))
    names |= set(re.findall(r'os\.environ\.get\("([A-Z][A-Z0-9_]+)"', settings))
    table = README.split("## Configuration (environment variables)", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", table))
    assert names, "settings.py reads no environment variable?"
    assert sorted(names - documented) == []


def test_the_readme_points_at_nothing_outside_the_repository():
    assert "../" not in README


def _layout() -> str:
    return README.split("## Layout", 1)[1].split("\n## ", 1)[0]


def test_the_layout_names_every_module_of_the_engine_and_the_app():
    layout = set(re.findall(r"`([a-z_]+)/?`", _layout()))
    for package in ("scanners", "readiness"):
        entries = {
            p.stem
            for p in (ROOT / package).iterdir()
            if (p.suffix == ".py" and p.stem != "__init__") or (p.is_dir() and (p / "__init__.py").exists())
        }
        entries -= {"migrations", "wsgi", "apps"}  # Django's own boilerplate
        assert sorted(entries - layout) == [], f"{package}/ entries missing from the README's layout"
