"""Loopback stand-ins for the receivers of notifications: Slack, Teams and a generic webhook endpoint.

Each records every POST and answers as its service does: Slack's incoming webhook ``200 ok`` (or
``400 invalid_payload`` for a body that is not what Slack documents), a Teams workflow webhook
``202 Accepted`` (or 400 for a message that is not an Adaptive Card attachment), and a generic
receiver answers from a script of statuses (the last repeats) after checking the HMAC signature.
The shapes checked are the documented ones: Slack's ``text`` + Block Kit ``blocks`` (section and
context blocks of ``mrkdwn``/``plain_text`` text objects, at most 3,000 characters each), Teams'
``{"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
"content": <AdaptiveCard>}]}``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

from tests.support.loopback import LoopbackHTTPServer

__all__ = ["Received", "Receiver", "slack_problems", "teams_problems"]


@dataclass(frozen=True, slots=True)
class Received:
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    status: int  # what the receiver answered

    def json(self) -> dict:
        return json.loads(self.body)


def _text_object_problems(obj: object, where: str) -> list[str]:
    if not isinstance(obj, dict) or obj.get("type") not in ("mrkdwn", "plain_text"):
        return [f"{where}: not a text object"]
    text = obj.get("text")
    if not isinstance(text, str) or not text or len(text) > 3000:
        return [f"{where}.text: a string of 1 to 3000 characters"]
    return []


def slack_problems(body: object) -> list[str]:
    """What makes ``body`` not an incoming-webhook message as Slack documents it (empty: none)."""
    if not isinstance(body, dict):
        return ["not an object"]
    problems = []
    if not isinstance(body.get("text"), str) or not body["text"]:
        problems.append("text: the fallback text is required with blocks")
    blocks = body.get("blocks", [])
    if not isinstance(blocks, list) or len(blocks) > 50:
        return [*problems, "blocks: at most 50"]
    for i, block in enumerate(blocks):
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "section":
            problems += _text_object_problems(block.get("text"), f"blocks[{i}].text")
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
                problems.append(f"blocks[{i}].elements: 1 to 10")
            else:
                for j, e in enumerate(elements):
                    problems += _text_object_problems(e, f"blocks[{i}].elements[{j}]")
        elif kind not in ("divider", "header", "actions", "image"):
            problems.append(f"blocks[{i}]: unknown block type {kind!r}")
    return problems


_CARD_ELEMENTS = {"TextBlock": ("text",), "FactSet": ("facts",), "ColumnSet": (), "Container": ()}


def teams_problems(body: object) -> list[str]:
    """What makes ``body`` not a Teams workflow message with one Adaptive Card (empty: none)."""
    if not isinstance(body, dict) or body.get("type") != "message":
        return ['type: "message" expected']
    attachments = body.get("attachments")
    if not isinstance(attachments, list) or not attachments:
        return ["attachments: at least one"]
    problems = []
    for i, a in enumerate(attachments):
        if a.get("contentType") != "application/vnd.microsoft.card.adaptive":
            problems.append(f"attachments[{i}].contentType")
            continue
        card = a.get("content")
        if not isinstance(card, dict) or card.get("type") != "AdaptiveCard" or not isinstance(card.get("version"), str):
            problems.append(f"attachments[{i}].content: an AdaptiveCard with a version")
            continue
        for j, element in enumerate(card.get("body", [])):
            required = _CARD_ELEMENTS.get(element.get("type"))
            if required is None:
                problems.append(f"body[{j}]: unknown element {element.get('type')!r}")
            problems += [f"body[{j}].{r} missing" for r in required or () if not element.get(r)]
            if element.get("type") == "FactSet":
                problems += [
                    f"body[{j}].facts: title and value strings"
                    for f in element["facts"]
                    if not isinstance(f.get("title"), str) or not isinstance(f.get("value"), str)
                ]
        for action in card.get("actions", []):
            if action.get("type") == "Action.OpenUrl" and not str(action.get("url", "")).startswith("http"):
                problems.append("actions: Action.OpenUrl needs a url")
    return problems


class Receiver(LoopbackHTTPServer):
    """``kind``: ``"slack"``, ``"teams"`` or ``"webhook"`` (checks ``secret``'s signature, answers ``statuses``)."""

    thread_name = "notification-receiver"

    def __init__(self, kind: str, *, statuses: tuple[int, ...] = (200,), secret: str = "") -> None:
        super().__init__()
        self.kind = kind
        self.statuses = statuses
        self.secret = secret
        self.received: list[Received] = []
        self.bad_signatures = 0
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://{self.address}/hooks/T000/B000/secret-path-XXXX"

    def _answer(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        try:
            data = json.loads(body)
        except ValueError:
            return 400, b"invalid_payload"
        if self.kind == "slack":
            return (200, b"ok") if not slack_problems(data) else (400, b"invalid_payload")
        if self.kind == "teams":
            return (202, b"") if not teams_problems(data) else (400, b"bad card")
        if self.secret:
            expected = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(headers.get("x-readiness-signature-256", ""), expected):
                self.bad_signatures += 1
                return 401, b"bad signature"
        with self._lock:
            n = sum(1 for r in self.received if r.path)  # answers so far
        return self.statuses[min(n, len(self.statuses) - 1)], b""

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, answer = server._answer(body, headers)
                with server._lock:
                    server.received.append(Received(self.path, headers, body, status))
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        return Handler
