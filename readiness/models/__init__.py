"""Models: fields, constraints and small derived properties only; behaviour lives in services."""

from readiness.models.api_tokens import ApiToken
from readiness.models.campaigns import Campaign
from readiness.models.index import CoreMetadata, IndexPage
from readiness.models.notifications import NotificationDelivery, NotificationRule, NotificationState
from readiness.models.pull_requests import PullRequestCheck
from readiness.models.registry import ImagePlatformsCache
from readiness.models.reports import Subscription, WeeklyReport
from readiness.models.repos import Repo, Team
from readiness.models.rollups import Rollup
from readiness.models.scans import Scan, ScanFile, ScanFinding, Verdict
from readiness.models.triage import BlockerTriage, TriageEvent
from readiness.models.upstream import ProjectMetadata, UpstreamRefreshPending, UpstreamSuggestion
from readiness.models.webhooks import WebhookDelivery

__all__ = [
    "IndexPage",
    "Repo",
    "Rollup",
    "Scan",
    "ScanFile",
    "ScanFinding",
    "Subscription",
    "Team",
    "Verdict",
    "WebhookDelivery",
    "WeeklyReport",
]
__all__ += ["ProjectMetadata", "UpstreamRefreshPending", "UpstreamSuggestion"]
__all__ += ["CoreMetadata", "ImagePlatformsCache"]
__all__ += ["BlockerTriage", "Campaign", "TriageEvent"]
__all__ += ["PullRequestCheck"]
__all__ += ["ApiToken", "NotificationDelivery", "NotificationRule", "NotificationState"]
