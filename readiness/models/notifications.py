"""Notification rules (an event, a scope, a channel) and the log of every delivery they made.

A delivery is keyed on (rule, event key): the event key names the event exactly once (the scan
that made a repo ready, the campaign and the day it turned at risk), so a task that runs twice
or is retried never sends the same event twice through the same rule.
"""

from __future__ import annotations

from django.db import models

__all__ = ["NotificationDelivery", "NotificationRule", "NotificationState"]


class NotificationRule(models.Model):
    class Event(models.TextChoices):
        REPO_BECAME_READY = "repo-became-ready", "a repo became ready on a target"
        REPO_NEWLY_BLOCKED = "repo-newly-blocked", "a repo became blocked on a target"
        NEW_BLOCKER = "new-blocker", "a new blocker appeared in a repo"
        CAMPAIGN_AT_RISK = "campaign-at-risk", "a campaign turned at risk"
        UPSTREAM_RESOLVED = "upstream-suggestion-resolved", "an upstream suggestion was resolved"
        SCAN_FAILED = "scan-failed", "a scan failed"

    class Channel(models.TextChoices):
        SLACK = "slack", "Slack incoming webhook"
        TEAMS = "teams", "Microsoft Teams workflow webhook"
        WEBHOOK = "webhook", "outbound webhook (JSON, HMAC-SHA256 signed)"
        EMAIL = "email", "email"

    name = models.CharField(max_length=200)
    event = models.CharField(max_length=40, choices=Event.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    target = models.TextField(
        help_text="the webhook URL (a secret: Slack and Teams URLs carry their key), or email addresses, comma-separated"
    )
    secret = models.CharField(
        max_length=200, blank=True, help_text="outbound webhooks: the key of the X-Readiness-Signature-256 HMAC"
    )
    teams = models.ManyToManyField(
        "readiness.Team", blank=True, related_name="notification_rules", help_text="none: the whole organisation"
    )
    repos = models.ManyToManyField(
        "readiness.Repo", blank=True, related_name="notification_rules", help_text="none: every repo of the scope"
    )
    campaign = models.ForeignKey(
        "readiness.Campaign",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notification_rules",
        help_text="only the repos and targets of this campaign",
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.event} → {self.channel})"


class NotificationDelivery(models.Model):
    class State(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        SENT = "sent"
        FAILED = "failed"

    rule = models.ForeignKey(NotificationRule, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40)
    event_key = models.CharField(max_length=300, help_text="names the event once: the idempotency key")
    delivery_id = models.UUIDField(unique=True, help_text="sent in X-Readiness-Delivery; receivers deduplicate on it")
    payload = models.JSONField(help_text="the event as the generic webhook sends it; channels render it")
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="requests made, retries included")
    retried = models.BooleanField(default=False)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    test = models.BooleanField(default=False, help_text="sent by the admin's 'send test'")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "notification deliveries"
        constraints = [
            models.UniqueConstraint(fields=["rule", "event_key"], name="one_delivery_per_rule_event"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} {self.event_key} {self.state}"


class NotificationState(models.Model):
    """The last state seen of something whose *change* is the event (a campaign's status)."""

    key = models.CharField(max_length=200, unique=True)
    value = models.CharField(max_length=100)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.key}={self.value}"
