"""Targets: where a package must install, and the wheel tags pip accepts there, best first.

A :class:`Target` is a *foreign* machine (a container image built for another CPU), so
nothing here may look at the running interpreter or its libc. packaging's ``sys_tags()`` and
its ``_manylinux``/``_musllinux`` helpers read the host, and pip's ``--platform`` expansion
only knows the ``manylinux2014``/``manylinux2010`` aliases, so the target spells out its
whole platform ladder itself and hands it to packaging's pure ``cpython_tags`` and
``compatible_tags`` with every argument explicit.

The tag list and its ``Tag -> rank`` dict are computed once per distinct target (a scan asks
for them about a million times) and kept in a module-level cache keyed by the fields that
decide them, so two targets that differ only by ``origin`` or ``id`` share one table.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.version import Version

__all__ = [
    "ARCHITECTURES",
    "DEFAULT_LIBC_VERSIONS",
    "Libc",
    "NOT_SUPPORTED",
    "Target",
    "TagTable",
    "parse_libc_spec",
    "parse_target",
]

Libc = Literal["glibc", "musl"]

ARCHITECTURES: Mapping[str, str] = {
    "linux/amd64": "x86_64",
    "linux/arm64": "aarch64",
    "linux/arm/v7": "armv7l",
}
"""Docker platform -> the machine name that wheel platform tags (and ``platform_machine``) use."""

DEFAULT_LIBC_VERSIONS: Mapping[str, str] = {"glibc": "2.36", "musl": "1.2"}
"""Debian bookworm (the ``python:3.x`` images) and Alpine 3.x, when an image names no version."""

# The oldest glibc each manylinux ladder goes down to (packaging's ``too_old_glibc2`` + 1):
# PEP 513's manylinux1 started at 2.5 on x86 only; every other arch begins with manylinux2014.
_GLIBC_FLOOR = {"x86_64": 5, "i686": 5}
_GLIBC_FLOOR_DEFAULT = 17
# PEP 600 legacy aliases, yielded right after the manylinux_2_N tag they alias, as packaging does.
_LEGACY_MANYLINUX = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}

_PYTHON_RE = re.compile(r"^3\.(\d{1,2})(?:\.(\d{1,3}))?$")
_GLIBC_RE = re.compile(r"^2\.(\d{1,2})$")
_MUSL_RE = re.compile(r"^1\.(\d{1,2})$")


@dataclass(frozen=True, slots=True)
class TagTable:
    """Everything about a target that the analyser looks up per file, computed once.

    ``tags`` is pip's priority order (index 0 is the best match); ``priority`` maps each tag to
    its index, a dict because the analyser's hot loop is one lookup per wheel tag.
    ``tag_set_ranks`` caches the best rank of a wheel's whole tag set (``frozenset`` hashes
    are cached by CPython, and most wheels of a scan share a handful of tag sets), with
    ``NOT_SUPPORTED`` for sets that do not match at all.
    """

    tags: tuple[Tag, ...]
    priority: dict[Tag, int]
    platforms: tuple[str, ...]
    python_version: Version
    environment: dict[str, str]
    tag_set_ranks: dict[frozenset[Tag], int]
    requires_python_ok: dict[str, bool]


NOT_SUPPORTED = 1 << 30
"""Rank of a tag set that the target cannot install: larger than any real rank."""

_TABLES: dict[tuple[str, str, str, str], TagTable] = {}
_TABLES_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class Target:
    """A platform, a CPython version and a libc: pip's view of a container image.

    ``python`` is ``"3.11"`` or a full ``"3.11.9"`` (Requires-Python and markers see
    ``3.11.0`` for the short form, as pip pads ``--python-version 3.11``). ``libc_version``
    is ``"2.36"`` for glibc or ``"1.2"`` for musl; empty means the common default for the
    libc. ``origin`` says where the target came from (``"Dockerfile:1"``, ``"default"``,
    ``"flag"``); ``id`` names the target in reports and defaults to the platform.

    :raises ValueError: on an unknown platform, a Python that is not ``3.N[.M]``, an unknown
        libc, or a libc version that does not fit the libc (or is below manylinux's floor
        for the architecture).
    """

    platform: str
    python: str
    libc: str = "glibc"
    libc_version: str = ""
    origin: str = "default"
    id: str = ""

    def __post_init__(self) -> None:
        if self.platform not in ARCHITECTURES:
            raise ValueError(f"unknown platform {self.platform!r}: expected one of {', '.join(ARCHITECTURES)}")
        if not isinstance(self.python, str) or not _PYTHON_RE.match(self.python):
            raise ValueError(f"invalid Python version {self.python!r}: expected 3.N or 3.N.M, such as 3.11 or 3.11.9")
        if self.libc not in DEFAULT_LIBC_VERSIONS:
            raise ValueError(f"unknown libc {self.libc!r}: expected 'glibc' or 'musl'")
        if not self.libc_version:
            object.__setattr__(self, "libc_version", DEFAULT_LIBC_VERSIONS[self.libc])
        if self.libc == "glibc":
            m = _GLIBC_RE.match(self.libc_version)
            if not m:
                raise ValueError(f"invalid glibc version {self.libc_version!r}: expected 2.N, such as 2.36")
            floor = _GLIBC_FLOOR.get(self.arch, _GLIBC_FLOOR_DEFAULT)
            if int(m.group(1)) < floor:
                raise ValueError(
                    f"glibc {self.libc_version} is older than any manylinux wheel for {self.arch} "
                    f"(the oldest is glibc 2.{floor})"
                )
        elif not _MUSL_RE.match(self.libc_version):
            raise ValueError(f"invalid musl version {self.libc_version!r}: expected 1.N, such as 1.2")
        if not self.id:
            object.__setattr__(self, "id", self.platform)

    # -- construction helpers ---------------------------------------------------------------

    @classmethod
    def from_flags(cls, platform: str, python: str, libc_spec: str, *, origin: str = "flag", id: str = "") -> Target:
        """Build a target from CLI-style values: ``libc_spec`` is ``"glibc:2.36"`` or ``"musl:1.2"``.

        :raises ValueError: as the constructor does, or when ``libc_spec`` is malformed.
        """
        libc, version = parse_libc_spec(libc_spec)
        return cls(platform=platform, python=python, libc=libc, libc_version=version, origin=origin, id=id)

    # -- derived values ------------------------------------------------------------------------

    @property
    def arch(self) -> str:
        """``x86_64``, ``aarch64`` or ``armv7l``: the wheel platform tags' machine name."""
        return ARCHITECTURES[self.platform]

    @property
    def python_version_info(self) -> tuple[int, ...]:
        return tuple(int(p) for p in self.python.split("."))

    @property
    def abi(self) -> str:
        """The CPython ABI tag: ``cp311``; ``cp37m`` before 3.8, when pymalloc builds had an ``m``."""
        major, minor = self.python_version_info[:2]
        return f"cp{major}{minor}{'m' if minor < 8 else ''}"

    @property
    def table(self) -> TagTable:
        """The cached tags, priorities and environment of this target (shared by equal targets)."""
        key = (self.platform, self.python, self.libc, self.libc_version)
        table = _TABLES.get(key)
        if table is None:
            with _TABLES_LOCK:
                table = _TABLES.get(key)
                if table is None:
                    table = _build_table(self)
                    _TABLES[key] = table
        return table

    def platform_tags(self) -> tuple[str, ...]:
        """The platform ladder, best first: e.g. ``manylinux_2_36_aarch64`` … ``linux_aarch64``.

        Also the list of ``--platform`` flags that makes pip accept what this target accepts.
        """
        return self.table.platforms

    def tags(self) -> tuple[Tag, ...]:
        """Every tag pip would accept on this target, in pip's order of preference."""
        return self.table.tags

    @property
    def priority(self) -> dict[Tag, int]:
        """``Tag -> rank`` (0 is best); a tag that is missing is not supported."""
        return self.table.priority

    def marker_environment(self) -> dict[str, str]:
        """A complete PEP 508 environment for this target (a copy: the cached one is shared)."""
        return dict(self.table.environment)

    def describe(self) -> str:
        """``linux/arm64, CPython 3.11, glibc 2.36``: for messages."""
        return f"{self.platform}, CPython {self.python}, {self.libc} {self.libc_version}"


