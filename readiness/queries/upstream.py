"""The upstream page and the package page's upstream section: stored suggestions, read only.

Queries of :func:`upstream_suggestions` (1, whatever the size of the organisation): the
suggestions, filtered for a team by a subquery over the team's current blocked packages.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Case, IntegerField, Value, When
from packaging.utils import canonicalize_name

from readiness.models import UpstreamSuggestion, Verdict
from readiness.queries.scope import result_scan_ids

__all__ = ["UpstreamPage", "package_suggestions", "upstream_suggestions"]

_STATUS_ORDER = Case(
    When(status="open", then=Value(0)),
    When(status="filed", then=Value(1)),
    When(status="dismissed", then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)


@dataclass(frozen=True, slots=True)
class UpstreamPage:
    suggestions: tuple[UpstreamSuggestion, ...]

    @property
    def active(self) -> tuple[UpstreamSuggestion, ...]:
        return tuple(s for s in self.suggestions if s.status in ("open", "filed"))

    @property
    def closed(self) -> tuple[UpstreamSuggestion, ...]:
        return tuple(s for s in self.suggestions if s.status not in ("open", "filed"))


def upstream_suggestions(*, team: str | None) -> UpstreamPage:
    """Open, then filed, dismissed and resolved suggestions, most repos blocked first. 1 query.

    With a team, only packages that block one of the team's repos now (resolved ones drop out).
    """
    qs = UpstreamSuggestion.objects.annotate(order=_STATUS_ORDER).order_by("order", "-repos_blocked", "package")
    if team:
        blocked = Verdict.objects.filter(scan_id__in=result_scan_ids(team=team), upstream=True).values("package")
        qs = qs.filter(package__in=blocked)
    return UpstreamPage(suggestions=tuple(qs))


def package_suggestions(*, name: str) -> tuple[UpstreamSuggestion, ...]:
    """The suggestions of one package (usually one). 1 query."""
    return tuple(
        UpstreamSuggestion.objects.filter(package=canonicalize_name(name))
        .annotate(order=_STATUS_ORDER)
        .order_by("order")
    )
