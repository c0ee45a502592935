from __future__ import annotations

from django.db import models


class WebhookDelivery(models.Model):
    """One signed GitHub webhook delivery and what was done with it. Append-only log.

    ``delivery_id`` (GitHub's ``X-GitHub-Delivery``) is unique and the row is written in the
    same transaction as the work, so a redelivery (GitHub's "Redeliver" button, or a retry after
    a timeout) hits the constraint and everything it did is rolled back: nothing new. Requests with a bad signature are never stored: anybody
    can send them, and a table anybody can fill is a liability.
    """

    class Outcome(models.TextChoices):
        OK = "ok"  # ping
        QUEUED = "queued"  # a new scan was queued
        COALESCED = "coalesced"  # a scan of the repo was already queued: it will see this push
        UPDATED = "updated"  # the repo record was changed (repository event)
        IGNORED = "ignored"  # nothing to do; ``detail`` says why
        UNKNOWN_REPO = "unknown-repo"  # no configured repo matches; acknowledged, not created
        INVALID = "invalid"  # signed but malformed: ``detail`` names the key path

    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    delivery_id = models.CharField(max_length=100, unique=True)
    event = models.CharField(max_length=60)
    action = models.CharField(max_length=60, blank=True)
    repo = models.ForeignKey(
        "readiness.Repo", null=True, blank=True, on_delete=models.SET_NULL, related_name="webhook_deliveries"
    )
    scan = models.ForeignKey("readiness.Scan", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    github_full_name = models.CharField(max_length=300, blank=True, help_text="the repository named by the payload")
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event} {self.delivery_id} {self.outcome}"
