"""Open pull requests and their dependency checks, kept apart from the branch's scan history."""

from __future__ import annotations

from django.db import models

__all__ = ["PullRequestCheck"]


class PullRequestCheck(models.Model):
    """One open pull request of a configured repo: its head's check compared with the base branch.

    Never a :class:`~readiness.models.Scan`: trends, roll-ups, readiness and triage read scans
    only, so a pull request cannot move them. One row per pull request (events for it coalesce on
    the row while it is queued); the row is deleted when the pull request closes. ``comparison``
    is :func:`scanners.compare.compare_reports`'s answer; ``check_run_id`` and ``posted_sha`` are
    the GitHub check run last posted, so a re-run updates it instead of adding another.
    """

    class State(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        SKIPPED = "skipped"  # no dependency file differs from the base: nothing to check
        FAILED = "failed"

    repo = models.ForeignKey("readiness.Repo", on_delete=models.CASCADE, related_name="pull_requests")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=300, blank=True)
    html_url = models.CharField(max_length=500, blank=True)
    author = models.CharField(max_length=100, blank=True)
    head_ref = models.CharField(max_length=300, blank=True, help_text="the pull request's branch")
    head_sha = models.CharField(max_length=64, blank=True, help_text="the head commit the last event named")
    base_ref = models.CharField(max_length=300, blank=True)
    base_sha = models.CharField(max_length=64, blank=True)
    default_branch = models.CharField(max_length=300, blank=True, help_text="the repository's default branch then")
    installation_id = models.BigIntegerField(null=True, blank=True, help_text="the GitHub App installation")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    repost = models.BooleanField(default=False, help_text="a re-run was asked for: post the check run again")
    requested_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    checked_sha = models.CharField(max_length=64, blank=True, help_text="the commit the result is about")
    base_commit = models.CharField(max_length=64, blank=True, help_text="the base scan's commit it was compared with")
    comparison = models.JSONField(null=True, blank=True)
    conclusion = models.CharField(max_length=10, blank=True, help_text="success, failure or neutral")
    detail = models.TextField(blank=True, help_text="why it was skipped or failed, in one line")
    check_run_id = models.BigIntegerField(null=True, blank=True)
    posted_sha = models.CharField(max_length=64, blank=True)
    post_error = models.TextField(blank=True, help_text="why the check run could not be posted")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["repo", "-number"]
        constraints = [models.UniqueConstraint(fields=["repo", "number"], name="one_check_per_pull_request")]

    def __str__(self) -> str:
        return f"{self.repo_id}#PR{self.number} {self.state}"
