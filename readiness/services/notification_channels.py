"""How each channel says an event: Slack's and Teams' documented webhook formats, a signed generic
webhook, and email; and sending it. A channel's URL is a secret (a Slack or Teams webhook's path is
its key): errors, logs and pages name only its scheme and host (:func:`masked_url`).

* **Slack** incoming webhooks take ``{"text": fallback, "blocks": [...]}`` (Block Kit, ``mrkdwn``);
* **Teams** workflow webhooks take a message whose one attachment is an Adaptive Card
  (``application/vnd.microsoft.card.adaptive``);
* the **generic webhook** is the event's JSON as :meth:`~readiness.queries.notification_events.Event.payload`
  writes it, signed like GitHub's: ``X-Readiness-Signature-256: sha256=<HMAC-SHA256 of the body
  under the rule's secret>``, with ``X-Readiness-Event`` and ``X-Readiness-Delivery`` (the id
  receivers deduplicate on);
* **email** goes through Django's mail settings, like the weekly report.

A request answered 429 or 5xx, or not answered, is retried at once a few times with backoff
(:func:`scanners.http.request`); what still fails is retried later by the task.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from readiness import emails
from readiness.clients import http_client
from readiness.services.signatures import webhook_signature
from scanners.http import HttpError, RetryPolicy, one_line, request

__all__ = [
    "SIGNATURE_HEADER",
    "SendOutcome",
    "email_addresses",
    "item_line",
    "masked_url",
    "send",
    "shown_target",
    "slack_message",
    "target_problem",
    "teams_message",
]

SIGNATURE_HEADER = "X-Readiness-Signature-256"
_POLICY = RetryPolicy(retries=2, backoff=0.5)
_DEADLINE = 30.0
_MAX_ITEMS = 10  # a chat message lists this many packages, then "and N more"


@dataclass(frozen=True, slots=True)
class SendOutcome:
    ok: bool
    attempts: int
    status: int | None = None
    error: str = ""
    transient: bool = False  # worth trying again later


def masked_url(url: str) -> str:
    """``https://hooks.example/services/T0/B0/XXXX`` → ``https://hooks.example/…``: enough to tell channels apart."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "…"
    return f"{parts.scheme}://{host}{port}/…" if parts.scheme and host else "…"


def shown_target(channel: str, target: str) -> str:
    """What lists, logs and messages show of a rule's target: addresses as they are, a URL masked."""
    return target if channel == "email" else masked_url(target)


def email_addresses(target: str) -> list[str]:
    """An email rule's target as addresses: separated by commas or semicolons, blanks dropped."""
    return [a.strip() for a in target.replace(";", ",").split(",") if a.strip()]


def target_problem(channel: str, target: str) -> str | None:
    """Why ``target`` cannot serve ``channel`` (``None``: it can): one rule for the admin's form
    and ``manage.py notify add``."""
    if channel != "email":
        if not target.startswith(("https://", "http://")):
            return "a webhook URL starts with https:// (or http:// inside your network)"
        return None
    addresses = email_addresses(target)
    if not addresses:
        return "the email channel needs addresses, comma-separated"
    for address in addresses:
        try:
            validate_email(address)
        except ValidationError:
            return f"not an email address: {address}"
    return None


def _slack_escape(text: str) -> str:
    # Slack's mrkdwn treats these three as control characters (its "escaping text" rules).
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _lines(payload: dict) -> list[str]:
    items = payload.get("items") or []
    out = [item_line(i) for i in items[:_MAX_ITEMS]]
    if len(items) > _MAX_ITEMS:
        out.append(f"and {len(items) - _MAX_ITEMS} more")
    if payload.get("detail"):
        out.append(payload["detail"])
    return out


def item_line(item: dict) -> str:
    """One package of an event, as messages and ``notify listen`` say it: "grpcio 1.30.0 on linux/arm64: upgrade to 1.60.0"."""
    what = " ".join(p for p in (item.get("package"), item.get("version")) if p)
    where = f" on {item['target']}" if item.get("target") else ""
    return f"{what}{where}: {item['fix']}" if item.get("fix") else f"{what}{where}"


def slack_message(payload: dict) -> dict:
    title = _slack_escape(payload["title"])
    lines = [f"• {_slack_escape(line)}" for line in _lines(payload)]
    blocks: list[dict] = [{"type": "section", "text": {"type": "mrkdwn", "text": f"*<{payload['url']}|{title}>*"}}]
    if lines:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)[:2900]}})
    context = " · ".join(p for p in (payload.get("team") and f"team {payload['team']}", payload["event"]) if p)
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": _slack_escape(f"Arch Readiness · {context}")}]}
    )
    return {"text": f"{payload['title']}: {payload['url']}", "blocks": blocks}


def teams_message(payload: dict) -> dict:
    facts = [{"title": "Event", "value": payload["event"]}]
    for name in ("repo", "team", "target", "campaign"):
        if payload.get(name):
            facts.append({"title": name.capitalize(), "value": str(payload[name])})
    body: list[dict] = [
        {"type": "TextBlock", "text": payload["title"], "weight": "Bolder", "size": "Medium", "wrap": True},
        {"type": "FactSet", "facts": facts},
    ]
    body += [{"type": "TextBlock", "text": f"- {line}", "wrap": True, "spacing": "Small"} for line in _lines(payload)]
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
        "actions": [{"type": "Action.OpenUrl", "title": "Open in Arch Readiness", "url": payload["url"]}],
    }
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def _post(url: str, body: bytes, headers: dict[str, str]) -> SendOutcome:
    retries = 0

    def count_and_sleep(seconds: float) -> None:
        nonlocal retries
        retries += 1
        time.sleep(seconds)

    try:
        response = request(
            http_client(),
            "POST",
            url,
            headers={"Content-Type": "application/json", **headers},
            content=body,
            policy=_POLICY,
            deadline=_DEADLINE,
            timeout=10.0,
            max_bytes=100_000,
            follow_redirects=False,
            sleep=count_and_sleep,
            shown_url=masked_url(url),
        )
    except HttpError as exc:
        status = exc.response.status_code if exc.response is not None else None
        permanent = exc.kind in ("bad_url", "redirects", "too_large")
        return SendOutcome(False, exc.attempts, status, f"{exc.url}: {exc.detail}{exc.gave_up}", not permanent)
    attempts = retries + 1
    if 200 <= response.status_code < 300:
        return SendOutcome(True, attempts, response.status_code)
    reason = one_line(response.text, limit=200) if response.text else ""
    return SendOutcome(
        False,
        attempts,
        response.status_code,
        f"{masked_url(url)}: answered HTTP {response.status_code}{': ' + reason if reason else ''}",
    )


def send(*, channel: str, target: str, secret: str, payload: dict) -> SendOutcome:
    """Send ``payload`` (an event's JSON) through one channel."""
    if channel == "email":
        try:
            emails.notification(to=email_addresses(target), payload=payload)
        except Exception as exc:  # noqa: BLE001 - any mail failure is recorded and retried
            return SendOutcome(False, 1, None, f"email: {one_line(exc)}", True)
        return SendOutcome(True, 1)
    if channel == "slack":
        return _post(target, json.dumps(slack_message(payload)).encode(), {})
    if channel == "teams":
        return _post(target, json.dumps(teams_message(payload)).encode(), {})
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = {"X-Readiness-Event": payload["event"], "X-Readiness-Delivery": payload["delivery_id"]}
    if secret:
        headers[SIGNATURE_HEADER] = webhook_signature(secret=secret, body=body)
    return _post(target, body, headers)
