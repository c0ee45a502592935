"""GitHub-style HMAC-SHA256 body signatures (``sha256=<hex>``): one rule for the deliveries we
receive (GitHub's webhooks), the ones we send (outbound notification webhooks) and the local
receiver that checks ours (``manage.py notify listen``)."""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["webhook_signature", "webhook_signature_valid"]


def webhook_signature(*, secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value GitHub sends for ``body``: ``sha256=<hex HMAC>``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def webhook_signature_valid(*, secret: str, body: bytes, signature: str | None) -> bool:
    """Whether ``signature`` is GitHub's HMAC-SHA256 of the raw ``body`` with ``secret``.

    Constant-time comparison (``hmac.compare_digest``), so response times leak nothing about
    how much of a forged signature was right. No secret never verifies anything.
    """
    if not secret or not signature:
        return False
    expected = webhook_signature(secret=secret, body=body).encode("ascii")
    # Header values arrive as latin-1 decoded text (WSGI); bytes make any value comparable.
    return hmac.compare_digest(expected, signature.strip().encode("latin-1", "replace"))
