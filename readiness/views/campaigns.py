"""Campaign pages (everyone) and their creation, editing and closing (managers)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from readiness.access import permission_required, viewer_required
from readiness.models import Campaign
from readiness.queries.campaigns import campaign_csv, campaign_page, campaign_statuses
from readiness.queries.scope import team_names
from readiness.services.campaigns import CampaignError, campaign_close, campaign_create, campaign_update
from readiness.views.exports import csv_response

__all__ = [
    "campaign_close_view",
    "campaign_create_view",
    "campaign_csv_view",
    "campaign_detail",
    "campaign_edit_view",
    "campaigns",
]


@viewer_required
def campaigns(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "readiness/campaigns.html",
        {
            "statuses": campaign_statuses(active_only=False),
            "teams": team_names(),
            "nav": "campaigns",
        },
    )


@viewer_required
def campaign_detail(request: HttpRequest, slug: str) -> HttpResponse:
    page = campaign_page(slug=slug)
    if page is None:
        raise Http404("no campaign with this name")
    return render(
        request,
        "readiness/campaign.html",
        {"page": page, "chart": page.chart(), "teams": team_names(), "nav": "campaigns"},
    )


@viewer_required
def campaign_csv_view(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    rows = campaign_csv(slug=slug)
    if rows is None:
        raise Http404("no campaign with this name")
    return csv_response(rows, f"campaign-{slug}.csv")


def _form(request: HttpRequest) -> dict:
    """The form's fields as the campaign services take them. :raises CampaignError: a bad or missing date."""
    post = request.POST
    due = _date(post.get("due", ""), "due")
    if due is None:
        raise CampaignError("a campaign needs a due date")
    return {
        "name": post.get("name", ""),
        "targets": [t for t in post.get("targets", "").replace(",", " ").split() if t],
        "start": _date(post.get("start", ""), "start") or timezone.localdate(),
        "due": due,
        "teams": post.getlist("teams"),
        "python": post.get("python", "").strip(),
        "libc": post.get("libc", "").strip(),
        "description": post.get("description", ""),
    }


def _date(text: str, what: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CampaignError(f"the {what} date {text[:20]!r} is not a date (YYYY-MM-DD)") from None


@require_POST
@permission_required("campaigns")
def campaign_create_view(request: HttpRequest) -> HttpResponse:
    try:
        form = _form(request)
        campaign = campaign_create(**form, user=request.user)
    except CampaignError as exc:
        messages.error(request, f"The campaign was not created: {exc}.")
        return redirect("readiness:campaigns")
    messages.success(request, f"Campaign “{campaign.name}” created.")
    return redirect("readiness:campaign", slug=campaign.slug)


@require_POST
@permission_required("campaigns")
def campaign_edit_view(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    try:
        form = _form(request)
        campaign_update(campaign, **form)
    except CampaignError as exc:
        messages.error(request, f"Not saved: {exc}.")
    else:
        messages.success(request, "Saved.")
    return redirect(reverse("readiness:campaign", args=[slug]))


@require_POST
@permission_required("campaigns")
def campaign_close_view(request: HttpRequest, slug: str) -> HttpResponse:
    get_object_or_404(Campaign, slug=slug)
    campaign = campaign_close(slug)
    messages.success(request, f"Campaign “{campaign.name}” closed; its history stays here.")
    return redirect(reverse("readiness:campaign", args=[slug]))
