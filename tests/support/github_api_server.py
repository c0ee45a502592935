"""A stand-in for the GitHub REST API on 127.0.0.1: ``GET /orgs/{org}/repos``, paginated, and
the Checks API with GitHub App authentication (see :class:`ChecksApi`).

It answers the way GitHub does: the first page at ``/orgs/{org}/repos``, later pages at
``/organizations/{org_id}/repos?…&page=N`` (the URLs GitHub's ``Link`` headers carry), with
``rel="prev"``, ``"next"``, ``"last"`` and ``"first"`` links, the ``X-RateLimit-*`` headers, and
GitHub's JSON error bodies (401 Bad credentials, 404 Not Found, 403 rate limit). Pages come from
``tests/fixtures/github-api``. Tests read :attr:`GitHubApiServer.requests` and inject failures
with :meth:`fail`.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.loopback import LoopbackHTTPServer

__all__ = ["FIXTURE_DIR", "ChecksApi", "GitHubApiServer", "RecordedRequest", "load_org_pages"]

FIXTURE_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "github-api"
_DOCS = "https://docs.github.com/rest"


def load_org_pages(org: str = "acme") -> list[list[dict[str, Any]]]:
    """The recorded pages of ``org``, in order."""
    paths = sorted((FIXTURE_DIR / f"orgs-{org}-repos").glob("page-*.json"), key=lambda p: int(p.stem[5:]))
    return [json.loads(path.read_text()) for path in paths]


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    """Header names lower-cased."""
    body: Any = None
    """A POST's or PATCH's JSON body, parsed."""


@dataclass(slots=True)
class _Fault:
    status: int
    headers: dict[str, str]
    body: dict[str, Any]
    remaining: int
    method: str | None = None


class GitHubApiServer(LoopbackHTTPServer):
    """``with GitHubApiServer(org="acme", token="t0ken") as api: api.url`` → ``http://127.0.0.1:PORT``.

    With ``token=None`` any request is served (public data); otherwise a request without
    ``Authorization: Bearer <token>`` gets GitHub's 401.
    """

    def __init__(
        self,
        *,
        org: str = "acme",
        org_id: int = 9919001,
        token: str | None = "test-token",
        pages: list[list[dict[str, Any]]] | None = None,
        link_base: str | None = None,
    ) -> None:
        self.org = org
        self.org_id = org_id
        self.token = token
        self.pages = pages if pages is not None else load_org_pages(org)
        self._link_base = link_base
        self.requests: list[RecordedRequest] = []
        self._faults: deque[_Fault] = deque()
        self._lock = threading.Lock()
        self.checks = ChecksApi()
        super().__init__()

    # -- lifecycle ---------------------------------------------------------------------------

    thread_name = "github-api"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    # -- test controls -----------------------------------------------------------------------

    def fail(
        self,
        status: int,
        *,
        headers: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        times: int = 1,
        method: str | None = None,
    ) -> None:
        """Answer the next ``times`` requests (of ``method`` only, when given) with ``status``
        (GitHub's body shape unless given)."""
        default = {"message": f"status {status}", "documentation_url": _DOCS, "status": str(status)}
        with self._lock:
            self._faults.append(_Fault(status, headers or {}, body or default, times, method))

    def fail_rate_limited(self) -> None:
        """GitHub's primary rate limit: 403, ``X-RateLimit-Remaining: 0`` and the reset time."""
        self.fail(
            403,
            headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1893456000"},
            body={
                "message": "API rate limit exceeded for user ID 9919001. If you reach out to GitHub Support for "
                "help, please include the request ID 0F4C:2D7A:3B1C2E:3C0F4A:6650A1B2.",
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
                "status": "403",
            },
        )

    def _take_fault(self, method: str) -> _Fault | None:
        with self._lock:
            if not self._faults or self._faults[0].method not in (None, method):
                return None
            fault = self._faults[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.popleft()
            return fault

    def link_base(self) -> str:
        return self._link_base or self.url


def _handler_for(server: GitHubApiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
            pass

        def do_POST(self) -> None:
            self._checks("POST")

        def do_PATCH(self) -> None:
            self._checks("PATCH")

        def _checks(self, method: str) -> None:
            parts = urlsplit(self.path)
            headers = {key.lower(): value for key, value in self.headers.items()}
            raw = self.rfile.read(int(headers.get("content-length") or 0))
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                return self._json(400, {"message": "Problems parsing JSON", "documentation_url": _DOCS})
            with server._lock:
                server.requests.append(RecordedRequest(method, parts.path, {}, headers, body))
            if fault := server._take_fault(method):
                return self._json(fault.status, fault.body, fault.headers)
            status, answer = server.checks.answer(method, parts.path, headers.get("authorization", ""), body)
            return self._json(status, answer)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
            headers = {key.lower(): value for key, value in self.headers.items()}
            with server._lock:
                server.requests.append(RecordedRequest("GET", parts.path, query, headers))

            if fault := server._take_fault("GET"):
                return self._json(fault.status, fault.body, fault.headers)
            if parts.path.startswith("/repos/") and parts.path.endswith("/installation"):
                status, answer = server.checks.answer("GET", parts.path, headers.get("authorization", ""), None)
                return self._json(status, answer)
            if server.token is not None and headers.get("authorization") != f"Bearer {server.token}":
                return self._json(401, {"message": "Bad credentials", "documentation_url": _DOCS, "status": "401"})
            page = self._page_number(parts.path, query)
            if page is None or not 1 <= page <= len(server.pages):
                return self._json(
                    404,
                    {
                        "message": "Not Found",
                        "documentation_url": "https://docs.github.com/rest/repos/repos#list-organization-repositories",
                        "status": "404",
                    },
                )
            return self._json(200, server.pages[page - 1], {"Link": self._links(page, query)})

        def _page_number(self, path: str, query: dict[str, str]) -> int | None:
            if path.lower() not in (f"/orgs/{server.org}/repos", f"/organizations/{server.org_id}/repos"):
                return None
            try:
                return int(query.get("page", "1"))
            except ValueError:
                return None

        def _links(self, page: int, query: dict[str, str]) -> str:
            last = len(server.pages)
            keep = "&".join(f"{k}={v}" for k, v in query.items() if k != "page")
            base = f"{server.link_base()}/organizations/{server.org_id}/repos?{keep}{'&' if keep else ''}page="
            links = []
            if page > 1:
                links.append(f'<{base}{page - 1}>; rel="prev"')
            if page < last:
                links += [f'<{base}{page + 1}>; rel="next"', f'<{base}{last}>; rel="last"']
            if page > 1:
                links.append(f'<{base}1>; rel="first"')
            return ", ".join(links)

        def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            payload = json.dumps(body, indent=2).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("X-GitHub-Api-Version-Selected", "2022-11-28")
            self.send_header("X-GitHub-Media-Type", "github.v3; format=json")
            extra = {k.lower(): v for k, v in (headers or {}).items()}
            rate = {
                "x-ratelimit-limit": "5000",
                "x-ratelimit-remaining": "4987",
                "x-ratelimit-reset": str(int(time.time()) + 3600),
                "x-ratelimit-used": "13",
                "x-ratelimit-resource": "core",
            }
            for name, value in {**rate, **extra}.items():
                if value:
                    self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

    return Handler


class ChecksApi:
    """The Checks API and GitHub App authentication, as GitHub documents them.

    * ``POST /app/installations/{id}/access_tokens`` with ``Authorization: Bearer <app JWT>``
      (RS256, checked against ``public_key`` and ``app_id``; ``iat``/``exp`` at most ten minutes
      apart) → ``201 {"token", "expires_at", "permissions"}``;
    * ``GET /repos/{owner}/{repo}/installation`` with the JWT → ``200 {"id": …}``;
    * ``POST /repos/{owner}/{repo}/check-runs`` with an installation token (or ``token``) →
      ``201`` the check run with its ``id``; ``PATCH …/check-runs/{id}`` → ``200``, its
      ``output.annotations`` appended to the run's (at most 50 per request, else 422).

    ``check_runs`` holds every run by id, as GitHub would show them on the commit.
    """

    def __init__(self) -> None:
        self.app_id: str | None = None
        self.public_key: Any = None
        self.installation_id = 4242
        self.token: str | None = None  # a plain token also accepted for check runs
        self.token_seconds = 3600  # how long an installation token lasts (GitHub: an hour)
        self.issued: list[str] = []
        self.check_runs: dict[int, dict[str, Any]] = {}
        self._next_id = 9_000_001
        self._lock = threading.Lock()

    def answer(self, method: str, path: str, authorization: str, body: Any) -> tuple[int, Any]:
        bearer = authorization.removeprefix("Bearer ").strip() if authorization.startswith("Bearer ") else ""
        parts = path.strip("/").split("/")
        if parts[:2] == ["app", "installations"] and len(parts) == 4 and method == "POST":
            if problem := self._jwt_problem(bearer):
                return 401, {"message": problem, "documentation_url": _DOCS, "status": "401"}
            if parts[2] != str(self.installation_id):
                return 404, {"message": "Not Found", "documentation_url": _DOCS, "status": "404"}
            with self._lock:
                token = f"ghs_installation{len(self.issued) + 1:04d}"
                self.issued.append(token)
            expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + self.token_seconds))
            return 201, {"token": token, "expires_at": expires, "permissions": {"checks": "write"}}
        if parts[0] == "repos" and len(parts) == 4 and parts[3] == "installation" and method == "GET":
            if problem := self._jwt_problem(bearer):
                return 401, {"message": problem, "documentation_url": _DOCS, "status": "401"}
            return 200, {"id": self.installation_id, "app_id": int(self.app_id or 0), "target_type": "Organization"}
        if parts[0] == "repos" and len(parts) >= 4 and parts[3] == "check-runs":
            if bearer not in self.issued and (self.token is None or bearer != self.token):
                return 401, {"message": "Bad credentials", "documentation_url": _DOCS, "status": "401"}
            return self._check_run(method, f"{parts[1]}/{parts[2]}", parts[4:], body)
        return 404, {"message": "Not Found", "documentation_url": _DOCS, "status": "404"}

    def _check_run(self, method: str, full_name: str, rest: list[str], body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("output", {}), dict):
            return 422, {"message": "Invalid request.", "documentation_url": _DOCS, "status": "422"}
        annotations = body.get("output", {}).get("annotations") or []
        if len(annotations) > 50:
            return 422, {"message": "Only 50 annotations allowed per request", "status": "422"}
        with self._lock:
            if method == "POST" and not rest:
                if not body.get("name") or not body.get("head_sha"):
                    return 422, {"message": "Invalid request. name and head_sha are required", "status": "422"}
                run = {"id": self._next_id, "repository": full_name, **body}
                self._next_id += 1
                self.check_runs[run["id"]] = run
                return 201, run
            if method == "PATCH" and len(rest) == 1 and rest[0].isdigit() and int(rest[0]) in self.check_runs:
                run = self.check_runs[int(rest[0])]
                # GitHub appends an update's annotations to those the run has (its documented way past 50).
                posted = (run.get("output") or {}).get("annotations") or []
                run.update(body)
                if "output" in body:
                    run["output"] = {**body["output"], "annotations": posted + annotations}
                return 200, run
        return 404, {"message": "Not Found", "documentation_url": _DOCS, "status": "404"}

    def _jwt_problem(self, token: str) -> str | None:
        import jwt  # the test side checks the App's token as GitHub does

        if self.public_key is None:
            return "A JSON web token could not be decoded"
        try:
            claims = jwt.decode(
                token, self.public_key, algorithms=["RS256"], options={"require": ["iat", "exp", "iss"]}, leeway=60
            )
        except jwt.PyJWTError as exc:
            return f"A JSON web token could not be decoded ({exc})"
        if str(claims["iss"]) != str(self.app_id):
            return "Integration not found"
        if claims["exp"] - claims["iat"] > 600:
            return "'Expiration time' claim ('exp') is too far in the future"
        return None
