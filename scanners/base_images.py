"""What a container base image gives pip: its CPython, its libc and whether it ships a compiler.

A target's Python and libc decide which wheel tags pip accepts (``cp312`` vs ``cp311``,
``manylinux_2_36`` vs ``musllinux_1_2``), so the facts here must come from documentation, not
from running anything: every table below names its source and the date it was checked. When a
row goes stale the worst outcome is a wrong minor version, so the tables are kept small and
the caller falls back to its settings defaults for anything not listed (:func:`lookup_base_image`
returns ``None``).

Two kinds of image are known:

* **Images that ship a CPython** (the official ``python`` image and images built on it): the
  version comes from the tag, the libc from the Debian/Alpine variant.
* **Distribution images** (``ubuntu``, ``debian``, ``alpine``, ``fedora``, EL clones, Amazon
  Linux, ``nvidia/cuda:*-ubuntuXX.YY``): they ship no Python; ``distro_python`` is the version
  that the distribution's ``python3`` package installs, used only when the Dockerfile installs
  it with apt/apk/dnf/yum in a RUN.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from scanners.image_reference import DOCKER_HUB_ALIASES, split_reference

__all__ = [
    "ALPINE_RELEASES",
    "BaseImageFacts",
    "DEBIAN_RELEASES",
    "DistroRelease",
    "EL_RELEASES",
    "FEDORA_RELEASES",
    "ImageReference",
    "PYTHON_IMAGE_DEFAULT_ALPINE",
    "PYTHON_IMAGE_LATEST",
    "UBUNTU_RELEASES",
    "lookup_base_image",
    "parse_image_reference",
    "python_image_default_debian",
]

Libc = Literal["glibc", "musl"]
PackageManager = Literal["apt", "apk", "dnf", "yum"]


@dataclass(frozen=True, slots=True)
class DistroRelease:
    """One release of a Linux distribution: its libc and the Python its ``python3`` package gives.

    ``python`` is ``None`` when the release is known but its ``python3`` version is not (the
    libc facts are still useful on their own).
    """

    distro: str
    release: str
    libc: Libc
    libc_version: str
    python: str | None
    package_manager: PackageManager


@dataclass(frozen=True, slots=True)
class BaseImageFacts:
    """What one base image reference means for pip.

    ``python`` is set for images that ship CPython; ``distro_python`` for distribution images
    whose ``python3`` package a RUN may install. ``ships_compiler`` is ``True`` only when the
    image itself contains gcc (the full ``python:3.x`` images are built on ``buildpack-deps``).
    ``source`` names the table row, for messages.
    """

    python: str | None
    libc: Libc | None
    libc_version: str | None
    ships_compiler: bool
    package_manager: PackageManager | None
    distro_python: str | None
    source: str


@dataclass(frozen=True, slots=True)
class ImageReference:
    """``[registry/]repository[:tag][@digest]`` split into parts; ``repository`` is lower-case
    and Docker Hub's ``docker.io/``/``library/`` prefixes are removed (``python``, ``nvidia/cuda``)."""

    repository: str
    tag: str | None
    digest: str | None


# --- Distribution releases -------------------------------------------------------------------
# Debian: glibc from the `libc6` package and Python from the `python3` package of each suite on
# the Debian package archive (packages.debian.org/<suite>/libc6, /python3); as of 2026-11.
DEBIAN_RELEASES: dict[str, DistroRelease] = {
    name: DistroRelease("debian", name, "glibc", glibc, python, "apt")
    for name, glibc, python in (
        ("buster", "2.28", "3.7"),  # Debian 10
        ("bullseye", "2.31", "3.9"),  # Debian 11
        ("bookworm", "2.36", "3.11"),  # Debian 12
        ("trixie", "2.41", "3.13"),  # Debian 13 (stable since 2025-08-09)
    )
}
_DEBIAN_NUMBERS = {"10": "buster", "11": "bullseye", "12": "bookworm", "13": "trixie"}
_DEBIAN_STABLE = "trixie"  # what `debian:latest`/`debian:stable` points at, as of 2026-11

