"""File names parse exactly as packaging parses them, though wheels are parsed in cached halves."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from packaging.utils import InvalidWheelFilename, parse_wheel_filename
from packaging.version import InvalidVersion

from scanners.distributions import DistributionFile, _parse_filename, release_key

PROJECTS = Path(__file__).resolve().parents[1] / "fixtures" / "index" / "projects"

TRICKY = [
    "numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "foo.bar-1.0-py2.py3-none-any.whl",
    "Mark_Up-2.0-cp312-abi3-macosx_10_9_universal2.whl",
    "a-1-1b-py3-none-any.whl",  # a build tag
    "a-1-x-py3-none-any.whl",  # a build tag that is not one
    "Foo__bar-1.0-py3-none-any.whl",
    "foo-1.0-py3-none-any.WHL",
    "foo-bad!ver-py3-none-any.whl",
    "foo-1.0-py3-none.whl",
    "foo-1.0-1-2-py3-none-any.whl",
    "-1.0-py3-none-any.whl",
    "foo-1.0--none-any.whl",
    "foo-1.0-py3-none-.whl",
    "foo-1.0-py3-none-any-.whl",
    "foo-1.0-py3..py2-none-any.whl",
    "föö-1.0-py3-none-any.whl",
]


def _packaging(filename: str):
    try:
        name, version, _build, tags = parse_wheel_filename(filename)
    except (InvalidWheelFilename, InvalidVersion):
        return ("other", None, None, frozenset())
    return ("wheel", name, version, tags)


def _recorded_wheel_names() -> list[str]:
    names = []
    for page in sorted(PROJECTS.glob("*.json")):
        names += [f["filename"] for f in json.loads(page.read_text())["files"] if f["filename"].endswith(".whl")]
    return names


def _mutations(filename: str):
    # Every name with one more dash, one dash fewer or an empty part: the ways a name goes wrong.
    stem = filename[:-4]
    for i, ch in enumerate(stem):
        if ch == "-":
            yield stem[:i] + stem[i + 1 :] + ".whl"
            yield stem[:i] + "--" + stem[i + 1 :] + ".whl"
        elif ch == ".":
            yield stem[:i] + "-" + stem[i + 1 :] + ".whl"


@pytest.mark.parametrize("filename", TRICKY)
def test_tricky_names(filename):
    f = DistributionFile(filename)
    assert (f.kind, f.project, f.version, f.tags) == _packaging(filename)


def test_every_recorded_wheel_and_its_mutations():
    names = _recorded_wheel_names()
    assert len(names) > 500
    checked = 0
    for filename in itertools.chain(names, *(_mutations(n) for n in names[::25])):
        f = DistributionFile(filename)
        assert (f.kind, f.project, f.version, f.tags) == _packaging(filename), filename
        checked += 1
    assert checked > len(names)


@pytest.mark.parametrize(
    ("filename", "project", "key"),
    [
        ("pkg-1.0-py3-none-any.whl", "pkg", "1.0"),
        ("pkg-01.0-py3-none-any.whl", "pkg", "1.0"),
        ("pkg-1.0.0-1-cp311-cp311-manylinux_2_17_x86_64.whl", "pkg", "1.0.0"),  # a build tag
        ("Pkg_Name-2.0-py3-none-any.whl", "pkg-name", "2.0"),
        ("Pkg_Name-2.0-py3-none-any.whl", "pkg", None),  # another project's wheel on the page
        ("pkg-1.0--none-any.whl", "pkg", None),  # an empty tag: packaging refuses the name
        ("pkg-notaversion-py3-none-any.whl", "pkg", None),
        ("pkg-1.0-x-py3-none-any.whl", "pkg", None),  # a build tag must start with a digit
        ("pkg-1.0-1-2-py3-none-any.whl", "pkg", None),  # too many parts
        ("pkg-1.0-py3-none-any.WHL", "pkg", None),
        ("pkg-1.0.tar.gz", "pkg", "1.0"),
    ],
)
def test_a_files_release_key_is_its_release_as_the_page_groups_it(filename, project, key):
    """Wheels take a shortcut (one head per release, tags checked alone): it answers as the full
    parse of the name does, for the files of a real page and for the ones packaging refuses."""
    assert release_key(filename, project) == key
    _kind, name, version, _tags = _parse_filename.__wrapped__(filename)
    expected = str(version) if version is not None and name == project else None
    assert release_key(filename, project) == expected
