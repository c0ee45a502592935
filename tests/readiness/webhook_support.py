"""Webhook payloads and signed requests made from them.

:func:`load` reads the project's own hand-written payloads (tests/fixtures/github-webhooks);
:func:`load_shared` reads GitHub's published examples from ``../shared/fixtures/github-webhooks``,
which are third-party data and never copied into the project: tests that use them carry
:data:`needs_shared`, so they are skipped where ``../shared`` is absent (CI always has it).

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

import pytest
from django.test import Client

__all__ = [
    "FIXTURES",
    "SECRET",
    "SHARED",
    "load",
    "load_shared",
    "needs_shared",
    "post",
    "push_payload",
    "shared_names",
    "sign",
]

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "github-webhooks"
SHARED = ROOT.parent / "shared" / "fixtures" / "github-webhooks"
SECRET = "test webhook secret"

needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason=f"no GitHub payload examples at {SHARED} (CI has them)")


def _read(directory: Path, name: str) -> dict[str, Any]:
    file = f"{name}.json" if name.endswith("/payload") else f"{name}.payload.json"
    return json.loads((directory / file).read_text(encoding="utf-8"))


def load(name: str) -> dict[str, Any]:
    """A fresh copy of the project's ``<event>/payload.json`` (``"push/payload"``) or ``<event>/<name>.payload.json``."""
    return _read(FIXTURES, name)


def load_shared(name: str) -> dict[str, Any]:
    """A fresh copy of GitHub's published example of that name, from ``../shared`` (see :data:`needs_shared`)."""
    return _read(SHARED, name)


def shared_names() -> list[str]:
    """Every example in ``../shared`` as a :func:`load_shared` name (``"push/with-new-branch"``); none where it is absent."""
    if not SHARED.is_dir():
        return []
    names = []
    for file in sorted(SHARED.glob("*/*.json")):
        stem = file.name.removesuffix(".json").removesuffix(".payload")
        names.append(f"{file.parent.name}/{stem}")
    return names


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
    """The new-branch push fixture, made an ordinary push to ``ref`` of one commit changing ``modified``."""
    payload = load("push/with-new-branch")
    payload.update(ref=ref, created=False, after=after)
    payload["repository"].update(
        id=github_id, full_name=full_name, default_branch=default_branch, master_branch=default_branch
    )
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
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "User-Agent": "GitHub-Hookshot/test",
    }
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    elif secret is not None:
        headers["X-Hub-Signature-256"] = sign(body, secret)
    return client.post("/webhooks/github/", data=body, content_type=content_type, headers=headers)