# Ubuntu: glibc (`libc6`) and `python3` versions from packages.ubuntu.com for each LTS, as of
# 2026-11. `ubuntu:latest` is deliberately absent: it moves to each new LTS.
UBUNTU_RELEASES: dict[str, DistroRelease] = {
    number: DistroRelease("ubuntu", number, "glibc", glibc, python, "apt")
    for number, glibc, python in (
        ("18.04", "2.27", "3.6"),  # bionic
        ("20.04", "2.31", "3.8"),  # focal
        ("22.04", "2.35", "3.10"),  # jammy
        ("24.04", "2.39", "3.12"),  # noble
    )
}
_UBUNTU_CODENAMES = {"bionic": "18.04", "focal": "20.04", "jammy": "22.04", "noble": "24.04"}

# Alpine: musl and python3 package versions from pkgs.alpinelinux.org per branch, as of 2026-11.
# musllinux wheel tags only use musl's major.minor, so every row says "1.2" (patch level in the
# comment). 3.23/3.24: musl 1.2 is certain, the python3 version is not recorded here.
ALPINE_RELEASES: dict[str, DistroRelease] = {
    branch: DistroRelease("alpine", branch, "musl", "1.2", python, "apk")
    for branch, python in (
        ("3.16", "3.10"),  # musl 1.2.3
        ("3.17", "3.10"),  # musl 1.2.3
        ("3.18", "3.11"),  # musl 1.2.4
        ("3.19", "3.11"),  # musl 1.2.4
        ("3.20", "3.12"),  # musl 1.2.5
        ("3.21", "3.12"),  # musl 1.2.5
        ("3.22", "3.12"),  # musl 1.2.5
        ("3.23", None),
        ("3.24", None),
    )
}

# Fedora: glibc and python3 from the Fedora release notes / packages.fedoraproject.org, as of 2026-11.
FEDORA_RELEASES: dict[str, DistroRelease] = {
    number: DistroRelease("fedora", number, "glibc", glibc, python, "dnf")
    for number, glibc, python in (
        ("39", "2.38", "3.12"),
        ("40", "2.39", "3.12"),
        ("41", "2.40", "3.13"),
        ("42", "2.41", "3.13"),
    )
}

# Enterprise Linux (RHEL/UBI, Rocky, Alma) by major version: glibc and the default `python3`
# from the RHEL 8/9 release notes ("Configuring basic system settings: Python"), as of 2026-11.
EL_RELEASES: dict[str, DistroRelease] = {
    "8": DistroRelease("el", "8", "glibc", "2.28", "3.6", "dnf"),
    "9": DistroRelease("el", "9", "glibc", "2.34", "3.9", "dnf"),
}

# Amazon Linux: "Comparing AL2 and AL2023" in the Amazon Linux 2023 user guide, as of 2026-11.
_AMAZON_RELEASES: dict[str, DistroRelease] = {
    "2": DistroRelease("amazonlinux", "2", "glibc", "2.26", "3.7", "yum"),
    "2023": DistroRelease("amazonlinux", "2023", "glibc", "2.34", "3.9", "dnf"),
}

# --- The official `python` image ------------------------------------------------------------
# Source: the docker-library/docs python/README.md "Supported tags" list and
# docker-library/official-images library/python, as of 2026-11:
# * `3`, `latest`, `slim`, `alpine` … point at the newest stable CPython, 3.15;
# * tags without a Debian suite (`3.12`, `3.12-slim`) are built on trixie since the 2025-08
#   switch for every then-supported series (3.9+); series that were end-of-life before the
#   switch kept their last default: 3.7 and 3.8 on bookworm;
# * tags without an Alpine release (`3.12-alpine`) are built on alpine3.24;
# * the non-slim Debian variants are built on `buildpack-deps` and so contain gcc ("Image
#   Variants" section); `-slim` and `-alpine` do not.
PYTHON_IMAGE_LATEST = "3.15"
PYTHON_IMAGE_DEFAULT_ALPINE = "3.24"
_PYTHON_IMAGE_FROZEN_DEBIAN = {"3.7": "bookworm", "3.8": "bookworm"}

# Registries that mirror Docker Hub's official images under the same names.
_OFFICIAL_MIRROR_PREFIXES = ("public.ecr.aws/docker/library/", "mirror.gcr.io/library/", "library/")

_VERSION = re.compile(r"^(?P<minor>\d+(?:\.\d+)?)(?P<patch>\.\d+)?(?P<pre>(?:a|b|rc)\d+)?$")


