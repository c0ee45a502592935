"""Values every lockfile parser returns: locked packages and the problems found on the way.

Parsers are pure: they take the file's path (for messages) and its text, never open files
themselves. A parser that meets a bad entry records a :class:`LockfileProblem` with the file
and line (or key path) and carries on, so one bad line never hides the rest of the file; a
file that cannot be read at all raises :class:`LockfileError`.

Every text meant for a reader (a package's ``detail``, a problem's message, an error's) has the
userinfo of its URLs redacted here, where it is made: lockfiles pin private packages as
``pkg @ git+https://user:TOKEN@host/x.git``, and these texts end up in verdict reasons, pages,
exports and ``archcheck`` output. The URLs the engine fetches from (a file's ``url``) are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from packaging.utils import NormalizedName

from scanners.distributions import DistributionFile
from scanners.http import redact

__all__ = ["LockedPackage", "LockfileError", "LockfileProblem", "ParsedLockfile", "Source"]

Source = Literal["index", "url", "vcs", "path", "editable", "unpinned"]
"""Where a locked package comes from. Only ``index`` packages with a version can be analysed;
the others get the verdict ``unknown`` (``unpinned``: the line names no exact version)."""


@dataclass(frozen=True, slots=True)
class LockedPackage:
    """One package as a lockfile pins it.

    ``markers`` is the PEP 508 marker string (``None``: installed everywhere); it is evaluated
    per target by the analyser. ``files`` is set when the lockfile itself lists every file of
    the release (uv.lock, poetry.lock, pylock.toml): the index is then not asked.
    ``direct`` is ``True``/``False`` when the lockfile says whether the project asked for the
    package itself, ``None`` when it cannot tell. ``detail`` explains a non-index source
    (``"VCS requirement git+https://…"``).
    """

    name: NormalizedName
    version: str | None
    lockfile: str
    line: int | None = None
    markers: str | None = None
    source: Source = "index"
    files: tuple[DistributionFile, ...] | None = None
    direct: bool | None = None
    extras: tuple[str, ...] = ()
    detail: str | None = None
    dependencies: tuple[NormalizedName, ...] = ()
    """Names this package depends on, when the lockfile records its graph (for "why is it here")."""
    required_by: tuple[str, ...] = ()
    """Reverse edges as pip-compile's ``# via`` comments give them (``-r requirements.in`` included)."""
    groups: tuple[str, ...] = ()
    """Lockfile groups/sections the package belongs to (Pipfile.lock ``default``/``develop``, poetry
    and pdm ``groups``, uv dependency groups): dev-only packages are still reported, but labelled."""
    hashes: frozenset[str] | None = None
    """The sha256 digests (lower-case hex) the lock allows, when installing from it checks hashes:
    pip in hash-checking mode (``--hash``/``--require-hashes``), pipenv, pdm. ``None``: any file of
    the release may be installed; an empty set: hash checking is on but this entry has no hash, so
    the installer refuses it. Only files whose digest is here are candidates (pip's
    ``filter_unallowed_hashes``): a wheel uploaded after the lock was made is never installed."""

    def __post_init__(self) -> None:
        # ``detail`` is shown (verdict reasons), so a token in a VCS or URL requirement stops here.
        if self.detail:
            object.__setattr__(self, "detail", redact(self.detail))


@dataclass(frozen=True, slots=True)
class LockfileProblem:
    """A bad entry: ``location`` is ``"line 12"`` or a key path such as ``"package[3].wheels[0]"``."""

    path: str
    location: str | None
    message: str
    severity: Literal["error", "info"] = "error"
    """``info``: the line was understood but not acted on (``--index-url``, ``--pre``, …)."""
    line: int | None = None
    """The line a key path points into, when known: ``package[37]`` alone makes a user count
    ``[[package]]`` headers, ``poetry.lock:412: package[37].version`` takes them straight there."""

    def __post_init__(self) -> None:
        # Messages quote the line ("--index-url https://user:token@…", "cannot tell the name of …").
        object.__setattr__(self, "message", redact(self.message))

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.location}: {self.message}" if self.location else f"{where}: {self.message}"


class LockfileError(ValueError):
    """The whole file is unreadable (not TOML/JSON, binary, truncated): nothing could be parsed."""

    def __init__(self, path: str, message: str, *, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.message = message = redact(message)
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True, slots=True)
class ParsedLockfile:
    path: str
    format: str  # "requirements", "poetry.lock", "uv.lock", "Pipfile.lock", "pdm.lock", "pylock.toml"
    packages: tuple[LockedPackage, ...]
    problems: tuple[LockfileProblem, ...] = ()
    includes: tuple[str, ...] = ()
    """Other files this one pulled in (``-r``/``-c``), repository-relative."""
    generated_by: str | None = None
    """The command the file's header says wrote it (``pip-compile --generate-hashes …``, ``uv export
    …``), or the tool a pylock.toml names in ``created-by``: the re-lock advice repeats it."""
