"""'Upgrade the parent': the lowest newer release of a direct dependency that no longer needs a blocker.

A blocker deep in the tree is often there only because an old release of a direct dependency
asks for it; the team controls the direct dependency. Each release's core metadata (PEP 658,
one small read) says whether it still does.
"""

from __future__ import annotations

from collections.abc import Callable

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from scanners.core_metadata import required_names
from scanners.distributions import DistributionFile, ProjectFiles

__all__ = ["parent_upgrade", "parent_upgrade_candidates"]


def parent_upgrade(
    parent: ProjectFiles,
    locked_version: str,
    child: str,
    *,
    read_metadata: Callable[[DistributionFile], bytes | None],
    limit: int = 8,
) -> str | None:
    """The lowest release of ``parent`` above ``locked_version`` whose metadata no longer requires ``child``.

    This is the fix a team controls for a blocker deep in its tree: "upgrade tensorflow to X,
    which no longer needs it". Each release costs one small ``.metadata`` read (PEP 658), so at
    most ``limit`` releases are read; requirements behind an ``extra`` marker do not count,
    as pip installs them only when the extra is asked for.
    """
    wanted = canonicalize_name(child)
    for version, chosen in parent_upgrade_candidates(parent, locked_version, limit=limit):
        body = read_metadata(chosen)
        if body is not None and wanted not in required_names(body):
            return str(version)
    return None


def parent_upgrade_candidates(
    parent: ProjectFiles, locked_version: str, *, limit: int = 8
) -> list[tuple[Version, DistributionFile]]:
    """The releases :func:`parent_upgrade` may read, in its order, each with the file it reads
    (a caller may fetch their metadata at once before asking)."""
    try:
        locked = Version(locked_version)
    except InvalidVersion:
        return []
    out: list[tuple[Version, DistributionFile]] = []
    for version in parent.versions():
        if version <= locked or (version.is_prerelease and not locked.is_prerelease):
            continue
        files = [f for f in parent.release(version) if not f.is_yanked and f.url]
        chosen = next((f for f in files if f.kind == "wheel"), None) or next(
            (f for f in files if f.kind == "sdist"), None
        )
        if chosen is not None:
            out.append((version, chosen))
            if len(out) >= limit:
                break
    return out
