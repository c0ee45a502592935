from django.contrib import admin
from django.urls import include, path

from readiness.views import (
    api,
    api_tokens,
    badges,
    blockers,
    campaigns,
    email_settings,
    exports,
    overview,
    package,
    repo,
    repos,
    trends,
    triage,
    upstream,
    webhooks,
)

# Stable URLs: weekly emails and chat messages link to them.
dashboard = (
    [
        path("", overview.overview, name="overview"),
        path("repos/", repos.repo_list, name="repos"),
        # The action routes come before the catch-all repo route: repo names may contain "/".
        path("repos/<path:name>/rescan/", repo.repo_rescan, name="repo-rescan"),
        path("repos/<path:name>/scan.json", repo.repo_scan_status, name="repo-scan-status"),
        path("repos/<path:name>/triage/", triage.repo_triage_change, name="repo-triage"),
        path("repos/<path:name>/", repo.repo_detail, name="repo"),
        path("packages/<path:name>/", package.package_detail, name="package"),  # outside names may hold anything
        path("blockers/", blockers.blockers, name="blockers"),
        path("trends/", trends.trends, name="trends"),
        path("campaigns/", campaigns.campaigns, name="campaigns"),
        path("campaigns/new/", campaigns.campaign_create_view, name="campaign-create"),
        path("campaigns/<slug:slug>/", campaigns.campaign_detail, name="campaign"),
        path("campaigns/<slug:slug>/campaign.csv", campaigns.campaign_csv_view, name="campaign-csv"),
        path("campaigns/<slug:slug>/edit/", campaigns.campaign_edit_view, name="campaign-edit"),
        path("campaigns/<slug:slug>/close/", campaigns.campaign_close_view, name="campaign-close"),
        path("upstream/", upstream.upstream, name="upstream"),
        path("upstream/<int:pk>/mark/", upstream.upstream_mark_view, name="upstream-mark"),
        path("export/matrix.csv", exports.export_matrix_csv, name="export-matrix-csv"),
        path("export/matrix.json", exports.export_matrix_json, name="export-matrix-json"),
        path("export/blockers.csv", exports.export_blockers_csv, name="export-blockers-csv"),
        path("export/trends.csv", exports.export_trends_csv, name="export-trends-csv"),
        path("settings/email/", email_settings.email_settings, name="email-settings"),
        path("settings/email/save/", email_settings.email_settings_save, name="email-settings-save"),
        path("settings/email/subscribe/", email_settings.email_subscribe_other, name="email-subscribe-other"),
        path(
            "settings/email/<int:subscription_id>/unsubscribe/",
            email_settings.email_unsubscribe_other,
            name="email-unsubscribe-other",
        ),
        path("settings/api-tokens/", api_tokens.api_token_create, name="api-token-create"),
        path("settings/api-tokens/<int:token_id>/revoke/", api_tokens.api_token_revoke, name="api-token-revoke"),
        path("email/unsubscribe/<str:token>/", email_settings.unsubscribe, name="unsubscribe"),
    ],
    "readiness",
)

# The read API: versioned in the path, so /api/v2/ can change shapes while v1 clients keep working.
api_v1 = [
    path("openapi.json", api.openapi, name="api-openapi"),
    path("repos/", api.repos, name="api-repos"),
    path("repos/<path:name>/matrix/", api.repo_matrix, name="api-repo-matrix"),  # before the catch-all
    path("repos/<path:name>/", api.repo, name="api-repo"),
    path("blockers/", api.blockers, name="api-blockers"),
    path("campaigns/", api.campaigns, name="api-campaigns"),
    path("campaigns/<slug:slug>/", api.campaign, name="api-campaign"),
    path("upstream/", api.upstream, name="api-upstream"),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    # README badges: /badge/billing/linux-arm64.svg (the platform's slash as a dash; repo names may hold "/")
    path("badge/<path:name>/<str:platform>.svg", badges.badge, name="badge"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("webhooks/github/", webhooks.github_webhook, name="github-webhook"),  # set as the hook URL on GitHub
    path("", include(dashboard)),
]
