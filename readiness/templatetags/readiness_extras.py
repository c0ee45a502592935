"""Display formatting for every page: verdict and readiness badges, dates, percentages, links.

Badges carry an icon *and* a word as well as a colour, so they read the same for colour-blind
users and in a black-and-white printout; the palette (Okabe-Ito) is set in base.css. Every
value that came from outside (package names, file names) is escaped by ``format_html``.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

__all__ = ["STATE_BADGES", "VERDICT_BADGES"]

register = template.Library()

# status -> (icon, label, help), in the product's vocabulary (README: target, verdict, blocker).
VERDICT_BADGES: dict[str, tuple[str, str, str]] = {
    "wheel": ("✔", "wheel", "a compatible wheel exists: pip installs it"),
    "sdist": ("⚙", "sdist", "no compatible wheel: pip builds from source (needs a compiler)"),
    "none": ("✖", "none", "nothing installable: pip fails with “No matching distribution”"),
    "unknown": ("?", "unknown", "not resolvable from the index (private, VCS/URL, index error)"),
    "n/a": ("–", "n/a", "not installed on this target (environment markers)"),
}
STATE_BADGES: dict[str, tuple[str, str, str]] = {
    "ready": ("✔", "ready", "every package installs from a wheel"),
    "sdist": ("⚙", "builds from source", "installs, but some packages build from source"),
    "blocked": ("✖", "blocked", "at least one blocker"),
    "unknown": ("?", "unknown", "the answer is incomplete (index outage, unreadable or no lockfile): not ready"),
    "unscanned": ("…", "not scanned", "no finished scan yet"),
}
CHECK_BADGES: dict[str, tuple[str, str, str]] = {
    "failure": ("✖", "fails", "the pull request adds a blocker on a target an active campaign moves to"),
    "success": ("✔", "passes", "no new blocker on the targets that fail the check"),
    "neutral": ("!", "new blockers", "new blockers, reported without failing (READINESS_PR_FAIL_ON=never)"),
    "queued": ("…", "queued", "the check waits for the coalescing window or a worker"),
    "running": ("…", "checking", "the head is being checked now"),
    "skipped": ("–", "no dependency change", "no lockfile, requirements, pyproject, Pipfile or Dockerfile changed"),
    "failed": ("?", "check failed", "the head could not be checked: see the note"),
}
_SEVERITY = {"blocker": "✖", "warning": "⚠", "info": "ℹ"}
_CSS = {"n/a": "na"}


def _badge(kind: str, key: str, table: dict[str, tuple[str, str, str]]) -> SafeString:
    icon, label, help_text = table.get(key, ("?", key or "—", ""))
    css = _CSS.get(key, key if key in table else "other")
    return format_html(
        '<span class="badge {}-{}" title="{}"><span aria-hidden="true">{}</span> {}</span>',
        kind,
        css,
        help_text,
        icon,
        label,
    )


@register.filter
def verdict_badge(status: str) -> SafeString:
    """``{{ cell.status|verdict_badge }}`` → icon + word + colour for a verdict status."""
    return _badge("verdict", status, VERDICT_BADGES)


@register.filter
def state_label(state: str) -> str:
    """The words for a repo state ("builds from source" for ``sdist``)."""
    return STATE_BADGES.get(state or "unscanned", ("", state, ""))[1]


@register.filter
def state_badge(state: str) -> SafeString:
    """A repo's state on a target: ready, builds from source, blocked (or not scanned)."""
    return _badge("state", state or "unscanned", STATE_BADGES)


@register.filter
def check_badge(outcome: str) -> SafeString:
    """A pull request check's outcome (``PullRequestRow.badge``) as a badge."""
    return _badge("check", outcome, CHECK_BADGES)


@register.filter
def severity_badge(severity: str) -> SafeString:
    return format_html(
        '<span class="badge severity-{}"><span aria-hidden="true">{}</span> {}</span>',
        severity if severity in _SEVERITY else "other",
        _SEVERITY.get(severity, "•"),
        severity,
    )


@register.filter
def when(value: dt.datetime | None) -> SafeString | str:
    """An absolute time in UTC with the relative age beside it ("2025-03-04 10:12 UTC · 3 h ago")."""
    if value is None:
        return "never"
    value = value.astimezone(dt.UTC)
    return format_html(
        '<time datetime="{}">{} UTC</time> <span class="age">· {}</span>',
        value.isoformat(),
        value.strftime("%Y-%m-%d %H:%M"),
        _age(timezone.now() - value),
    )


def _age(delta: dt.timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 0:
        return "in the future"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return "just now"


@register.filter
def signed(value: int | None) -> str:
    """A change: "+3", "−2", "±0", or "—" when there is nothing to compare with."""
    if value is None:
        return "—"
    if value > 0:
        return f"+{value}"
    if value < 0:
        return f"−{-value}"
    return "±0"


@register.filter
def heat(percent: float) -> str:
    """The heat-map class for a "% ready" cell: five steps, ``heat-0`` (none) to ``heat-4`` (all)."""
    return f"heat-{min(4, int(percent // 20))}"


@register.filter
def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


@register.filter
def get(mapping: dict, key: str):
    """``{{ row.states|get:target }}``: dictionary lookup with a variable key."""
    return mapping.get(key, "") if isinstance(mapping, dict) else ""


@register.simple_tag(takes_context=True)
def qs(context, **changes) -> str:
    """The current page's query string with ``changes`` applied; empty values are dropped.

    Used for sort headers and pagination, so ``?team=`` and the other filters are kept.
    """
    request = context.get("request")
    params = {k: v for k, v in (request.GET.items() if request else ())}
    params.update({k: str(v) for k, v in changes.items()})
    params = {k: v for k, v in params.items() if v not in ("", "None")}
    return "?" + urlencode(params) if params else "?"


@register.simple_tag
def sort_link(current: str, column: str) -> str:
    """The ``sort`` value for a column header: ascending first, then toggles to descending."""
    return f"-{column}" if current == column else column