def parse_libc_spec(spec: str) -> tuple[str, str]:
    """``"glibc:2.36"`` -> ``("glibc", "2.36")``; ``"musl"`` alone takes the default version.

    :raises ValueError: quoting the spec when the libc is not ``glibc`` or ``musl``.
    """
    libc, _, version = spec.strip().partition(":")
    libc = libc.strip().lower()
    if libc not in DEFAULT_LIBC_VERSIONS:
        raise ValueError(f"invalid libc {spec!r}: expected 'glibc:2.N' or 'musl:1.N', such as glibc:2.36")
    return libc, version.strip() or DEFAULT_LIBC_VERSIONS[libc]


def parse_target(spec: str, *, origin: str = "flag") -> Target:
    """Parse ``"linux/arm64,3.11,glibc:2.36"`` (the last two parts optional) into a target.

    :raises ValueError: naming the bad part.
    """
    parts = [p.strip() for p in spec.split(",")]
    if not parts[0] or len(parts) > 3:
        raise ValueError(f"invalid target {spec!r}: expected PLATFORM[,PYTHON[,LIBC:VERSION]]")
    python = parts[1] if len(parts) > 1 else "3.12"
    libc = parts[2] if len(parts) > 2 else "glibc"
    return Target.from_flags(parts[0], python, libc, origin=origin)


