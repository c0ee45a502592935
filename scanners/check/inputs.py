"""Which files of a repository a check reads, what they say, and which targets they imply.

:func:`read_inputs` is the check's first phase: every lockfile, Dockerfile and manifest of the
snapshot parsed, each failure recorded against its file (the rest is still read), and the
packages bounded by :class:`~scanners.check.report.CheckLimits`.
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass, field

from scanners.chains import MANIFEST_NAMES, manifest_direct_names
from scanners.check.report import CheckLimits, FoundFile, TargetDefaults
from scanners.dockerfile import DockerfileError, ImageContext, is_dockerfile, parse_dockerfile
from scanners.git import RepoSnapshot
from scanners.lockfiles import detect_format, parse_lockfile
from scanners.lockfiles.base import LockedPackage, LockfileError, ParsedLockfile
from scanners.targets import Target

__all__ = ["Inputs", "is_relevant_path", "primary_image", "read_inputs", "resolve_targets", "unique_packages"]


@dataclass(slots=True)
class Inputs:
    """What the files of one snapshot say, before any index is asked."""

    files: list[FoundFile] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    lockfiles: list[ParsedLockfile] = field(default_factory=list)
    images: list[ImageContext] = field(default_factory=list)
    manifests: dict[str, set[str]] = field(default_factory=dict)  # directory -> direct names
    packages: list[LockedPackage] = field(default_factory=list)
    truncated: bool = False
    """A bound of :class:`CheckLimits` left packages unchecked: the answer is incomplete."""

    @property
    def complete(self) -> bool:
        """There was a lockfile, every lockfile was read, and every package will be checked."""
        return bool(self.lockfiles) and not self.truncated and not any(f.error for f in self.files if f.is_lockfile)


def read_inputs(snapshot: RepoSnapshot, limits: CheckLimits = CheckLimits()) -> Inputs:
    """Parse every relevant file of ``snapshot``; a file that cannot be read is recorded, not raised."""
    inputs = Inputs(
        files=[FoundFile(s.path, "skipped", None, None, s.reason) for s in snapshot.skipped],
        problems=[f"{s.path}: skipped: {s.reason}" for s in snapshot.skipped],
    )
    for repo_file in snapshot.files:
        if posixpath.basename(repo_file.path) in MANIFEST_NAMES:
            names = manifest_direct_names(repo_file.path, repo_file.text)
            if names:
                inputs.manifests.setdefault(posixpath.dirname(repo_file.path), set()).update(names)
            continue
        fmt = detect_format(repo_file.path)
        if fmt is not None:
            try:
                lockfile = parse_lockfile(repo_file.path, repo_file.text, read_file=snapshot.read)
            except LockfileError as exc:
                inputs.files.append(FoundFile(repo_file.path, "lockfile", fmt, repo_file.blob_id, str(exc)))
                inputs.problems.append(str(exc))
                continue
            lockfile, too_many = _bounded(lockfile, limits.packages_per_lockfile)
            inputs.lockfiles.append(lockfile)
            inputs.problems.extend(str(p) for p in lockfile.problems)
            inputs.files.append(FoundFile(repo_file.path, "lockfile", fmt, repo_file.blob_id, too_many))
            if too_many:
                inputs.problems.append(too_many)
        elif is_dockerfile(repo_file.path):
            try:
                image = parse_dockerfile(repo_file.path, repo_file.text)
            except DockerfileError as exc:
                inputs.files.append(FoundFile(repo_file.path, "dockerfile", None, repo_file.blob_id, str(exc)))
                inputs.problems.append(str(exc))
                continue
            inputs.images.append(image)
            inputs.files.append(FoundFile(repo_file.path, "dockerfile", None, repo_file.blob_id))
    packages = unique_packages(inputs.lockfiles)
    kept = _first_names(packages, limits.packages_per_repo)
    if kept is not None:
        distinct = len({p.name for p in packages})
        inputs.problems.append(
            f"{distinct:,} distinct packages in the repository's lockfiles, more than the limit of "
            f"{limits.packages_per_repo:,} per repository: only the first {limits.packages_per_repo:,} are checked"
        )
        packages = [p for p in packages if p.name in kept]
        inputs.truncated = True
    inputs.packages = packages
    return inputs


def _first_names(packages: Sequence[LockedPackage], limit: int) -> set[str] | None:
    """The first ``limit`` distinct names in order, or ``None`` when there are no more than that."""
    kept: dict[str, None] = {}
    for p in packages:
        if p.name not in kept:
            if len(kept) == limit:
                return set(kept)
            kept[p.name] = None
    return None


def _bounded(lockfile: ParsedLockfile, limit: int) -> tuple[ParsedLockfile, str | None]:
    """``lockfile`` with at most ``limit`` distinct package names, and the problem when it had more."""
    kept = _first_names(lockfile.packages, limit)
    if kept is None:
        return lockfile, None
    names = len({p.name for p in lockfile.packages})
    message = (
        f"{lockfile.path}: {names:,} distinct packages, more than the limit of {limit:,} per lockfile: "
        f"only the first {limit:,} are checked"
    )
    return dataclasses.replace(lockfile, packages=tuple(p for p in lockfile.packages if p.name in kept)), message


def unique_packages(parsed: Sequence[ParsedLockfile]) -> list[LockedPackage]:
    """Each (lockfile, line, name) once: a file pulled in with ``-r`` is also scanned on its own."""
    seen: set[tuple] = set()
    out = []
    for lockfile in parsed:
        for p in lockfile.packages:
            key = (p.lockfile, p.line, p.name, p.version)
            if key not in seen:
                seen.add(key)
                out.append(p)
    return out


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
    return min(
        known, key=lambda i: (posixpath.basename(i.path) != "Dockerfile", i.path.count("/"), len(i.path), i.path)
    )
