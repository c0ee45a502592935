"""Targets: validation, the platform ladder, pip's tag order and the PEP 508 environment."""

from __future__ import annotations

import pytest
from packaging.markers import Marker
from packaging.tags import Tag

from scanners.targets import Target, parse_libc_spec, parse_target


def _ladder_glibc(top: int, floor: int, arch: str) -> list[str]:
    legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
    out = []
    for m in range(top, floor - 1, -1):
        out.append(f"manylinux_2_{m}_{arch}")
        if m in legacy:
            out.append(f"{legacy[m]}_{arch}")
    return out + [f"linux_{arch}"]


@pytest.mark.parametrize(
    ("platform", "libc", "version", "expected"),
    [
        ("linux/arm64", "glibc", "2.17", ["manylinux_2_17_aarch64", "manylinux2014_aarch64", "linux_aarch64"]),
        ("linux/arm64", "glibc", "2.28", _ladder_glibc(28, 17, "aarch64")),
        ("linux/arm64", "glibc", "2.36", _ladder_glibc(36, 17, "aarch64")),
        ("linux/amd64", "glibc", "2.17", _ladder_glibc(17, 5, "x86_64")),
        ("linux/amd64", "glibc", "2.28", _ladder_glibc(28, 5, "x86_64")),
        ("linux/amd64", "glibc", "2.36", _ladder_glibc(36, 5, "x86_64")),
        ("linux/amd64", "musl", "1.1", ["musllinux_1_1_x86_64", "musllinux_1_0_x86_64", "linux_x86_64"]),
        (
            "linux/arm64",
            "musl",
            "1.2",
            ["musllinux_1_2_aarch64", "musllinux_1_1_aarch64", "musllinux_1_0_aarch64", "linux_aarch64"],
        ),
        ("linux/arm/v7", "glibc", "2.17", ["manylinux_2_17_armv7l", "manylinux2014_armv7l", "linux_armv7l"]),
    ],
)
def test_platform_ladder(platform: str, libc: str, version: str, expected: list[str]) -> None:
    assert list(Target(platform, "3.11", libc, version).platform_tags()) == expected


@pytest.mark.parametrize(
    ("platform", "version", "legacy_positions"),
    [
        # Each legacy alias comes right after the manylinux_2_N tag it aliases.
        (
            "linux/amd64",
            "2.36",
            {
                "manylinux2014_x86_64": "manylinux_2_17_x86_64",
                "manylinux2010_x86_64": "manylinux_2_12_x86_64",
                "manylinux1_x86_64": "manylinux_2_5_x86_64",
            },
        ),
        ("linux/arm64", "2.36", {"manylinux2014_aarch64": "manylinux_2_17_aarch64"}),
    ],
)
def test_legacy_aliases_follow_their_tag(platform: str, version: str, legacy_positions: dict[str, str]) -> None:
    ladder = list(Target(platform, "3.12", "glibc", version).platform_tags())
    for legacy, canonical in legacy_positions.items():
        assert ladder[ladder.index(legacy) - 1] == canonical
    assert not any(p.startswith(("manylinux2010", "manylinux1_")) for p in ladder if p.endswith("aarch64"))


def _t(s: str) -> Tag:
    interp, abi, plat = s.split("-")
    return Tag(interp, abi, plat)


@pytest.mark.parametrize(
    ("python", "first", "ordered"),
    [
        (
            "3.11",
            "cp311-cp311-manylinux_2_36_aarch64",
            # exact ABI beats abi3 beats none; newer abi3 beats older; compatible tags last
            [
                "cp311-cp311-manylinux_2_17_aarch64",
                "cp311-abi3-manylinux_2_36_aarch64",
                "cp311-abi3-linux_aarch64",
                "cp311-none-manylinux_2_36_aarch64",
                "cp310-abi3-manylinux_2_36_aarch64",
                "cp32-abi3-linux_aarch64",
                "py311-none-manylinux_2_36_aarch64",
                "py3-none-linux_aarch64",
                "cp311-none-any",
                "py311-none-any",
                "py3-none-any",
                "py30-none-any",
            ],
        ),
        (
            "3.9.18",
            "cp39-cp39-manylinux_2_36_aarch64",
            [
                "cp39-cp39-manylinux2014_aarch64",
                "cp39-abi3-manylinux_2_28_aarch64",
                "cp38-abi3-manylinux_2_36_aarch64",
                "cp32-abi3-manylinux2014_aarch64",
                "py39-none-any",
                "py3-none-any",
            ],
        ),
    ],
)
def test_tag_order(python: str, first: str, ordered: list[str]) -> None:
    target = Target("linux/arm64", python, "glibc", "2.36")
    tags = target.tags()
    assert tags[0] == _t(first)
    ranks = [target.priority[_t(s)] for s in ordered]
    assert ranks == sorted(ranks)
    assert tags[-1] == _t("py30-none-any")
    assert _t("cp31-abi3-manylinux_2_36_aarch64") not in target.priority
    assert _t("cp312-cp312-manylinux_2_36_aarch64") not in target.priority
    assert _t("cp311-cp311-manylinux_2_37_aarch64") not in target.priority
    assert _t("cp311-cp311-manylinux_2_17_x86_64") not in target.priority


