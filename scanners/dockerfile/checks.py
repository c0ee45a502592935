"""Dockerfile findings that need the analyser's verdicts: a missing compiler for an sdist, a
macOS-only package.

The rule ids, severities and fixes are declared in :mod:`scanners.rules`; this module detects.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from packaging.utils import canonicalize_name

from scanners.base_images import lookup_base_image, parse_image_reference
from scanners.build_deps import TOOLCHAIN
from scanners.dockerfile.stages import ImageContext
from scanners.findings import Finding, Severity

__all__ = ["MACOS_ONLY_PACKAGES", "compiler_hint", "verdict_findings"]

# Packages that only ever install on macOS. Sources, as of 2026-11: tensorflow-macos and
# tensorflow-metal publish macOS wheels only and no sdist (their release file lists on the
# public index; Apple's "tensorflow-metal" developer page); PyObjC's setup refuses to build
# on anything but macOS (pyobjc.readthedocs.io "Installing PyObjC"). appnope is NOT listed: it
# is a pure-Python no-op off macOS and installs fine on Linux.
MACOS_ONLY_PACKAGES: frozenset[str] = frozenset({"tensorflow-macos", "tensorflow-metal", "pyobjc", "pyobjc-core"})
_MACOS_ONLY_PREFIXES = ("pyobjc-framework-",)


def compiler_hint(image: ImageContext) -> str:
    """What to add to the Dockerfile so pip can build an sdist, for this image's distribution."""
    facts = lookup_base_image(image.base_image) if image.base_image else None
    official = facts is not None and facts.python is not None and facts.distro_python is None
    repository = parse_image_reference(image.base_image).repository if image.base_image else ""
    # The official python images carry their own headers in /usr/local/include: installing the
    # distribution's python3-dev there would pull in a second, unused Python.
    headers = not (official and repository in ("python", "ghcr.io/astral-sh/uv"))
    manager = facts.package_manager if facts else None
    if manager == "apk" or image.libc == "musl":
        return f"`RUN apk add --no-cache {_toolchain('apk', headers=headers)}`"
    if manager in ("dnf", "yum"):
        # build_deps.TOOLCHAIN has no row for them: Fedora and EL have no one meta-package to name.
        return f"`RUN {manager} install -y gcc gcc-c++ make{' python3-devel' if headers else ''}`"
    if manager == "apt" or image.libc == "glibc":
        return (
            f"`RUN apt-get update && apt-get install -y --no-install-recommends {_toolchain('apt', headers=headers)}`"
        )
    return (
        f"`RUN apt-get install -y {_toolchain('apt', headers=True)}` (Debian/Ubuntu) or "
        f"`RUN apk add {_toolchain('apk', headers=True)}` (Alpine)"
    )


def _toolchain(manager: str, *, headers: bool) -> str:
    """The distribution's compiler package, and its Python headers when the image needs them."""
    compiler, python_headers = TOOLCHAIN[manager]
    return f"{compiler} {python_headers}" if headers else compiler


def _is_macos_only(name: str) -> bool:
    return name in MACOS_ONLY_PACKAGES or name.startswith(_MACOS_ONLY_PREFIXES)


def verdict_findings(
    image: ImageContext,
    *,
    sdist_packages: Sequence[tuple[str, str]],
    package_names: Iterable[str],
) -> list[Finding]:
    """Findings that need the analyser's verdicts as well as the Dockerfile.

    ``sdist_packages`` are the (name, version) pairs whose verdict on this image's target is
    ``sdist``; ``package_names`` every package installed on the (Linux) target, markers
    already applied. A slim or Alpine image without a compiler makes each sdist a blocker,
    because pip fails with ``error: command 'gcc' failed``; when the base image is unknown
    we cannot tell whether it has gcc, so it is only a warning.
    """
    line = image.base_line or 1
    findings: list[Finding] = []
    if not image.installs_compiler:
        known = image.base_image is not None and (image.python is not None or image.libc is not None)
        severity: Severity = "blocker" if known else "warning"
        base = image.base_image or "the base image"
        hint = compiler_hint(image)
        for name, version in sdist_packages:
            findings.append(
                Finding(image.path, line, "no-compiler-for-sdist", severity,
                        f"{canonicalize_name(name)}=={version} has no wheel for this image, so pip builds "
                        f"it from source, but {base} {'has' if known else 'may have'} no C compiler: pip "
                        f"fails with \"error: command 'gcc' failed\". Add {hint} before the pip install, "
                        f"or move to a version that has a wheel")
            )  # fmt: skip
    for raw in sorted({canonicalize_name(name) for name in package_names}):
        if _is_macos_only(raw):
            findings.append(
                Finding(image.path, line, "macos-only-package", "blocker",
                        f"{raw} only installs on macOS, but {image.base_image or 'this image'} is Linux: "
                        f"guard it with the marker `sys_platform == \"darwin\"` in the requirements, or "
                        f"use the Linux package (tensorflow instead of tensorflow-macos)")
            )  # fmt: skip
    return findings
