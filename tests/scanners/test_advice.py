"""Fix versions: the lowest newer release with a wheel on every target."""

from __future__ import annotations

import pytest

from scanners.advice import fix_version
from scanners.distributions import DistributionFile, ProjectFiles
from scanners.targets import Target

AMD64 = Target.from_flags("linux/amd64", "3.11", "glibc:2.36")
ARM64 = Target.from_flags("linux/arm64", "3.11", "glibc:2.36")
ARM64_MUSL = Target.from_flags("linux/arm64", "3.11", "musl:1.2")


def project(*filenames: str, yanked: tuple[str, ...] = ()) -> ProjectFiles:
    return ProjectFiles(
        name="demo",
        files=tuple(DistributionFile(f, yanked="broken" if f in yanked else False) for f in filenames),
    )


RELEASES = project(
    "demo-1.0.tar.gz",
    "demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
    "demo-1.1-cp311-cp311-manylinux_2_17_x86_64.whl",
    "demo-1.1.tar.gz",
    "demo-1.2-cp311-cp311-manylinux_2_17_x86_64.whl",
    "demo-1.2-cp311-cp311-manylinux_2_17_aarch64.whl",
    "demo-2.0-cp311-cp311-manylinux_2_17_x86_64.whl",
    "demo-2.0-cp311-cp311-manylinux_2_17_aarch64.whl",
    "demo-2.0-cp311-cp311-musllinux_1_2_aarch64.whl",
    "demo-3.0rc1-py3-none-any.whl",
)


@pytest.mark.parametrize(
    ("locked", "targets", "expected"),
    [
        ("1.0", (AMD64, ARM64), "1.2"),  # 1.1 has no aarch64 wheel: skipped
        ("1.0", (AMD64,), "1.1"),  # only amd64 matters: the very next release does
        ("1.0", (ARM64_MUSL,), "2.0"),  # musllinux wheels arrive later than manylinux ones
        ("2.0", (AMD64, ARM64), None),  # nothing newer but a pre-release
        ("3.0a1", (ARM64_MUSL,), "3.0rc1"),  # a pre-release lock may move to a later pre-release
        ("not a version", (AMD64,), None),
        ("1.0", (), None),
    ],
)
def test_fix_version(locked, targets, expected):
    assert fix_version(RELEASES, locked, targets) == expected


def test_fully_yanked_release_is_never_suggested():
    files = project(
        "demo-1.0.tar.gz",
        "demo-1.1-py3-none-any.whl",
        "demo-1.2-py3-none-any.whl",
        yanked=("demo-1.1-py3-none-any.whl",),
    )
    assert fix_version(files, "1.0", (ARM64,)) == "1.2"


def test_a_fix_version_is_worked_out_once_per_page_and_its_metadata_checks_asked_again():
    page = project(*(f.filename for f in RELEASES.files))
    asked: list[tuple[str, ...]] = []
    refused = {"demo-1.2-cp311-cp311-manylinux_2_17_aarch64.whl"}  # e.g. an invalid Requires-Dist

    def installable(wheels):
        names = tuple(sorted(w.filename for w in wheels))
        asked.append(names)
        return not refused & set(names)

    assert fix_version(page, "1.0", (AMD64, ARM64), installable=installable) == "2.0"
    first = list(asked)
    assert len(first) == 2  # 1.2 (refused), then 2.0
    asked.clear()
    # Another repository locking the same version: the answer is remembered on the page, and the
    # same checks are asked again (a scan records the metadata it read) without trying each release.
    assert fix_version(page, "1.0", (AMD64, ARM64), installable=installable) == "2.0"
    assert asked == first
    # The metadata read answers differently now (it failed before): the answer is worked out anew.
    refused.clear()
    assert fix_version(page, "1.0", (AMD64, ARM64), installable=installable) == "1.2"
    # A page fetched anew is a new object, with nothing remembered.
    assert project(*(f.filename for f in RELEASES.files)).answers == {}