@pytest.mark.parametrize(
    ("target", "accepted", "rejected"),
    [
        (
            Target("linux/amd64", "3.12", "musl", "1.2"),
            ["cp312-cp312-musllinux_1_1_x86_64"],
            ["cp312-cp312-manylinux_2_17_x86_64", "cp312-cp312-musllinux_1_3_x86_64"],
        ),
        (
            Target("linux/amd64", "3.12", "glibc", "2.28"),
            ["cp312-cp312-manylinux1_x86_64"],
            [
                "cp312-cp312-musllinux_1_1_x86_64",
                "cp312-cp312-manylinux_2_34_x86_64",
                "cp312-cp312-macosx_11_0_universal2",
                "cp312-cp312-win_amd64",
            ],
        ),
        (
            Target("linux/amd64", "3.7", "glibc", "2.28"),
            ["cp37-cp37m-manylinux2014_x86_64", "cp37-abi3-linux_x86_64"],
            ["cp37-cp37-manylinux2014_x86_64"],
        ),
    ],
)
def test_accepted_and_rejected_tags(target: Target, accepted: list[str], rejected: list[str]) -> None:
    for s in accepted:
        assert _t(s) in target.priority, s
    for s in rejected:
        assert _t(s) not in target.priority, s


def test_priority_is_computed_once_and_shared() -> None:
    a = Target("linux/arm64", "3.11", "glibc", "2.36", origin="Dockerfile:1")
    b = Target("linux/arm64", "3.11", "glibc", "2.36", origin="flag", id="arm")
    assert a.priority is b.priority
    assert a.tags() is b.tags()
    assert len(a.priority) == len(a.tags())
    assert all(a.priority[tag] == i for i, tag in enumerate(a.tags()))


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (
            Target("linux/arm64", "3.11"),
            {
                "python_version": "3.11",
                "python_full_version": "3.11.0",
                "implementation_version": "3.11.0",
                "platform_machine": "aarch64",
                "implementation_name": "cpython",
                "sys_platform": "linux",
                "platform_system": "Linux",
                "os_name": "posix",
                "platform_python_implementation": "CPython",
                "platform_release": "",
                "platform_version": "",
                "extra": "",
            },
        ),
        (
            Target("linux/amd64", "3.12.4", "musl", "1.2"),
            {"python_version": "3.12", "python_full_version": "3.12.4", "platform_machine": "x86_64"},
        ),
    ],
)
def test_marker_environment(target: Target, expected: dict[str, str]) -> None:
    env = target.marker_environment()
    for key, value in expected.items():
        assert env[key] == value, key
    assert set(env) >= {
        "python_version",
        "python_full_version",
        "implementation_name",
        "implementation_version",
        "platform_machine",
        "platform_system",
        "sys_platform",
        "os_name",
        "platform_python_implementation",
        "platform_release",
        "platform_version",
    }
    env["python_version"] = "2.7"  # a copy: the cached one must not change
    assert target.marker_environment()["python_version"] != "2.7"


@pytest.mark.parametrize(
    ("marker", "target", "expected"),
    [
        ('platform_machine == "aarch64"', Target("linux/arm64", "3.11"), True),
        ('platform_machine == "aarch64"', Target("linux/amd64", "3.11"), False),
        ('python_version < "3.10"', Target("linux/amd64", "3.9"), True),
        ('python_full_version >= "3.11.1"', Target("linux/amd64", "3.11"), False),
        ('sys_platform == "win32"', Target("linux/amd64", "3.11"), False),
    ],
)
def test_environment_drives_markers(marker: str, target: Target, expected: bool) -> None:
    assert Marker(marker).evaluate(target.marker_environment()) is expected


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"platform": "linux/386", "python": "3.11"}, "unknown platform 'linux/386'"),
        ({"platform": "linux/arm64", "python": "3"}, "invalid Python version '3'"),
        ({"platform": "linux/arm64", "python": "2.7"}, "invalid Python version '2.7'"),
        ({"platform": "linux/arm64", "python": "3.11.x"}, "invalid Python version '3.11.x'"),
        ({"platform": "linux/arm64", "python": "3.11", "libc": "uclibc"}, "unknown libc 'uclibc'"),
        ({"platform": "linux/arm64", "python": "3.11", "libc_version": "1.2"}, "invalid glibc version '1.2'"),
        (
            {"platform": "linux/arm64", "python": "3.11", "libc_version": "2.12"},
            "older than any manylinux wheel for aarch64",
        ),
        ({"platform": "linux/amd64", "python": "3.11", "libc_version": "2.4"}, "oldest is glibc 2.5"),
        (
            {"platform": "linux/amd64", "python": "3.11", "libc": "musl", "libc_version": "2.36"},
            "invalid musl version '2.36'",
        ),
    ],
)
def test_invalid_targets(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        Target(**kwargs)


@pytest.mark.parametrize(
    ("platform", "python", "libc_spec", "expected"),
    [
        ("linux/arm64", "3.11", "glibc:2.36", ("glibc", "2.36")),
        ("linux/amd64", "3.12", "musl:1.2", ("musl", "1.2")),
        ("linux/amd64", "3.12", "musl", ("musl", "1.2")),
        ("linux/amd64", "3.12", "GLIBC:2.28", ("glibc", "2.28")),
    ],
)
def test_from_flags(platform: str, python: str, libc_spec: str, expected: tuple[str, str]) -> None:
    target = Target.from_flags(platform, python, libc_spec)
    assert (target.libc, target.libc_version) == expected
    assert target.origin == "flag"
    assert target.id == platform


def test_defaults_and_parse_target() -> None:
    assert Target("linux/arm64", "3.11").libc_version == "2.36"
    assert Target("linux/arm64", "3.11", "musl").libc_version == "1.2"
    t = parse_target("linux/arm64,3.10,musl:1.1")
    assert (t.platform, t.python, t.libc, t.libc_version) == ("linux/arm64", "3.10", "musl", "1.1")
    with pytest.raises(ValueError, match="invalid libc 'bsd:1'"):
        parse_libc_spec("bsd:1")
    with pytest.raises(ValueError, match="invalid target"):
        parse_target("")
