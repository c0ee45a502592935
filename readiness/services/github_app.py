"""Talking to GitHub as the product: a GitHub App's installation tokens, or a plain token, and
the Checks API calls a pull-request check makes.

A GitHub App proves itself with a JSON Web Token signed (RS256) with its private key, valid for
at most ten minutes, and trades it for an installation token (an hour) per installation.
Tokens are kept in this process until a minute before they expire, so a burst of pull requests
costs one token request. Signing is PyJWT's over cryptography's RSA (requirements.txt says why).
Without an App, ``GITHUB_TOKEN`` is used as it is. No token ever appears in a message.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

from readiness.services.github import GITHUB_HEADERS, github_message
from scanners.http import SERVER_ERRORS, HttpError, RetryPolicy, one_line, request

__all__ = ["GitHubAuth", "GitHubChecks", "GitHubChecksError", "app_jwt", "forget_tokens"]

_POLICY = RetryPolicy(retries=2, backoff=1.0, jitter=0.0, statuses=SERVER_ERRORS)
_EARLY = 60  # seconds: a token this close to expiry is renewed first


class GitHubChecksError(Exception):
    """GitHub refused or failed; one line a person can act on (never a token)."""


def app_jwt(app_id: str, private_key: str, *, now: float | None = None) -> str:
    """The App's JWT: issued a minute in the past (clock drift, as GitHub advises), valid nine minutes."""
    issued = int(now if now is not None else time.time()) - 60
    try:
        return jwt.encode({"iat": issued, "exp": issued + 600, "iss": str(app_id)}, private_key, algorithm="RS256")
    except (ValueError, TypeError, jwt.PyJWTError) as exc:
        raise GitHubChecksError(f"GITHUB_APP_PRIVATE_KEY cannot sign: {one_line(exc)}") from None


@dataclass(frozen=True, slots=True)
class GitHubAuth:
    """How to authenticate: an App (``app_id`` + ``private_key``) or a ``token``."""

    app_id: str = ""
    private_key: str = ""
    token: str = ""

    @property
    def configured(self) -> bool:
        return bool(self.app_id and self.private_key) or bool(self.token)


_tokens: dict[tuple[str, str, int], tuple[str, float]] = {}  # (api, app id, installation) -> (token, expiry)
_tokens_lock = threading.Lock()


class GitHubChecks:
    """The few API calls of a pull-request check, over a shared ``httpx.Client``."""

    def __init__(
        self,
        *,
        base_url: str,
        auth: GitHubAuth,
        http: httpx.Client,
        deadline: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self._http = http
        self._deadline = deadline
        self._clock = clock

    def __repr__(self) -> str:  # never show a token
        return f"<GitHubChecks {self.base_url}>"

    def token_for(self, full_name: str, installation_id: int | None) -> str:
        """A token that may write checks on ``full_name``: the App's installation token, else GITHUB_TOKEN."""
        if not (self.auth.app_id and self.auth.private_key):
            if not self.auth.token:
                raise GitHubChecksError(
                    "no GitHub credentials: set GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY, or GITHUB_TOKEN"
                )
            return self.auth.token
        if installation_id is None:
            installation_id = self._installation_of(full_name)
        key = (self.base_url, self.auth.app_id, installation_id)
        with _tokens_lock:
            held = _tokens.get(key)
            if held is not None and held[1] - _EARLY > self._clock():
                return held[0]
        answer = self._call(
            "POST", f"/app/installations/{installation_id}/access_tokens", bearer=self._jwt(), body={}, expect=201
        )
        token, expires = answer.get("token"), answer.get("expires_at")
        if not isinstance(token, str) or not isinstance(expires, str):
            raise GitHubChecksError("GitHub's installation token answer has no token or expires_at")
        try:
            expiry = dt.datetime.fromisoformat(expires.replace("Z", "+00:00")).timestamp()
        except ValueError:
            expiry = self._clock() + 3000
        with _tokens_lock:
            _tokens[key] = (token, expiry)
        return token

    def create_check_run(self, full_name: str, token: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._call("POST", f"/repos/{full_name}/check-runs", bearer=token, body=body, expect=201)

    def update_check_run(
        self, full_name: str, token: str, check_run_id: int, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        return self._call("PATCH", f"/repos/{full_name}/check-runs/{check_run_id}", bearer=token, body=body, expect=200)

    def _installation_of(self, full_name: str) -> int:
        answer = self._call("GET", f"/repos/{full_name}/installation", bearer=self._jwt(), body=None, expect=200)
        installation = answer.get("id")
        if not isinstance(installation, int):
            raise GitHubChecksError(f"GitHub names no App installation for {full_name}")
        return installation

    def _jwt(self) -> str:
        return app_jwt(self.auth.app_id, self.auth.private_key, now=self._clock())

    def _call(
        self, method: str, path: str, *, bearer: str, body: Mapping[str, Any] | None, expect: int
    ) -> dict[str, Any]:
        headers = {**GITHUB_HEADERS, "Authorization": f"Bearer {bearer}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            response = request(
                self._http,
                method,
                f"{self.base_url}{path}",
                headers=headers,
                content=json.dumps(body).encode() if body is not None else None,
                timeout=10.0,
                deadline=self._deadline,
                policy=_POLICY,
                follow_redirects=False,  # a redirect would carry the token elsewhere
            )
        except HttpError as exc:
            raise GitHubChecksError(f"{method} {path}: GitHub API unreachable: {exc.detail}") from None
        if response.status_code != expect:
            raise GitHubChecksError(
                f"{method} {path}: GitHub answered {response.status_code} {github_message(response)}"
            )
        try:
            answer = response.json()
        except ValueError:
            raise GitHubChecksError(f"{method} {path}: GitHub's answer is not JSON") from None
        if not isinstance(answer, dict):
            raise GitHubChecksError(f"{method} {path}: GitHub's answer is not an object")
        return answer


def forget_tokens() -> None:
    """Drop every cached installation token (tests; a rotated key)."""
    with _tokens_lock:
        _tokens.clear()
