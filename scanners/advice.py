"""Ways out of a blocker. For now: the fix version (DESIGN.md vocabulary).

The fix version is the lowest release above the locked one whose verdict is ``wheel`` on every
target of the repo where the package is installed. Pre-releases are only considered when the
locked version is itself a pre-release, and releases whose files are all yanked are never
suggested (pip would skip them for anything but an exact pin).
"""

from __future__ import annotations

from collections.abc import Sequence

from packaging.version import InvalidVersion, Version

from scanners.analyser import decide
from scanners.distributions import ProjectFiles
from scanners.targets import Target

__all__ = ["fix_version"]


def fix_version(project: ProjectFiles, locked_version: str, targets: Sequence[Target]) -> str | None:
    """The lowest release newer than ``locked_version`` with a wheel on every one of ``targets``.

    ``targets`` should already exclude the targets where the package's markers do not apply.
    Returns ``None`` when no such release exists (the way out is then upstream, or a replacement).
    """
    try:
        locked = Version(locked_version)
    except InvalidVersion:
        return None
    if not targets:
        return None
    for version in project.versions():
        if version <= locked or (version.is_prerelease and not locked.is_prerelease):
            continue
        files = project.release(version)
        if all(f.is_yanked for f in files):
            continue
        if all(decide(files, target).status == "wheel" for target in targets):
            return str(version)
    return None
