"""GitHub's real webhook payloads (tests/fixtures/github-webhooks) and signed requests made from them.

Signatures are computed here with ``hmac`` directly, not with the code under test, so a bug in
the service's signing cannot make its own tests pass.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from pathlib import Path
from typing import Any

from django.test import Client

__all__ = ["FIXTURES", "SECRET", "load", "post", "push_payload", "sign"]

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "github-webhooks"
SECRET = "test webhook secret"


def load(name: str) -> dict[str, Any]:
    """A fresh copy of ``<event>/payload.json`` (``"push/payload"``) or ``<event>/<name>.payload.json``."""
    file = f"{name}.json" if name.endswith("/payload") else f"{name}.payload.json"
    return json.loads((FIXTURES / file).read_text(encoding="utf-8"))


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def push_payload(
    *,
    github_id: int,
    full_name: str,
    ref: str = "refs/heads/main",
    default_branch: str = "main",
    modified: tuple[str, ...] = ("requirements.txt",),
    after: str = "0" * 40,
) -> dict[str, Any]:
    """GitHub's new-branch push example, made an ordinary push to ``ref`` of one commit changing ``modified``."""
    payload = load("push/with-new-branch")
    payload.update(ref=ref, created=False, after=after)
    payload["repository"].update(id=github_id, full_name=full_name, default_branch=default_branch, master_branch=default_branch)
    commit = payload["commits"][0]
    commit.update(id=after, added=[], modified=list(modified), removed=[])
    payload["head_commit"] = commit
    return payload


def post(
    client: Client,
    event: str,
    payload: dict[str, Any] | bytes,
    *,
    delivery: str | None = None,
    secret: str | None = SECRET,
    signature: str | None = None,
    content_type: str = "application/json",
):
    """POST a delivery as GitHub does; ``secret=None`` sends no signature header."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery or str(uuid.uuid4()), "User-Agent": "GitHub-Hookshot/test"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    elif secret is not None:
        headers["X-Hub-Signature-256"] = sign(body, secret)
    return client.post("/webhooks/github/", data=body, content_type=content_type, headers=headers)
