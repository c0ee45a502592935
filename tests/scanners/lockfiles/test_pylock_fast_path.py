"""pylock.toml's fast check of index packages (``_index_package``) against packaging's own.

The fast check may only say yes where ``packaging.pylock`` accepts the package, and must then
give exactly the package the packaging path gives; everything else is left to packaging (whose
messages the parser reports). Each case below changes one thing of a package as uv export
writes it.
"""

from __future__ import annotations

import copy
import datetime as dt

import pytest
import tomli
from packaging.pylock import Pylock, PylockValidationError

from scanners.lockfiles import pylock
from tests.scanners.lockfiles._helpers import fixture

UPLOADED = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
BASE = {
    "name": "ujson",
    "version": "5.10.0",
    "index": "https://index.test/simple",
    "marker": "python_version >= '3.9'",
    "requires-python": ">=3.8",
    "dependencies": [{"name": "Six"}, {"name": "attrs", "version": "23.1"}],
    "sdist": {
        "url": "https://index.test/files/ujson-5.10.0.tar.gz",
        "upload-time": UPLOADED,
        "size": 7154,
        "hashes": {"sha256": "a" * 64},
    },
    "wheels": [
        {
            "url": "https://index.test/files/ujson-5.10.0-cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
            "upload-time": UPLOADED,
            "size": 53000,
            "hashes": {"sha256": "b" * 64},
        },
        {
            "url": "https://index.test/files/ujson-5.10.0-cp312-cp312-musllinux_1_2_x86_64.whl",
            "upload-time": UPLOADED,
            "size": 54000,
            "hashes": {"sha256": "c" * 64, "blake2b": "d" * 32},
        },
    ],
}


def _with(path: str, value) -> dict:
    """BASE with the value at ``path`` ("wheels.0.size") replaced; ``...`` deletes it."""
    entry = copy.deepcopy(BASE)
    *parents, last = path.split(".")
    target = entry
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if value is ...:
        del target[int(last) if last.isdigit() else last]
    elif last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    return entry


