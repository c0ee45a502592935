"""A real container registry on 127.0.0.1 serving recorded manifests (OCI distribution API).

``FixtureRegistryServer`` answers the requests a registry client makes, shaped like real
registries' answers (Docker Hub's registry + token service, ``distribution``'s error bodies):

* ``GET``/``HEAD /v2/<name>/manifests/<tag-or-digest>`` with ``Content-Type`` from the
  manifest's ``mediaType``, ``Docker-Content-Digest`` (sha256 of the exact bytes served) and
  ``Docker-Distribution-Api-Version``; an image index is refused (``MANIFEST_UNKNOWN``) when
  ``Accept`` does not list its media type, as ``distribution`` does.
* ``GET /v2/<name>/blobs/<digest>``: a 307 redirect to ``/cdn/…`` (Docker Hub sends blobs to
  a CDN), which serves the bytes without auth.
* auth modes: ``"token"`` (Docker Hub's flow: 401 with ``Bearer realm=…,service=…,scope=…``,
  anonymous tokens from ``/token`` for public repositories, Basic credentials needed for
  repositories marked ``private``, 401 ``incorrect username or password`` for bad ones,
  ``insufficient_scope`` for a token without access), ``"basic"`` (a Basic challenge) and
  ``"none"``.

The recorded documents live in ``tests/fixtures/registry`` (``catalogue.json`` lists each
repository's tags, extra manifests reachable by digest, and blobs). Tests count requests
through :attr:`FixtureRegistryServer.requests` and inject faults with :meth:`fail`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from tests.support.loopback import LoopbackHTTPServer, RecordedRequest

__all__ = [
    "FIXTURE_REGISTRY_DIR",
    "AuthMode",
    "FixtureRegistryServer",
    "RecordedRequest",
    "fixture_digest",
]

FIXTURE_REGISTRY_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "registry"
SERVICE = "registry.test"

AuthMode = Literal["token", "basic", "none"]

_INDEX_TYPES = ("application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json")


def fixture_digest(relative: str, directory: Path = FIXTURE_REGISTRY_DIR) -> str:
    """The digest a fixture document is served under (sha256 of its exact bytes)."""
    return "sha256:" + hashlib.sha256((directory / relative).read_bytes()).hexdigest()


@dataclass(slots=True)
class _Fault:
    path_contains: str
    status: int
    remaining: int
    retry_after: str | None


@dataclass(frozen=True, slots=True)
class _Document:
    body: bytes
    media_type: str
    digest: str


class FixtureRegistryServer(LoopbackHTTPServer):
    """A distribution-API registry on an ephemeral loopback port.

    :param auth: see the module docstring.
    :param username/password: the one account the token service and Basic auth accept.
    """

    def __init__(
        self,
        *,
        auth: AuthMode = "token",
        username: str = "ci-bot",
        password: str = "s3cret-pa55word",
        directory: Path = FIXTURE_REGISTRY_DIR,
        token_lifetime: int = 300,
    ) -> None:
        self.auth = auth
        self.username = username
        self.password = password
        self.token_lifetime = token_lifetime
        self.requests: list[RecordedRequest] = []
        self._faults: list[_Fault] = []
        self._delay = 0.0
        self._lock = threading.Lock()
        self._tokens: dict[str, frozenset[str]] = {}  # token -> repositories it may pull
        self._repos: dict[str, dict[str, object]] = {}
        self._load(directory)
        super().__init__()

    # -- set-up --------------------------------------------------------------------------------

    def _load(self, directory: Path) -> None:
        catalogue = json.loads((directory / "catalogue.json").read_text())
        for name, entry in catalogue["repositories"].items():
            tags = {tag: self._document(directory / rel) for tag, rel in entry["tags"].items()}
            manifests = {doc.digest: doc for doc in tags.values()}
            for rel in entry.get("manifests", []):
                doc = self._document(directory / rel)
                manifests[doc.digest] = doc
            blobs = {}
            for rel in entry.get("blobs", []):
                data = (directory / rel).read_bytes()
                blobs["sha256:" + hashlib.sha256(data).hexdigest()] = data
            self._repos[name] = {
                "tags": tags,
                "manifests": manifests,
                "blobs": blobs,
                "private": bool(entry.get("private")),
            }

    @staticmethod
    def _document(path: Path) -> _Document:
        body = path.read_bytes()
        media_type = json.loads(body).get("mediaType", "application/vnd.oci.image.index.v1+json")
        return _Document(body, media_type, "sha256:" + hashlib.sha256(body).hexdigest())

    thread_name = "fixture-registry"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(_Handler):
            registry = server

        return Handler

    @property
    def host(self) -> str:
        """``127.0.0.1:<port>``: the registry name to write in references."""
        return self.address

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    # -- test controls -------------------------------------------------------------------------

    def fail(self, status: int, *, times: int = 1, retry_after: str | None = None, path_contains: str = "/v2/") -> None:
        """Answer the next ``times`` requests whose path contains ``path_contains`` with ``status``."""
        with self._lock:
            self._faults.append(_Fault(path_contains, status, times, retry_after))

    def delay(self, seconds: float) -> None:
        """Hold every answer ``seconds``: lets two clients be in flight at once."""
        with self._lock:
            self._delay = seconds

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def paths(self, method: str | None = None) -> list[str]:
        with self._lock:
            return [r.path for r in self.requests if method is None or r.method == method]

    # -- internals used by the handler ---------------------------------------------------------

    def _take_fault(self, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and fault.path_contains in path:
                    fault.remaining -= 1
                    return fault
        return None

    def _credentials_ok(self, header: str | None) -> bool | None:
        """``None`` when no Basic credentials were sent, else whether they are right."""
        if not header or not header.lower().startswith("basic "):
            return None
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return secrets.compare_digest(user, self.username) and secrets.compare_digest(password, self.password)

    def _issue_token(self, repositories: frozenset[str]) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = repositories
        return token

    def _token_access(self, header: str | None) -> frozenset[str] | None:
        if not header or not header.lower().startswith("bearer "):
            return None
        with self._lock:
            return self._tokens.get(header[7:].strip())


class _Handler(BaseHTTPRequestHandler):
    registry: FixtureRegistryServer
    protocol_version = "HTTP/1.1"
    server_version = "fixture-registry/1.0"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - keep test output quiet
        pass

    def do_GET(self) -> None:  # noqa: N802
        self._dispatch("GET")

    def do_HEAD(self) -> None:  # noqa: N802
        self._dispatch("HEAD")

    # -- plumbing ------------------------------------------------------------------------------

    def _dispatch(self, method: str) -> None:
        reg = self.registry
        with reg._lock:
            reg.requests.append(RecordedRequest(method, self.path, {k.lower(): v for k, v in self.headers.items()}))
            delay = reg._delay
        if delay:
            time.sleep(delay)
        fault = reg._take_fault(self.path)
        if fault is not None:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            code = {429: "TOOMANYREQUESTS", 503: "UNAVAILABLE"}.get(fault.status, "UNKNOWN")
            message = (
                "You have reached your pull rate limit. You may increase the limit by authenticating and upgrading"
                if fault.status == 429
                else "service unavailable"
            )
            self._errors(method, fault.status, code, message, headers)
            return
        parts = urlsplit(self.path)
        if parts.path == "/token":
            self._token(method, parse_qs(parts.query))
        elif parts.path.startswith("/cdn/"):
            self._cdn(method, parts.path[len("/cdn/") :])
        elif parts.path == "/v2/":
            self._send(method, 200, b"{}", "application/json")
        elif parts.path.startswith("/v2/"):
            self._v2(method, parts.path[len("/v2/") :])
        else:
            self._send(method, 404, b"404 page not found\n", "text/plain; charset=utf-8")

    def _send(
        self, method: str, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Docker-Distribution-Api-Version", "registry/2.0")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(body)

    def _errors(
        self,
        method: str,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        detail: object = None,
    ) -> None:
        body = json.dumps({"errors": [{"code": code, "message": message, "detail": detail}]}).encode() + b"\n"
        self._send(method, status, body, "application/json; charset=utf-8", headers)

    # -- token service -------------------------------------------------------------------------

    def _token(self, method: str, query: dict[str, list[str]]) -> None:
        reg = self.registry
        credentials = reg._credentials_ok(self.headers.get("Authorization"))
        if credentials is False:
            body = json.dumps({"details": "incorrect username or password"}).encode() + b"\n"
            self._send(method, 401, body, "application/json", {"Www-Authenticate": 'Basic realm="registry.test"'})
            return
        granted = set()
        for scope in query.get("scope", []):
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            repo = reg._repos.get(name)
            if kind == "repository" and "pull" in actions.split(",") and repo is not None:
                if not repo["private"] or credentials:
                    granted.add(name)
        token = reg._issue_token(frozenset(granted))
        body = json.dumps(
            {
                "token": token,
                "access_token": token,
                "expires_in": reg.token_lifetime,
                "issued_at": "2024-10-08T09:12:45.372926131Z",
            }
        ).encode()
        self._send(method, 200, body, "application/json")

    # -- registry ------------------------------------------------------------------------------

    def _authorised(self, method: str, name: str) -> bool:
        reg = self.registry
        header = self.headers.get("Authorization")
        if reg.auth == "none":
            return True
        detail = [{"Type": "repository", "Class": "", "Name": name, "Action": "pull"}]
        if reg.auth == "basic":
            if reg._credentials_ok(header):
                return True
            self._errors(
                method,
                401,
                "UNAUTHORIZED",
                "authentication required",
                {"Www-Authenticate": 'Basic realm="Registry Realm"'},
                detail,
            )
            return False
        access = reg._token_access(header)
        challenge = f'Bearer realm="{reg.url}/token",service="{SERVICE}",scope="repository:{name}:pull"'
        if access is None:
            self._errors(
                method, 401, "UNAUTHORIZED", "authentication required", {"Www-Authenticate": challenge}, detail
            )
            return False
        if name not in access:
            self._errors(
                method,
                401,
                "UNAUTHORIZED",
                "authentication required",
                {"Www-Authenticate": challenge + ',error="insufficient_scope"'},
                detail,
            )
            return False
        return True

    def _v2(self, method: str, rest: str) -> None:
        for kind in ("/manifests/", "/blobs/"):
            if kind in rest:
                name, _, ref = rest.rpartition(kind)
                break
        else:
            self._send(method, 404, b"404 page not found\n", "text/plain; charset=utf-8")
            return
        if not self._authorised(method, name):
            return
        repo = self.registry._repos.get(name)
        if repo is None:
            self._errors(method, 404, "NAME_UNKNOWN", "repository name not known to registry", detail={"name": name})
            return
        if kind == "/blobs/":
            if ref not in repo["blobs"]:  # type: ignore[operator]
                self._errors(method, 404, "BLOB_UNKNOWN", "blob unknown to registry", detail=ref)
                return
            self._send(
                method,
                307,
                b"",
                "text/html; charset=utf-8",
                {"Location": f"/cdn/{name}/{ref}?expires=1728381165&signature=fixture"},
            )
            return
        doc = repo["manifests"].get(ref) if ref.startswith("sha256:") else repo["tags"].get(ref)  # type: ignore[attr-defined]
        if doc is None:
            self._errors(
                method,
                404,
                "MANIFEST_UNKNOWN",
                "manifest unknown",
                detail={"Tag": ref} if not ref.startswith("sha256:") else {"Digest": ref},
            )
            return
        accept = self.headers.get("Accept", "")
        if doc.media_type in _INDEX_TYPES and doc.media_type not in accept:
            self._errors(
                method, 404, "MANIFEST_UNKNOWN", "OCI index found, but accept header does not support OCI indexes"
            )
            return
        self._send(
            method, 200, doc.body, doc.media_type, {"Docker-Content-Digest": doc.digest, "Etag": f'"{doc.digest}"'}
        )

    def _cdn(self, method: str, rest: str) -> None:
        name, _, digest = rest.rpartition("/")
        blob = self.registry._repos.get(name, {}).get("blobs", {}).get(digest)  # type: ignore[union-attr]
        if blob is None:
            self._send(method, 404, b"<Error><Code>NoSuchKey</Code></Error>", "application/xml")
            return
        self._send(method, 200, blob, "application/octet-stream")
