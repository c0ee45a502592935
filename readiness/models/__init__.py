"""Models: fields, constraints and small derived properties only; behaviour lives in services."""

from readiness.models.index import IndexPage
from readiness.models.repos import Repo, Team
from readiness.models.rollups import Rollup
from readiness.models.scans import Scan, ScanFile, ScanFinding, Verdict

__all__ = ["IndexPage", "Repo", "Rollup", "Scan", "ScanFile", "ScanFinding", "Team", "Verdict"]
