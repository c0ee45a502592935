from __future__ import annotations

from django.db import models
from django.db.models import Q


class Scan(models.Model):
    """One check of one repository at one commit. Append-only history.

    A scan that found nothing new (same commit, same analyser, index data unchanged) points
    ``results_from`` at the scan whose verdict rows still hold the answer, instead of copying
    150 × targets rows again.
    """

    class State(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        PARTIAL = "partial"
        FAILED = "failed"

    FINAL_STATES = frozenset({State.DONE, State.PARTIAL, State.FAILED})
    FINISHED_WITH_RESULTS = frozenset({State.DONE, State.PARTIAL})

    repo = models.ForeignKey("readiness.Repo", on_delete=models.CASCADE, related_name="scans")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    trigger = models.CharField(max_length=40, default="manual")  # manual, schedule, webhook, backfill, retry
    ref = models.CharField(max_length=200, blank=True, help_text="the ref or commit asked for; empty: the branch head")
    as_of = models.DateTimeField(null=True, blank=True, help_text="backfill: the point in time this scan stands for")
    commit = models.CharField(max_length=64, blank=True)
    committed_at = models.DateTimeField(null=True, blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    step = models.CharField(max_length=40, blank=True, help_text="what a running scan is doing now")
    progress = models.PositiveIntegerField(default=0, help_text="percent done of a running scan")
    error = models.TextField(blank=True)
    analyser_version = models.CharField(max_length=20, blank=True)
    targets = models.JSONField(default=list, blank=True)
    summary = models.JSONField(default=dict, blank=True, help_text="per target: counts by status, blockers, ready")
    unchanged = models.BooleanField(default=False, help_text="nothing could have changed since results_from")
    results_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    provenance = models.JSONField(
        default=dict,
        blank=True,
        help_text="what the answer was computed from besides the repo's files: 'pages' maps each package whose "
        "index page it read to {'used_for': 'files' or 'advice', 'changed_at': the page's change time as read}; "
        "'missing_metadata' lists the metadata keys it could not read. A later scan of the same commit is "
        "unchanged when every page still has that change time and those metadata files are still missing",
    )
    deep = models.BooleanField(default=False, help_text="also read pure/universal2 wheels for hidden native code")
    task_id = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-requested_at"]
        permissions = [("request_scan", "Can request a rescan")]
        indexes = [
            models.Index(fields=["repo", "-finished_at"]),
            models.Index(fields=["state", "heartbeat_at"]),
        ]
        constraints = [
            # One queued and one running scan per repo, enforced by the database: two webhooks or
            # two workers racing can never produce two scans of the same repo at once.
            models.UniqueConstraint(fields=["repo"], condition=Q(state="queued"), name="one_queued_scan_per_repo"),
            models.UniqueConstraint(fields=["repo"], condition=Q(state="running"), name="one_running_scan_per_repo"),
        ]

    def __str__(self) -> str:
        return f"{self.repo_id}#{self.pk} {self.state}"

    @property
    def is_final(self) -> bool:
        return self.state in self.FINAL_STATES

    @property
    def result_scan_id(self) -> int:
        return self.results_from_id or self.pk


class ScanFile(models.Model):
    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="files")
    path = models.CharField(max_length=1000)
    kind = models.CharField(max_length=20)  # lockfile, dockerfile, skipped
    format = models.CharField(max_length=20, blank=True)
    blob_id = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["path"]


class ScanFinding(models.Model):
    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="findings")
    path = models.CharField(max_length=1000)
    line = models.PositiveIntegerField(null=True)
    rule = models.CharField(max_length=60)
    severity = models.CharField(max_length=10)  # blocker, warning, info
    message = models.TextField()

    class Meta:
        ordering = ["path", "line"]


class Verdict(models.Model):
    """One cell of the matrix: (scan, package, version, target) → status."""

    class Status(models.TextChoices):
        WHEEL = "wheel"
        SDIST = "sdist"
        NONE = "none"
        UNKNOWN = "unknown"
        NA = "n/a"

    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="verdicts", db_index=False)
    package = models.CharField(max_length=200)
    version = models.CharField(max_length=100, blank=True)
    target = models.CharField(max_length=64)
    status = models.CharField(max_length=8, choices=Status.choices)
    file = models.CharField(max_length=300, blank=True)
    pure = models.BooleanField(default=False)
    fix_version = models.CharField(max_length=100, blank=True)
    relock_file = models.CharField(
        max_length=300,
        blank=True,
        help_text="a wheel of the same version that the lock leaves out: re-locking (no version change) fixes this cell",
    )
    upstream = models.BooleanField(
        default=False,
        help_text="no release has a wheel for this target and no replacement or parent upgrade helps: ask upstream",
    )
    lockfile = models.CharField(max_length=500, blank=True)
    direct = models.BooleanField(null=True)
    via = models.JSONField(
        null=True, blank=True, help_text="chains from a direct dependency to this package's parent, shortest first"
    )
    reason = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["scan", "package"]),
            models.Index(fields=["package", "version"]),
            # Blockers pages count status "none" rows of the current result scans (GROUP BY): a
            # partial index keeps that a lookup of a few thousand rows however long the history.
            models.Index(fields=["scan", "package"], condition=Q(status="none"), name="verdict_none_by_scan"),
            # A scan refreshes the upstream drafts of its few upstream-blocked packages: their rows
            # across the organisation, without reading every scan's verdicts first.
            models.Index(fields=["package", "scan"], condition=Q(upstream=True), name="verdict_upstream_by_package"),
            # The next actions read the blocking and the re-lockable rows together: the same
            # predicate, so the planner finds those rows without reading the healthy ones.
            models.Index(
                fields=["scan"], condition=Q(status="none") | ~Q(relock_file=""), name="verdict_actionable_by_scan"
            ),
        ]
