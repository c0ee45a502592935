"""A release file's core metadata (``METADATA``, PEP 658 ``<file>.metadata``): what pip reads from it.

Parsing is :func:`packaging.metadata.parse_email`, which splits the fields without judging them;
the judging is done here the way pip does it. pip 24.1 and newer parse every ``Requires-Dist`` with
``packaging`` ≥ 24, which rejects the legacy forms old setuptools let through (``pytz (>dev)``,
``foo (>=1.0.*)``), and then ignore that whole version ("Ignoring version 4.4.7 of celery since it
has invalid metadata"). Old pins in old locks hit this when the image's pip is new.
"""

from __future__ import annotations

import datetime as dt
import email.parser
import email.policy
import functools

from packaging.metadata import parse_email
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from scanners.distributions import DistributionFile

__all__ = ["VALIDATED_UPLOADS_SINCE", "invalid_requirements", "may_be_invalid", "required_names"]

VALIDATED_UPLOADS_SINCE = dt.datetime(2023, 6, 1, tzinfo=dt.UTC)
"""The public index parses each upload's Requires-Dist with ``packaging``; since ``packaging`` 22
(December 2022) dropped the legacy specifiers, newer uploads cannot carry them. Only files
uploaded earlier (or of unknown date) are worth reading for invalid metadata."""


def may_be_invalid(file: DistributionFile) -> bool:
    """Whether a file's metadata is worth reading for requirements pip refuses: it can be read
    (a URL) and was uploaded before the index validated them (or when is not known)."""
    return bool(file.url) and (file.upload_time is None or file.upload_time < VALIDATED_UPLOADS_SINCE)


def _requires_dist(metadata: bytes) -> list[str]:
    # The headers alone, as parse_email reads them: parsing the body (the long description) and
    # every other header is most of parse_email's time, and a scan reads hundreds of these files.
    headers = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(metadata, headersonly=True)
    values = headers.get_all("Requires-Dist") or []
    if not all(isinstance(v, str) for v in values):
        # Non-ASCII bytes come back as Header objects: parse_email's own decoding decides those.
        raw, _unparsed = parse_email(metadata)
        values = raw.get("requires_dist", [])
    return [line.strip() for line in values]


def invalid_requirements(metadata: bytes) -> list[str]:
    """The ``Requires-Dist`` values pip refuses (pip's ``get_requirement`` raises for them)."""
    return [line for line in _requires_dist(metadata) if not _valid(line)]


@functools.lru_cache(maxsize=1 << 14)
def _valid(line: str) -> bool:
    # Cached: the wheels of one release, and releases of one project, repeat the same lines.
    try:
        Requirement(line)
    except InvalidRequirement:
        return False
    return True


def required_names(metadata: bytes) -> set[str]:
    """Names the release always requires: entries behind an ``extra`` marker are installed only
    when the extra is asked for, and unparseable entries are skipped."""
    names: set[str] = set()
    for line in _requires_dist(metadata):
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        if requirement.marker is None or "extra" not in str(requirement.marker):
            names.add(canonicalize_name(requirement.name))
    return names
