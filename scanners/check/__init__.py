"""One repository, checked end to end: files in, verdicts per (package, target) out.

This is the single place where the engine's parts meet; ``archcheck`` and the organisation
scans both call :func:`check_snapshot`. Nothing here raises for bad input in one file: a
lockfile that cannot be parsed, a Dockerfile that makes no sense or an index outage is
recorded on the report and the rest of the repository is still analysed.

The check is a package, one module per phase:

* :mod:`~scanners.check.report` — the values a check returns (:class:`CheckReport` and its parts);
* :mod:`~scanners.check.inputs` — which files are read, which targets the Dockerfiles imply;
* :mod:`~scanners.check.verdicts` — each package's files and its verdict per target;
* :mod:`~scanners.check.remedies` — fix versions and advice for what is not ``wheel``;
* :mod:`~scanners.check.image_findings` — Dockerfile, base-image and deep-check findings;
* :mod:`~scanners.check.summary` — counts and readiness per target;
* :mod:`~scanners.check.pipeline` — :func:`check_snapshot`, the phases in order.
"""

from __future__ import annotations

from scanners.check.inputs import is_relevant_path, resolve_targets
from scanners.check.pipeline import check_snapshot
from scanners.check.report import (
    LOCKFILE_NAMES,
    STATUSES,
    CheckLimits,
    CheckReport,
    FoundFile,
    PackageResult,
    Progress,
    ProjectSource,
    TargetDefaults,
    TargetSummary,
)

__all__ = [
    "LOCKFILE_NAMES",
    "STATUSES",
    "CheckLimits",
    "CheckReport",
    "FoundFile",
    "PackageResult",
    "Progress",
    "ProjectSource",
    "TargetDefaults",
    "TargetSummary",
    "check_snapshot",
    "is_relevant_path",
    "resolve_targets",
]