def parse_image_reference(reference: str) -> ImageReference:
    """Split an image reference into repository, tag and digest, named as the tables name it.

    The parts come from :func:`scanners.image_reference.split_reference` unchecked: a ``FROM``
    line docker would reject still gets its best guess, the tables only compare names.
    """
    name, tag, digest = split_reference(reference)
    repository = name.lower()
    host, slash, rest = repository.partition("/")
    if slash and host in DOCKER_HUB_ALIASES:
        repository = rest
    for prefix in _OFFICIAL_MIRROR_PREFIXES:
        if repository.startswith(prefix):
            repository = repository[len(prefix) :]
            break
    return ImageReference(repository=repository, tag=tag, digest=digest)


def python_image_default_debian(minor: str) -> str | None:
    """The Debian suite an official ``python:<minor>`` tag without a suite name is built on."""
    if minor in _PYTHON_IMAGE_FROZEN_DEBIAN:
        return _PYTHON_IMAGE_FROZEN_DEBIAN[minor]
    try:
        major, minor_number = (int(part) for part in minor.split("."))
    except ValueError:
        return None
    if (major, minor_number) >= (3, 9):
        return "trixie"
    return None


def _python_version(token: str) -> tuple[str, str] | None:
    """``"3.12.4"`` -> (``"3.12"``, ``"3.12.4"``); ``"3"`` -> latest; pre-releases keep the minor."""
    match = _VERSION.match(token)
    if match is None:
        return None
    minor = match["minor"]
    if "." not in minor:
        if minor != "3":
            return None  # python:2 is long gone; nothing else is a valid series
        return PYTHON_IMAGE_LATEST, PYTHON_IMAGE_LATEST
    if match["patch"] and not match["pre"]:
        return minor, minor + match["patch"]
    return minor, minor


def _python_image(tag: str, *, source: str) -> BaseImageFacts | None:
    """Facts for an official-python-image tag such as ``3.12.4-slim-bookworm`` or ``alpine3.20``."""
    tokens = tag.lower().split("-")
    minor = full = PYTHON_IMAGE_LATEST
    if tokens and tokens[0] == "latest":
        tokens = tokens[1:]
    elif tokens and tokens[0][:1].isdigit():
        version = _python_version(tokens.pop(0))
        if version is None:
            return None
        minor, full = version
    slim = False
    suite: str | None = None
    alpine: str | None = None
    for token in tokens:
        if token == "rc":
            continue
        if token == "slim":
            slim = True
        elif token in DEBIAN_RELEASES:
            suite = token
        elif token == "alpine":
            alpine = PYTHON_IMAGE_DEFAULT_ALPINE
        elif token.startswith("alpine") and token[6:] in ALPINE_RELEASES:
            alpine = token[6:]
        else:
            return None  # windowsservercore, nanoserver, or a variant not in the table
    if alpine is not None:
        return BaseImageFacts(full, "musl", ALPINE_RELEASES[alpine].libc_version, False, "apk", None, source)
    suite = suite or python_image_default_debian(minor)
    if suite is None:
        return BaseImageFacts(full, "glibc", None, not slim, "apt", None, source)
    debian = DEBIAN_RELEASES[suite]
    return BaseImageFacts(full, "glibc", debian.libc_version, not slim, "apt", None, source)


def _distro(release: DistroRelease, *, source: str) -> BaseImageFacts:
    return BaseImageFacts(
        python=None,
        libc=release.libc,
        libc_version=release.libc_version,
        ships_compiler=False,
        package_manager=release.package_manager,
        distro_python=release.python,
        source=source,
    )


def _debian_suite(tag: str) -> str | None:
    # debian:bookworm, debian:bookworm-slim, debian:12, debian:12.5-slim, debian:bookworm-20240101
    head = tag.lower().split("-")[0]
    if head in ("latest", "stable", "stable_slim"):
        return _DEBIAN_STABLE
    if head in DEBIAN_RELEASES:
        return head
    return _DEBIAN_NUMBERS.get(head.split(".")[0])


def _ubuntu_release(tag: str) -> DistroRelease | None:
    # ubuntu:22.04, ubuntu:jammy, ubuntu:jammy-20240101
    head = tag.lower().split("-")[0]
    number = _UBUNTU_CODENAMES.get(head, head)
    return UBUNTU_RELEASES.get(number)


def _alpine_release(tag: str) -> DistroRelease | None:
    match = re.match(r"^(\d+\.\d+)(?:\.\d+)?$", tag)
    return ALPINE_RELEASES.get(match[1]) if match else None