CASES = {
    "as uv writes it": BASE,
    "no marker, no requires-python": _with("marker", ...) | {},
    "without a version (files pin it)": _with("version", ...),
    "a version spelled otherwise": _with("version", "5.10"),
    "wheels only": _with("sdist", ...),
    "sdist only": _with("wheels", ...),
    "empty wheels, an sdist": _with("wheels", []),
    "no files at all": _with("wheels", ...) | {"sdist": None},
    "the wheel's own name key": _with("wheels.0.name", "ujson-5.10.0-cp312-cp312-win_amd64.whl"),
    "a path instead of a URL": _with(
        "wheels.0", {"path": "dist/ujson-5.10.0-cp312-cp312-win_amd64.whl", "hashes": {"sha256": "f" * 64}}
    ),
    "a Windows path": _with("sdist", {"path": "dist\\ujson-5.10.0.tar.gz", "hashes": {"sha256": "e" * 64}}),
    "a percent-encoded URL": _with(
        "wheels.1.url", "https://index.test/files/ujson-5.10.0-cp312-cp312-musllinux_1_2_x86%5F64.whl"
    ),
    "URL parameters": _with("wheels.1.url", "https://index.test/files/ujson-5.10.0-cp312-cp312-any.whl;x=1"),
    "a scheme-relative URL": _with("wheels.1.url", "//index.test/ujson-5.10.0-cp312-cp312-any.whl"),
    "name not normalised": _with("name", "UJson"),
    "name not a string": _with("name", 7),
    "an invalid version": _with("version", "five"),
    "a version the files contradict": _with("version", "5.11.0"),
    "a wheel of another project": _with("wheels.1.url", "https://index.test/f/other-5.10.0-cp312-cp312-any.whl"),
    "a wheel name packaging refuses": _with("wheels.1.url", "https://index.test/f/ujson-5.10.0-cp312.whl"),
    "a wheel name with an empty tag": _with("wheels.1.url", "https://index.test/f/ujson-5.10.0--none-any.whl"),
    "an upper-case .WHL": _with("wheels.1.url", "https://index.test/f/ujson-5.10.0-py3-none-any.WHL"),
    "an sdist name packaging refuses": _with("sdist.url", "https://index.test/f/ujson.tar.gz"),
    "an sdist of another version": _with("sdist.url", "https://index.test/f/ujson-5.9.0.tar.gz"),
    "neither URL nor path": _with("wheels.0.url", ...),
    "empty hashes": _with("wheels.0.hashes", {}),
    "a hash not a string": _with("wheels.0.hashes", {"sha256": 5}),
    "hashes not a table": _with("wheels.0.hashes", ["sha256:" + "b" * 64]),
    "size a boolean": _with("wheels.0.size", True),
    "size a string": _with("wheels.0.size", "53000"),
    "upload time a string": _with("wheels.0.upload-time", "2025-03-01T12:00:00Z"),
    "upload time a local date": _with("wheels.0.upload-time", dt.date(2025, 3, 1)),
    "an unknown key on a wheel": _with("wheels.0.attestations", []),
    "wheels not an array": _with("wheels", {"url": "https://index.test/ujson-5.10.0-py3-none-any.whl"}),
    "a wheel not a table": _with("wheels.0", "ujson-5.10.0-py3-none-any.whl"),
    "an invalid marker": _with("marker", "python_version >>> '3'"),
    "an invalid requires-python": _with("requires-python", "3.8+"),
    "empty requires-python": _with("requires-python", ""),
    "dependencies not tables": _with("dependencies", ["six"]),
    "dependencies a string": _with("dependencies", "six"),
    "index not a string": _with("index", 1),
    "a tool table": BASE | {"tool": {"uv": {"source": "pypi"}}},
    "attestation identities": BASE | {"attestation-identities": [{"kind": "GitHub"}]},
    "a vcs package as well": BASE | {"vcs": {"type": "git", "url": "https://x.test/r.git", "commit-id": "0" * 40}},
    "a directory package": {"name": "svc", "directory": {"path": "."}},
}


def _packaging(raw):
    """What the packaging path makes of ``raw``: the package, or packaging's error."""
    try:
        package = Pylock.from_dict({**pylock._SKELETON, "packages": [raw]}).packages[0]
    except PylockValidationError as exc:
        return exc
    return pylock._package("", package, line=None)


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_fast_check_accepts_only_what_packaging_accepts_and_gives_the_same_package(case: str) -> None:
    raw = CASES[case]
    fast = pylock._index_package(copy.deepcopy(raw))
    slow = _packaging(copy.deepcopy(raw))
    if fast is not None:
        assert not isinstance(slow, PylockValidationError), slow
        assert fast == slow


def test_the_cases_cover_both_answers() -> None:
    # The comparison above means something only if many cases take the fast path and packaging
    # refuses many of the others.
    fast = [c for c, raw in CASES.items() if pylock._index_package(copy.deepcopy(raw)) is not None]
    refused = [c for c, raw in CASES.items() if isinstance(_packaging(copy.deepcopy(raw)), PylockValidationError)]
    assert len(fast) >= 12 and len(refused) >= 15, (fast, refused)
    assert "as uv writes it" in fast and "a vcs package as well" in refused


@pytest.mark.parametrize(
    "name", ["web-uv-export.pylock.toml", "data-uv-export.pylock.toml", "web-pip-lock.pylock.toml"]
)
def test_real_locks_index_packages_take_the_fast_path_to_the_same_packages(name: str) -> None:
    packages = tomli.loads(fixture(f"pylock/{name}"))["packages"]
    fast = [pylock._index_package(copy.deepcopy(raw)) for raw in packages]
    assert sum(f is not None for f in fast) >= len(packages) - 1  # all but the project's own directory
    for raw, package in zip(packages, fast, strict=True):
        if package is not None:
            assert package == _packaging(raw)
