"""What a check answers: the report, its per-package results and per-target summaries, and the
values a caller passes in (target defaults, the index it asks)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

from scanners.advice import Advice
from scanners.analyser import Verdict
from scanners.distributions import DistributionFile
from scanners.dockerfile import ImageContext
from scanners.findings import Finding
from scanners.lockfiles import detect_format
from scanners.lockfiles.base import LockedPackage
from scanners.registry.manifests import ImagePlatforms
from scanners.targets import Target

__all__ = [
    "CheckLimits",
    "CheckReport",
    "FoundFile",
    "LOCKFILE_NAMES",
    "PackageResult",
    "PageUse",
    "Progress",
    "ProjectSource",
    "Provenance",
    "STATUSES",
    "TargetDefaults",
    "TargetSummary",
]


STATUSES = ("wheel", "sdist", "none", "unknown", "n/a")


Progress = Callable[[str, int, int], None]
"""``progress(step, done, total)``: ``step`` is "index" while the index is queried."""


class ProjectSource(Protocol):
    """What the check needs from an index client (``scanners.index.IndexClient`` satisfies it)."""

    def fetch_many(self, names, *, progress=None): ...  # -> Mapping[str, ProjectResult]


PageUse = Literal["files", "advice"]


@dataclass(frozen=True, slots=True)
class Provenance:
    """The inputs of one check's answer besides the repository's own files (see
    :mod:`scanners.check.provenance`): ``pages`` maps each canonical project name whose index
    page the answer read to what for; ``missing_metadata``, the files whose metadata it lacked;
    ``images``, what the registry answered for each base image (platforms, digest or error)."""

    pages: Mapping[str, PageUse] = field(default_factory=dict)
    missing_metadata: tuple[DistributionFile, ...] = ()
    images: Mapping[str, ImagePlatforms] = field(default_factory=dict)  # base image answers, by reference


@dataclass(frozen=True, slots=True)
class CheckLimits:
    """Bounds on the work one repository may ask for. A 1.9 MB requirements file naming 73,505
    packages asked the index 73,505 times; real services lock a few hundred. Past a bound the
    first packages (in file order) are checked and the answer is incomplete, never ``ready``."""

    packages_per_lockfile: int = 5000
    packages_per_repo: int = 5000


@dataclass(frozen=True, slots=True)
class TargetDefaults:
    """Used when a repository has no Dockerfile that names its Python and libc."""

    python: str = "3.12"
    libc: str = "glibc:2.36"
    platforms: tuple[str, ...] = ("linux/amd64", "linux/arm64")


@dataclass(frozen=True, slots=True)
class FoundFile:
    path: str
    kind: str  # "lockfile", "dockerfile" or "skipped"
    format: str | None
    blob_id: str | None
    error: str | None = None

    @property
    def is_lockfile(self) -> bool:
        """A lockfile by its name, whether it was read or skipped (binary, too large, a symlink out)."""
        return self.kind == "lockfile" or (self.kind == "skipped" and detect_format(self.path) is not None)


@dataclass(frozen=True, slots=True)
class PackageResult:
    package: LockedPackage
    verdicts: Mapping[str, Verdict]  # by target id
    fix_version: str | None = None
    direct: bool | None = None
    """From the lockfile, else the project's manifest, else the graph's roots; ``None``: cannot tell."""
    via: tuple[tuple[str, ...], ...] | None = None
    """Chains from a direct dependency down to this package's parent, shortest first (``()``: direct)."""
    advice: tuple[Advice, ...] = ()
    """Ways out for a package that is not ``wheel`` everywhere, best first (scanners.advice)."""


LOCKFILE_NAMES = (
    "requirements*.txt",
    "requirements/*.txt",
    "constraints*.txt",
    "poetry.lock",
    "uv.lock",
    "Pipfile.lock",
    "pdm.lock",
    "pylock.toml",
    "pylock.*.toml",
)
"""The lockfile names a check looks for (:func:`scanners.lockfiles.detect_format`), for messages."""


@dataclass(frozen=True, slots=True)
class TargetSummary:
    counts: Mapping[str, int]
    blockers: int
    ready: bool
    """Ready: the answer is complete, nothing is ``none`` or ``sdist`` and no Dockerfile finding
    blocks the target. An incomplete answer is never ready: it passed because it saw nothing."""
    complete: bool = True
    """No verdict is ``unknown``, every lockfile could be read, and there was one to read."""

    def to_dict(self) -> dict[str, object]:
        """The ``summary.<target>`` object of the archcheck JSON, also what a scan stores."""
        return {**dict(self.counts), "blockers": self.blockers, "ready": self.ready, "complete": self.complete}


@dataclass(frozen=True, slots=True)
class CheckReport:
    source: str
    commit: str | None
    targets: tuple[Target, ...]
    files: tuple[FoundFile, ...]
    packages: tuple[PackageResult, ...]
    dockerfiles: tuple[ImageContext, ...]
    findings: Mapping[str, tuple[Finding, ...]]  # by Dockerfile path, including verdict findings
    problems: tuple[str, ...]
    index_errors: Mapping[str, str]
    summary: Mapping[str, TargetSummary] = field(default_factory=dict)
    provenance: Provenance = field(default_factory=Provenance)  # the index pages and metadata the answer used

    @property
    def partial(self) -> bool:
        """Some answers are missing for a reason that may go away (index outage, unreadable file)."""
        return bool(self.index_errors) or any(f.error for f in self.files if f.kind != "skipped")

    @property
    def has_lockfile(self) -> bool:
        """Some file of the repository is a lockfile by its name (read or not)."""
        return any(f.is_lockfile for f in self.files)
