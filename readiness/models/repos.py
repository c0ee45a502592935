from __future__ import annotations

from django.db import models


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Repo(models.Model):
    """A configured repository. Never deleted with its history: removed entries are disabled."""

    name = models.CharField(max_length=200, unique=True)
    url = models.CharField(max_length=1000, help_text="any git URL, file:// URL or local path")
    branch = models.CharField(max_length=200, blank=True, help_text="empty: the remote's default branch")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="repos")
    enabled = models.BooleanField(default=True)
    credentials_ref = models.CharField(
        max_length=200,
        blank=True,
        help_text="name of the environment variable holding the token for this repo; never the secret itself",
    )
    github_id = models.BigIntegerField(null=True, blank=True, unique=True)
    github_full_name = models.CharField(max_length=300, blank=True, db_index=True)
    archived = models.BooleanField(default=False)
    public = models.BooleanField(
        default=False, help_text="its README badges are readable without logging in (they show only its readiness)"
    )
    managed_by = models.CharField(
        max_length=1100,
        blank=True,
        db_index=True,
        help_text="the import that owns this row (toml:<absolute path> or github:<org>); empty: made in the admin. "
        "An import disables only the repos it owns when they leave its source.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    latest_scan = models.ForeignKey(
        "readiness.Scan",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="the latest finished scan: the repo's current state, so pages need no aggregate",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