_UV_IMAGE_TAG = re.compile(r"^(?:\d+(?:\.\d+)*-)?python(?P<ver>\d+\.\d+)-(?P<variant>[a-z0-9.-]+)$")
_CUDA_UBUNTU = re.compile(r"-ubuntu(?P<release>\d+\.\d+)$")
_CUDA_EL = re.compile(r"-(?:ubi|rockylinux)(?P<release>\d+)$")


def lookup_base_image(reference: str) -> BaseImageFacts | None:
    """What pip sees in the image ``reference`` (already free of ``$VAR`` substitutions).

    Returns ``None`` for an image not in the tables, ``scratch``, a digest without a tag
    (the digest alone does not say which variant it is), and Windows images.
    """
    ref = parse_image_reference(reference)
    repo, tag = ref.repository, ref.tag
    if tag is None:
        if ref.digest is not None:
            return None
        tag = "latest"
    source = f"{repo}:{tag}"
    if repo == "python":
        return _python_image(tag, source=source)
    if repo in ("mcr.microsoft.com/devcontainers/python", "mcr.microsoft.com/vscode/devcontainers/python"):
        # Built FROM the full python:<tag> image (devcontainers/images src/python/.devcontainer
        # Dockerfile), so it has the same Python, libc and gcc; tags may carry a "1-" image version.
        inner = re.sub(r"^\d+-(?=\d)", "", tag)
        facts = _python_image(inner, source=source)
        return facts
    if repo == "ghcr.io/astral-sh/uv":
        # uv's derived images (docs.astral.sh/uv "Using uv in Docker", as of 2026-11):
        # python3.12-bookworm is FROM python:3.12-bookworm, python3.12-bookworm-slim FROM
        # python:3.12-slim-bookworm, python3.12-alpine FROM python:3.12-alpine. Tags without
        # "python" (bookworm-slim, alpine) are distribution images with no CPython.
        match = _UV_IMAGE_TAG.match(tag)
        if match is None:
            return None
        variant = match["variant"].split("-")
        if "slim" in variant:
            variant = ["slim"] + [part for part in variant if part != "slim"]
        return _python_image("-".join([match["ver"], *variant]), source=source)
    if repo in ("gcr.io/distroless/python3-debian12", "gcr.io/distroless/python3-debian13"):
        # GoogleContainerTools/distroless python3/README.md: Debian's own python3, no shell, no gcc.
        suite = _DEBIAN_NUMBERS[repo[-2:]]
        debian = DEBIAN_RELEASES[suite]
        return BaseImageFacts(debian.python, "glibc", debian.libc_version, False, None, None, source)
    if repo == "debian":
        named = _debian_suite(tag)
        return _distro(DEBIAN_RELEASES[named], source=source) if named else None
    if repo == "ubuntu":
        release = _ubuntu_release(tag)
        return _distro(release, source=source) if release else None
    if repo == "alpine":
        release = _alpine_release(tag)
        return _distro(release, source=source) if release else None
    if repo == "fedora":
        release = FEDORA_RELEASES.get(tag)
        return _distro(release, source=source) if release else None
    if repo in ("rockylinux", "rockylinux/rockylinux", "almalinux") or re.fullmatch(
        r"(?:registry\.access\.redhat\.com/|redhat/)ubi\d+(?:/ubi|-minimal|/ubi-minimal)?", repo
    ):
        number = re.search(r"ubi(\d+)", repo)
        major = number[1] if number else tag.split(".")[0].split("-")[0]
        release = EL_RELEASES.get(major)
        return _distro(release, source=source) if release else None
    if repo == "amazonlinux":
        release = _AMAZON_RELEASES.get(tag.split(".")[0])
        return _distro(release, source=source) if release else None
    if repo == "nvidia/cuda":
        # nvidia/cuda tags end in the OS they are built on (gitlab.com/nvidia/container-images/cuda
        # README "Supported tags"): 12.4.1-runtime-ubuntu22.04, 11.8.0-devel-rockylinux8.
        match = _CUDA_UBUNTU.search(tag)
        if match and match["release"] in UBUNTU_RELEASES:
            return _distro(UBUNTU_RELEASES[match["release"]], source=source)
        match = _CUDA_EL.search(tag)
        if match and match["release"] in EL_RELEASES:
            return _distro(EL_RELEASES[match["release"]], source=source)
        return None
    return None
