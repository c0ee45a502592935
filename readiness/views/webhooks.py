"""The GitHub webhook endpoint: check the request, then hand the payload to the service.

Order matters: the secret must be configured, the body must be small enough to read, and its
signature must match before anything in it is parsed, so an unsigned request costs one HMAC
and leaves no trace but a log line. Accepted content types: ``application/json`` and
``application/x-www-form-urlencoded`` (GitHub's other option, the JSON in a ``payload=`` field);
the signature always covers the raw body as sent.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qs

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from readiness.services.webhooks import WebhookPayloadError, webhook_receive, webhook_signature_valid

__all__ = ["github_webhook"]

log = logging.getLogger(__name__)

_FORM = "application/x-www-form-urlencoded"


@csrf_exempt  # GitHub cannot send a CSRF token: the HMAC signature is the authentication
@require_POST
def github_webhook(request: HttpRequest) -> JsonResponse:
    secret = settings.GITHUB_WEBHOOK_SECRET
    delivery_id = request.headers.get("X-GitHub-Delivery", "")
    if not secret:
        log.error("GitHub webhook refused: GITHUB_WEBHOOK_SECRET is not set (delivery %s)", delivery_id or "-")
        return _answer(503, error="webhooks are not configured: the server has no GITHUB_WEBHOOK_SECRET")
    limit = settings.READINESS_WEBHOOK_MAX_BYTES
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _answer(400, error="Content-Length is not a number")
    if length > limit:
        log.warning("GitHub webhook refused: body of %s bytes is over the %s byte limit", length, limit)
        return _answer(413, error=f"body over {limit} bytes")
    body = request.read(limit + 1)  # never request.body: its own, lower cap would answer 400
    if len(body) > limit:
        return _answer(413, error=f"body over {limit} bytes")
    signature = request.headers.get("X-Hub-Signature-256")
    if not webhook_signature_valid(secret=secret, body=body, signature=signature):
        log.warning(
            "GitHub webhook refused: %s signature from %s (delivery %s)",
            "missing" if not signature else "wrong",
            request.META.get("REMOTE_ADDR", "?"),
            delivery_id or "-",
        )
        return _answer(
            401, error="missing X-Hub-Signature-256" if not signature else "X-Hub-Signature-256 does not match"
        )

    event = request.headers.get("X-GitHub-Event", "")
    if not event or not delivery_id:
        return _answer(400, error="missing X-GitHub-Event or X-GitHub-Delivery")
    if request.content_type not in ("application/json", _FORM):
        return _answer(415, error=f"content type {request.content_type or '(none)'}: use application/json")
    try:
        payload = _payload(body, form=request.content_type == _FORM)
    except WebhookPayloadError as exc:
        return _answer(400, error=str(exc))

    result = webhook_receive(
        event=event,
        delivery_id=delivery_id[:100],
        payload=payload,
        coalesce_seconds=settings.READINESS_WEBHOOK_COALESCE_SECONDS,
    )
    if result.duplicate or result.outcome == "ok":
        status = 200
    elif result.outcome == "invalid":
        status = 400
    else:
        status = 202  # accepted: any scan runs later, on a worker
    return _answer(status, outcome=result.outcome, detail=result.detail, scan=result.scan_id)


def _payload(body: bytes, *, form: bool) -> dict[str, Any]:
    try:
        if form:
            fields = parse_qs(body.decode("utf-8"), strict_parsing=True)
            if len(fields.get("payload", ())) != 1:
                raise WebhookPayloadError("form body: expected one payload= field")
            text = fields["payload"][0]
        else:
            text = body.decode("utf-8")
        payload = json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, WebhookPayloadError):
            raise
        raise WebhookPayloadError(f"body is not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise WebhookPayloadError(f"body: expected a JSON object, got {type(payload).__name__}")
    return payload


def _answer(status: int, **fields: Any) -> JsonResponse:
    return JsonResponse({k: v for k, v in fields.items() if v is not None}, status=status)
