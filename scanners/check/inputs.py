"""Which files of a repository a check reads, and which targets its Dockerfiles imply."""

from __future__ import annotations

import posixpath
from collections.abc import Sequence

from scanners.chains import MANIFEST_NAMES
from scanners.check.report import TargetDefaults
from scanners.dockerfile import ImageContext, is_dockerfile
from scanners.lockfiles import detect_format
from scanners.targets import Target

__all__ = ["is_relevant_path", "primary_image", "resolve_targets"]


def is_relevant_path(path: str) -> bool:
    """The files a scan reads from a repository: lockfiles, Dockerfiles and the manifests that say
    which packages are direct (``pyproject.toml``, ``Pipfile``)."""
    return detect_format(path) is not None or is_dockerfile(path) or posixpath.basename(path) in MANIFEST_NAMES


def resolve_targets(
    images: Sequence[ImageContext],
    *,
    platforms: Sequence[str],
    defaults: TargetDefaults,
    python: str | None = None,
    libc: str | None = None,
) -> tuple[Target, ...]:
    """One target per platform; Python and libc from flags, else the primary Dockerfile, else defaults.

    The primary Dockerfile is the repository's root ``Dockerfile`` when it names a known base
    image, else the known one with the shortest path: services usually build from the root.
    """
    image = primary_image(images)
    targets = []
    for platform in platforms or defaults.platforms:
        if python or libc:
            origin = "flag"
            py = python or (image.python if image and image.python else defaults.python)
            libc_spec = libc or (f"{image.libc}:{image.libc_version}" if image and image.libc else defaults.libc)
        elif image is not None:
            origin = f"{image.path}:{image.base_line}"
            py = image.python or defaults.python
            libc_spec = f"{image.libc}:{image.libc_version}" if image.libc else defaults.libc
        else:
            origin, py, libc_spec = "default", defaults.python, defaults.libc
        targets.append(Target.from_flags(platform, py, libc_spec, origin=origin))
    return tuple(targets)


def primary_image(images: Sequence[ImageContext]) -> ImageContext | None:
    known = [i for i in images if i.python]
    if not known:
        return None
    return min(known, key=lambda i: (posixpath.basename(i.path) != "Dockerfile", i.path.count("/"), len(i.path), i.path))
