"""The Django admin: teams and repos are edited here; scans and cached index pages are read-only.

Scans are history written only by ``readiness.services.scans``, so the admin shows them and
never changes them. Verdict rows are not shown (150 packages × targets per scan): the stored
``summary`` gives their counts. Every list loads its related rows up front (one query per
page, whatever its length).

No secret is shown: a repo's URL is shown with its userinfo redacted (rows made before tokens in
URLs were refused may carry one) and a new one with credentials is refused as ``repos.toml`` refuses
it; cached index pages show their index URL redacted (``PIP_INDEX_URL`` often holds a token).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count, QuerySet
from django.db.models.functions import Length
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html_join

from readiness.models import (
    BlockerTriage,
    Campaign,
    IndexPage,
    PullRequestCheck,
    Repo,
    Scan,
    ScanFile,
    ScanFinding,
    Subscription,
    Team,
    TriageEvent,
    WebhookDelivery,
    WeeklyReport,
)
from readiness.models.rollups import repo_state
from readiness.services.reports import STUCK_AFTER
from readiness.services.repos import url_carries_credentials
from scanners.http import redact

__all__ = ["IndexPageAdmin", "RepoAdmin", "ScanAdmin", "TeamAdmin"]

_STATUSES = ("wheel", "sdist", "none", "unknown", "n/a")


class _ReadOnly:
    """View-only for everybody: these rows are written by the scan services alone."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "repo_count")
    search_fields = ("name",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Team]:
        return super().get_queryset(request).annotate(repo_count=Count("repos"))

    @admin.display(description="repos", ordering="repo_count")
    def repo_count(self, team: Team) -> int:
        return team.repo_count


class RepoForm(forms.ModelForm):
    """The repo's URL is edited redacted: the form shows ``https://***@host/…`` for a stored URL
    with credentials, and a submitted value equal to that keeps the stored URL (git still needs it)."""

    class Meta:
        model = Repo
        fields = "__all__"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.url:
            self.initial["url"] = redact(self.instance.url)

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        stored = self.instance.url if self.instance.pk else ""
        if stored and url == redact(stored):
            return stored
        if url_carries_credentials(url):
            raise forms.ValidationError(
                "contains a password or token; remove it and name an environment variable in “credentials ref” instead"
            )
        return url


@admin.register(Repo)
class RepoAdmin(admin.ModelAdmin):
    form = RepoForm
    list_display = ("name", "team", "enabled", "latest_state", "branch", "managed_by")
    list_filter = ("team", "enabled", "archived", "public")
    list_select_related = ("team", "latest_scan")
    search_fields = ("name", "url", "github_full_name")
    fields = (
        "name",
        "url",
        "branch",
        "team",
        "enabled",
        "public",
        "credentials_ref",
        "archived",
        "github_id",
        "github_full_name",
        "managed_by",
        "latest_scan",
        "created_at",
        "updated_at",
    )
    # Set by imports and scans: an admin edit would be overwritten by the next import anyway.
    readonly_fields = ("github_id", "github_full_name", "managed_by", "latest_scan", "created_at", "updated_at")

    @admin.display(description="latest scan", ordering="latest_scan__state")
    def latest_state(self, repo: Repo) -> str:
        return repo.latest_scan.state if repo.latest_scan else "never scanned"


class ScanFileInline(_ReadOnly, admin.TabularInline):
    model = ScanFile
    fields = ("path", "kind", "format", "blob_id", "error")
    extra = 0


class ScanFindingInline(_ReadOnly, admin.TabularInline):
    model = ScanFinding
    fields = ("path", "line", "rule", "severity", "message")
    extra = 0


@admin.register(Scan)
class ScanAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ("id", "repo", "state", "trigger", "short_commit", "requested_at", "finished_at", "counts")
    list_filter = ("state", "trigger")
    list_select_related = ("repo",)
    search_fields = ("repo__name", "commit")
    inlines = (ScanFileInline, ScanFindingInline)
    fields = (
        "repo",
        "state",
        "trigger",
        "ref",
        "as_of",
        "commit",
        "committed_at",
        "requested_at",
        "started_at",
        "heartbeat_at",
        "finished_at",
        "step",
        "progress",
        "error",
        "analyser_version",
        "targets",
        "counts",
        "unchanged",
        "results_from",
        "task_id",
        "attempts",
    )
    readonly_fields = ("counts",)

    @admin.display(description="commit")
    def short_commit(self, scan: Scan) -> str:
        return scan.commit[:12]

    @admin.display(description="verdicts per target")
    def counts(self, scan: Scan) -> str:
        """The stored summary, one line per target: ``linux/arm64: 140 wheel, 3 sdist, … (ready)``."""
        summary = scan.summary if isinstance(scan.summary, dict) else {}
        rows = []
        for target, counts in sorted(summary.items()):
            if not isinstance(counts, dict):
                continue
            parts = ", ".join(f"{counts[s]} {s}" for s in _STATUSES if counts.get(s))
            ready = repo_state(counts).replace("sdist", "builds from source")
            rows.append((target, parts or "no packages", ready))
        if not rows:
            return "—"
        return format_html_join("", "<div>{}: {} ({})</div>", rows)


