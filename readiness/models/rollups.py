from __future__ import annotations

from django.db import models


class Rollup(models.Model):
    """Daily readiness per scope (organisation, team or repo) and target, for trend charts.

    Trend pages read these rows directly: 2,000 repos × 2 targets × 365 days stays small,
    while the verdict rows behind them would be hundreds of millions.
    """

    class Scope(models.TextChoices):
        ORG = "org"
        TEAM = "team"
        REPO = "repo"

    day = models.DateField()
    scope = models.CharField(max_length=4, choices=Scope.choices)
    team = models.ForeignKey("readiness.Team", null=True, blank=True, on_delete=models.CASCADE)
    repo = models.ForeignKey("readiness.Repo", null=True, blank=True, on_delete=models.CASCADE)
    target = models.CharField(max_length=64)
    repos = models.PositiveIntegerField(default=0)
    ready = models.PositiveIntegerField(default=0)
    builds_from_source = models.PositiveIntegerField(default=0)
    blocked = models.PositiveIntegerField(default=0)
    unknown = models.PositiveIntegerField(default=0, help_text="repos whose answer was incomplete (never counted ready)")
    blockers = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "scope", "team", "repo", "target"],
                name="one_rollup_per_day_scope_target",
                nulls_distinct=False,
            )
        ]
        indexes = [models.Index(fields=["scope", "target", "day"])]
