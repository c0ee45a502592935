"""Blocker triage: what people decided about a blocker, kept across rescans.

A triage is keyed on what the blocker *is* (repo, a package or a Dockerfile rule, and a target),
never on a scan row: the next scan finds the same triage. Scans resolve a triage whose blocker is
gone and reopen one whose blocker came back; a snooze ends by itself on its date (pages read the
state through :meth:`BlockerTriage.effective_state`, and a daily task records the wake-up).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone

__all__ = ["BlockerTriage", "TriageEvent"]


class BlockerTriage(models.Model):
    class Kind(models.TextChoices):
        PACKAGE = "package"  # a (package, target) whose verdict is none
        FINDING = "finding"  # a Dockerfile finding of severity blocker (target "")

    class State(models.TextChoices):
        OPEN = "open", "untriaged"
        ACKNOWLEDGED = "acknowledged"
        ASSIGNED = "assigned"
        SNOOZED = "snoozed"
        ACCEPTED = "accepted"
        RESOLVED = "resolved"

    class Reason(models.TextChoices):
        """Why a blocker is accepted (won't fix), as Dependabot's dismiss reasons."""

        AMD64_ONLY = "amd64-only", "service is amd64-only by design"
        FIX_ELSEWHERE = "fix-elsewhere", "fix planned elsewhere"
        FALSE_POSITIVE = "false-positive", "false positive"
        OTHER = "other", "other"

    IN_PROGRESS = frozenset({State.ACKNOWLEDGED, State.ASSIGNED, State.SNOOZED})

    repo = models.ForeignKey("readiness.Repo", on_delete=models.CASCADE, related_name="triages")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    subject = models.CharField(max_length=200, help_text="the package name, or the Dockerfile rule")
    target = models.CharField(max_length=64, blank=True, help_text="the target id; empty for a Dockerfile finding")
    state = models.CharField(max_length=12, choices=State.choices, default=State.OPEN)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="triages"
    )
    assignee_team = models.ForeignKey(
        "readiness.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="triages"
    )
    snoozed_until = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=16, choices=Reason.choices, blank=True)
    reason_text = models.CharField(max_length=500, blank=True)
    state_before_resolved = models.CharField(
        max_length=12, blank=True, help_text="what a resolved blocker was, so its return can say so"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["repo", "kind", "subject", "target"], name="one_triage_per_blocker")
        ]
        indexes = [models.Index(fields=["state", "snoozed_until"]), models.Index(fields=["assignee", "state"])]
        permissions = [("triage_blocker", "Can acknowledge, assign, snooze and accept blockers")]

    def __str__(self) -> str:
        where = f" on {self.target}" if self.target else ""
        return f"{self.repo}: {self.subject}{where} ({self.state})"

    def effective_state(self, today: dt.date | None = None) -> str:
        """The state as of ``today``: a snooze whose date has passed is open again."""
        if self.state == self.State.SNOOZED and self.snoozed_until is not None:
            if self.snoozed_until < (today or timezone.localdate()):
                return self.State.OPEN
        return self.state


class TriageEvent(models.Model):
    """One change of a triage: who (``None``: a scan or the daily task), when, what and why."""

    triage = models.ForeignKey(BlockerTriage, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    action = models.CharField(max_length=16)
    state = models.CharField(max_length=12, help_text="the state after the change")
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["triage", "-at"])]

    def __str__(self) -> str:
        return f"{self.triage}: {self.action} at {self.at:%Y-%m-%d %H:%M}"
