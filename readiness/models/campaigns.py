"""Migration campaigns: a target date for a set of targets over the organisation or some teams."""

from __future__ import annotations

from django.conf import settings
from django.db import models

__all__ = ["Campaign"]


class Campaign(models.Model):
    """``targets`` are target ids (``linux/arm64``); ``python`` and ``libc``, when set, narrow the
    campaign to repos whose image gives that target that CPython series or libc (a campaign for
    "arm64 on Alpine" leaves the glibc repos out). No teams: the whole organisation."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    targets = models.JSONField(default=list, help_text='target ids, e.g. ["linux/arm64"]')
    python = models.CharField(max_length=10, blank=True, help_text="e.g. 3.12; empty: any")
    libc = models.CharField(max_length=8, blank=True, help_text="glibc or musl; empty: any")
    teams = models.ManyToManyField("readiness.Team", blank=True, related_name="campaigns")
    start = models.DateField()
    due = models.DateField()
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due", "name"]
        permissions = [("manage_campaign", "Can create, edit and close campaigns")]
        constraints = [
            models.CheckConstraint(condition=models.Q(due__gte=models.F("start")), name="campaign_due_after_start")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.closed_at is None