def _platform_ladder(libc: str, libc_version: str, arch: str) -> tuple[str, ...]:
    """Mirror ``packaging._manylinux.platform_tags`` / ``_musllinux.platform_tags`` for a foreign libc.

    glibc majors other than 2 do not exist, so the ladder is 2.N down to the arch's floor,
    each legacy alias right after the tag it aliases; musl is 1.N down to 1.0. Both end with
    ``linux_<arch>``, which pip accepts on any Linux host.
    """
    minor = int(libc_version.split(".")[1])
    ladder: list[str] = []
    if libc == "glibc":
        floor = _GLIBC_FLOOR.get(arch, _GLIBC_FLOOR_DEFAULT)
        for m in range(minor, floor - 1, -1):
            ladder.append(f"manylinux_2_{m}_{arch}")
            legacy = _LEGACY_MANYLINUX.get(m)
            if legacy is not None:
                ladder.append(f"{legacy}_{arch}")
    else:
        ladder.extend(f"musllinux_1_{m}_{arch}" for m in range(minor, -1, -1))
    ladder.append(f"linux_{arch}")
    return tuple(ladder)


def _build_table(target: Target) -> TagTable:
    info = target.python_version_info
    major, minor = info[0], info[1]
    platforms = _platform_ladder(target.libc, target.libc_version, target.arch)
    interpreter = f"cp{major}{minor}"
    # Exactly pip's get_supported(version, platforms, impl="cp", abis=[abi]): CPython tags, then
    # the py*/none tags. Both functions only read the host when an argument is None.
    tags: list[Tag] = list(cpython_tags((major, minor), [target.abi], platforms))
    tags.extend(compatible_tags((major, minor), interpreter, platforms))
    priority: dict[Tag, int] = {}
    for rank, tag in enumerate(tags):
        priority.setdefault(tag, rank)
    full = ".".join(str(p) for p in (info + (0, 0))[:3])
    environment = {
        "implementation_name": "cpython",
        "implementation_version": full,
        "os_name": "posix",
        "platform_machine": target.arch,
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": "Linux",
        "platform_version": "",
        "python_full_version": full,
        "python_version": f"{major}.{minor}",
        "sys_platform": "linux",
        "extra": "",
    }
    return TagTable(
        tags=tuple(tags),
        priority=priority,
        platforms=platforms,
        python_version=Version(full),
        environment=environment,
        tag_set_ranks={},
        requires_python_ok={},
    )
