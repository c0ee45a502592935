"""Weekly email report: who gets it (``Subscription``) and what was sent (``WeeklyReport``).

The (subscription, ISO week) unique constraint is what makes sending exactly-once: a sender
claims the row by inserting it (or by flipping a ``failed`` row back to ``sending``) before it
talks to the mail server, so a second beat firing or a redelivered task finds the row taken.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

__all__ = ["Subscription", "WeeklyReport"]


class Subscription(models.Model):
    """One user's weekly report: the whole organisation, or one section per chosen team."""

    class Scope(models.TextChoices):
        ORG = "org", "whole organisation"
        TEAMS = "teams", "chosen teams"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_subscription")
    scope = models.CharField(max_length=5, choices=Scope.choices, default=Scope.ORG)
    teams = models.ManyToManyField("readiness.Team", blank=True, related_name="subscriptions")
    active = models.BooleanField(default=True, help_text="unsubscribing keeps the row (and its history), inactive")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user__email"]
        permissions = [("manage_subscriptions", "Can subscribe and unsubscribe other people")]

    def __str__(self) -> str:
        return f"{self.user} ({self.scope})"


class WeeklyReport(models.Model):
    """The report of one subscription for one ISO week (``week`` is that week's Monday)."""

    class State(models.TextChoices):
        SENDING = "sending"
        SENT = "sent"
        FAILED = "failed"

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="reports")
    week = models.DateField(help_text="the Monday of the ISO week this report is for")
    state = models.CharField(max_length=8, choices=State.choices, default=State.SENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    to = models.EmailField(blank=True, help_text="the address it went to, as it was then")
    subject = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-week", "subscription_id"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "week"], name="one_report_per_subscription_week"),
        ]
        indexes = [models.Index(fields=["week", "state"])]

    def __str__(self) -> str:
        return f"{self.subscription_id} {self.week} {self.state}"

    @property
    def iso_week(self) -> str:
        year, week, _ = self.week.isocalendar()
        return f"{year}-W{week:02d}"
