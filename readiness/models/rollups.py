"""Daily roll-ups, and the state a stored target summary puts a repo in (ready, blocked, ...).

``repo_state`` is a derived property of stored data, like the model's own fields: the roll-ups
count it, and every page that shows a repo's state (queries, admin) reads it from here, so
reads never reach into the services that write.
"""

from __future__ import annotations

from django.db import models

__all__ = ["Rollup", "repo_state", "summary_complete"]


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
    unknown = models.PositiveIntegerField(
        default=0, help_text="repos whose answer was incomplete (never counted ready)"
    )
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


def summary_complete(summary: dict) -> bool:
    """Whether a stored target summary had every answer (scans before ``complete`` was stored: no
    ``unknown`` verdict)."""
    return bool(summary.get("complete", not summary.get("unknown")))


def repo_state(summary: dict) -> str:
    """``ready``, ``blocked``, ``unknown`` or ``sdist`` (builds from source) for one target's stored
    summary. A blocker is known even when other answers are missing; otherwise a summary that is
    not complete (an index outage, an unreadable or missing lockfile) is ``unknown``, never ready."""
    if summary.get("blockers"):
        return "blocked"
    if not summary_complete(summary):
        return "unknown"
    if summary.get("ready"):
        return "ready"
    return "sdist"