class _IndexFilter(admin.SimpleListFilter):
    """Filter by index, named and linked by its redacted URL (the raw one may hold a token)."""

    title = "index"
    parameter_name = "index"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        shown = sorted({redact(u) for u in IndexPage.objects.values_list("index_url", flat=True).distinct()})
        return [(u, u) for u in shown]

    def queryset(self, request: HttpRequest, queryset: QuerySet[IndexPage]) -> QuerySet[IndexPage]:
        if not self.value():
            return queryset
        raw = [u for u in IndexPage.objects.values_list("index_url", flat=True).distinct() if redact(u) == self.value()]
        return queryset.filter(index_url__in=raw)


@admin.register(IndexPage)
class IndexPageAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ("name", "index", "content_type", "body_size", "fetched_at", "changed_at")
    list_filter = (_IndexFilter,)
    search_fields = ("name",)
    # The body is a cached index page (up to megabytes): never loaded, never shown.
    fields = (
        "index",
        "name",
        "page",
        "content_type",
        "body_size",
        "etag",
        "last_modified",
        "fetched_at",
        "changed_at",
    )
    readonly_fields = ("index", "page", "body_size")

    @admin.display(description="index URL", ordering="index_url")
    def index(self, page: IndexPage) -> str:
        return redact(page.index_url)

    @admin.display(description="page URL")
    def page(self, page: IndexPage) -> str:
        return redact(page.page_url)

    def get_queryset(self, request: HttpRequest) -> QuerySet[IndexPage]:
        return super().get_queryset(request).defer("body").annotate(body_size=Length("body"))

    @admin.display(description="bytes", ordering="body_size")
    def body_size(self, page: IndexPage) -> int:
        return page.body_size


# -- weekly email report -----------------------------------------------------------------


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ("user", "scope", "active", "created_at")
    list_filter = ("scope", "active")
    list_select_related = ("user",)
    search_fields = ("user__email", "user__username")
    filter_horizontal = ("teams",)


class StuckFilter(admin.SimpleListFilter):
    """Reports whose sender died mid-send: never retried by themselves (the mail may have gone out)."""

    title = "stuck"
    parameter_name = "stuck"

    def lookups(self, request, model_admin):
        return [("yes", "stuck in sending (resend with weekly_report --resend ID)")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(state=WeeklyReport.State.SENDING, claimed_at__lt=timezone.now() - STUCK_AFTER)
        return queryset


@admin.register(WeeklyReport)
class WeeklyReportAdmin(_ReadOnly, admin.ModelAdmin):
    """Read-only: a report row is the exactly-once claim; editing it could send a report twice."""

    list_display = ("id", "subscription", "week", "state", "attempts", "claimed_at", "sent_at", "to")
    list_filter = (StuckFilter, "state", "week")
    list_select_related = ("subscription__user",)
    search_fields = ("to", "subscription__user__email")


# -- GitHub webhook deliveries -----------------------------------------------------------


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(_ReadOnly, admin.ModelAdmin):
    """Read-only: the log of what each signed delivery did (bad signatures are never stored)."""

    list_display = ("received_at", "event", "action", "repo", "github_full_name", "outcome", "detail")
    list_filter = ("outcome", "event")
    list_select_related = ("repo",)
    search_fields = ("delivery_id", "github_full_name", "repo__name")
    date_hierarchy = "received_at"
    fields = ("received_at", "delivery_id", "event", "action", "repo", "github_full_name", "outcome", "scan", "detail")


@admin.register(PullRequestCheck)
class PullRequestCheckAdmin(_ReadOnly, admin.ModelAdmin):
    """Read-only: each open pull request's check (the webhook keeps them; a closed one is deleted)."""

    list_display = ("repo", "number", "title", "state", "conclusion", "checked_sha", "finished_at", "post_error")
    list_filter = ("state", "conclusion")
    list_select_related = ("repo",)
    search_fields = ("repo__name", "title", "head_ref")
    exclude = ("comparison",)


# -- campaigns and triage ---------------------------------------------------------------------


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    """Campaigns are made and closed on their pages; here for corrections (a team to add)."""

    list_display = ("name", "slug", "start", "due", "closed_at")
    list_filter = ("closed_at",)
    search_fields = ("name", "slug")
    filter_horizontal = ("teams",)


class TriageEventInline(admin.TabularInline):
    model = TriageEvent
    extra = 0
    can_delete = False
    readonly_fields = ("at", "user", "action", "state", "note")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(BlockerTriage)
class BlockerTriageAdmin(_ReadOnly, admin.ModelAdmin):
    """Read-only: triage is changed on the repository page, so that every change has its history line."""

    list_display = ("repo", "kind", "subject", "target", "state", "assignee", "assignee_team", "snoozed_until")
    list_filter = ("state", "kind")
    list_select_related = ("repo", "assignee", "assignee_team")
    search_fields = ("repo__name", "subject")
    inlines = [TriageEventInline]


# The integrations (notification rules and their log, API tokens) have their own module.
import readiness.admin_integrations  # noqa: E402, F401
