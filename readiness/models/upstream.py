"""Suggested upstream issues and the project metadata they are drafted from."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ProjectMetadata(models.Model):
    """A package's own URLs from its newest release's core metadata: fetched once per cache period.

    ``error`` keeps a failed fetch too, so an index without PEP 658 metadata is not asked again
    on every scan.
    """

    package = models.CharField(max_length=200, unique=True)
    version = models.CharField(max_length=100, blank=True)
    project_urls = models.JSONField(default=list, blank=True, help_text="[label, url] pairs")
    home_page = models.CharField(max_length=1000, blank=True)
    error = models.TextField(blank=True)
    fetched_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.package


class UpstreamSuggestion(models.Model):
    """An issue to file with a package's maintainers, one per (package, missing platform tags)
    across the organisation. Users mark it filed (with the upstream URL) or dismissed; both
    survive rescans. It is resolved when no current scan is blocked by it any more (a release
    with the wheels came out and repos show the upgrade)."""

    class Status(models.TextChoices):
        OPEN = "open"
        FILED = "filed"
        DISMISSED = "dismissed"
        RESOLVED = "resolved"

    package = models.CharField(max_length=200)
    platform_tags = models.CharField(max_length=500, help_text="space-separated, sorted: the deduplication key")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    upstream_url = models.URLField(max_length=1000, blank=True)
    repos_blocked = models.PositiveIntegerField(default=0)
    versions = models.JSONField(default=list, blank=True)
    pythons = models.JSONField(default=list, blank=True)
    targets = models.JSONField(default=list, blank=True)
    title = models.CharField(max_length=300)
    body = models.TextField()
    new_issue_url = models.TextField(blank=True)
    search_url = models.TextField(blank=True)
    tracker_url = models.URLField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-repos_blocked", "package"]
        permissions = [("mark_upstream", "Can mark upstream suggestions filed, dismissed or open")]
        constraints = [
            models.UniqueConstraint(fields=["package", "platform_tags"], name="one_suggestion_per_package_gap")
        ]
        indexes = [models.Index(fields=["status", "-repos_blocked"])]

    def __str__(self) -> str:
        return f"{self.package} [{self.platform_tags}] {self.status}"

    @property
    def tags(self) -> list[str]:
        return self.platform_tags.split()


class UpstreamRefreshPending(models.Model):
    """A package whose suggestion a finished scan may have changed, waiting for the next refresh.

    Scans add their upstream-blocked packages here and queue a refresh; the refresh takes every
    pending package at once. An organisation scan's 500 repos then cost a few refreshes, each
    over the whole organisation's rows, rather than one per scan.
    """

    package = models.CharField(max_length=200, unique=True)
    requested_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.package
