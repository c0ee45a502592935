"""Every email the product sends: one small function per kind, three templates per kind.

``templates/emails/<kind>-subject.html``, ``-body-text.html`` and ``-body-html.html`` (as in
healthchecks' ``hc/lib/emails.py``). Sending is synchronous and raises on failure: the caller
(a service) records the failure and decides about retries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string

from readiness.queries.weekly_report import WeeklyReportData

__all__ = ["RenderedEmail", "notification", "weekly_report", "weekly_report_render"]

# An unanswering mail server must not hold a worker forever (Django's default is no timeout).
_SMTP_TIMEOUT = 30


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def _render(kind: str, context: dict) -> RenderedEmail:
    subject = render_to_string(f"emails/{kind}-subject.html", context)
    return RenderedEmail(
        subject=re.sub(r"\s+", " ", subject).strip(),  # a header: one line, whatever the template's layout
        text=render_to_string(f"emails/{kind}-body-text.html", context),
        html=render_to_string(f"emails/{kind}-body-html.html", context),
    )


def weekly_report_render(report: WeeklyReportData) -> RenderedEmail:
    return _render("weekly", {"report": report})


def weekly_report(*, to: str, report: WeeklyReportData) -> str:
    """Send one weekly report (HTML and plain text) with one-click unsubscribe headers; returns the subject."""
    rendered = weekly_report_render(report)
    headers = {}
    if report.unsubscribe_url:
        # RFC 8058: mail clients show an "Unsubscribe" button that POSTs to this URL.
        headers = {
            "List-Unsubscribe": f"<{report.unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    connection = get_connection(timeout=getattr(settings, "EMAIL_TIMEOUT", None) or _SMTP_TIMEOUT)
    message = EmailMultiAlternatives(rendered.subject, rendered.text, to=[to], headers=headers, connection=connection)
    message.attach_alternative(rendered.html, "text/html")
    message.send()
    return rendered.subject


def notification(*, to: list[str], payload: dict) -> str:
    """Send one notification (an event's JSON, as the webhook channel sends it); returns the subject."""
    rendered = _render("notification", {"event": payload})
    connection = get_connection(timeout=getattr(settings, "EMAIL_TIMEOUT", None) or _SMTP_TIMEOUT)
    message = EmailMultiAlternatives(rendered.subject, rendered.text, to=to, connection=connection)
    message.attach_alternative(rendered.html, "text/html")
    message.send()
    return rendered.subject
