"""Import an organisation's repositories from the GitHub REST API.

Fetching (:func:`github_org_repos`) is kept apart from deciding which repos to keep
(:func:`github_repo_entries`, pure) and from writing (:func:`github_org_import`, which hands
the entries to :func:`readiness.services.repos.repos_import`). The client is passed in, so
tests point it at a local server and the command builds it from settings.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.db import transaction

from readiness.models import Repo
from readiness.services.repos import ImportResult, repos_import
from scanners.http import (
    DEFAULT_DEADLINE,
    SERVER_ERRORS,
    HttpError,
    OwnsOrSharesHttp,
    RetryPolicy,
    new_client,
    one_line,
    request,
)

__all__ = [
    "GITHUB_API_VERSION",
    "GITHUB_HEADERS",
    "github_message",
    "GitHubClient",
    "GitHubError",
    "GitHubImport",
    "GitHubRepo",
    "github_client",
    "github_org_import",
    "github_org_repos",
    "github_repo_entries",
    "github_source",
    "org_name_problem",
]

GITHUB_API_VERSION = "2022-11-28"
# The headers GitHub asks every REST request to send (its JSON media type and the API version).
GITHUB_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": GITHUB_API_VERSION}
PER_PAGE = 100  # GitHub's maximum: 2,000 repos cost 20 requests
# Transient failures (connection, timeout, 5xx) are retried this often, waiting 1 s, 2 s, …
ATTEMPTS = 3
# Not 429: GitHub's 429 and 403 are rate limits whose reset can be an hour away, so the person
# running the import is told when to come back rather than kept waiting.
_POLICY = RetryPolicy(retries=ATTEMPTS - 1, backoff=1.0, jitter=0.0, statuses=SERVER_ERRORS)
# An organisation login: letters, digits and single hyphens, at most 39 characters.
_ORG_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\Z")


class GitHubError(Exception):
    """The API refused or failed; the message is one line a person can act on (never the token)."""


@dataclass(frozen=True, slots=True)
class GitHubRepo:
    """The fields of one ``/orgs/{org}/repos`` item that the import uses."""

    id: int
    name: str
    full_name: str
    clone_url: str
    default_branch: str
    private: bool
    fork: bool
    archived: bool
    disabled: bool

    @classmethod
    def from_api(cls, item: Any, *, where: str) -> GitHubRepo:
        if not isinstance(item, Mapping):
            raise GitHubError(f"{where}: expected a repository object, got {type(item).__name__}")
        try:
            repo = cls(
                id=_typed(item, "id", int),
                name=_typed(item, "name", str),
                full_name=_typed(item, "full_name", str),
                clone_url=_typed(item, "clone_url", str),
                # An empty repository has no default branch yet; "" means "the remote's HEAD".
                default_branch=item.get("default_branch") or "",
                private=bool(item.get("private", False)),
                fork=bool(item.get("fork", False)),
                archived=bool(item.get("archived", False)),
                disabled=bool(item.get("disabled", False)),
            )
        except (KeyError, TypeError) as exc:
            raise GitHubError(f"{where}.{exc.args[0]}: missing or of the wrong type") from None
        return repo


@dataclass(frozen=True, slots=True)
class GitHubImport:
    """An import's result, plus the GitHub repos left out and why (archived, disabled, fork)."""

    result: ImportResult
    listed: int
    skipped: tuple[tuple[str, str], ...]


def org_name_problem(org: str) -> str | None:
    """Why ``org`` cannot be an organisation login (it becomes part of the URL path), or ``None``."""
    return None if _ORG_NAME.match(org) else f"{org!r} is not a GitHub organisation name"


def github_source(org: str) -> str:
    """The ``managed_by`` value of an organisation import; case-folded as GitHub logins are."""
    return f"github:{org.lower()}"


class GitHubClient(OwnsOrSharesHttp):
    """The API's base URL and headers over an ``httpx.Client`` that may be shared with other clients.

    The token travels in each request's headers, never in the shared client's, so no other
    client can send it anywhere. Redirects are not followed (they would carry the token).
    """

    def __init__(
        self,
        *,
        base_url: str,
        headers: Mapping[str, str],
        http: httpx.Client,
        owns_http: bool,
        timeout: float = 10.0,
        deadline: float = DEFAULT_DEADLINE,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = dict(headers)
        self._http = http
        self._owns_http = owns_http
        self.timeout = timeout
        self.deadline = deadline

    def __repr__(self) -> str:  # never show the token
        return f"<GitHubClient {self.base_url}>"

    def get(self, url: str, *, params: Mapping[str, Any] | None, sleep: Callable[[float], None]) -> httpx.Response:
        """GET under :data:`_POLICY`; a 5xx still answered after the last attempt raises :class:`HttpError`."""
        return request(
            self._http,
            "GET",
            url,
            headers=self._headers,
            params=params,
            timeout=self.timeout,
            connect_timeout=5.0,
            deadline=self.deadline,
            policy=_POLICY,
            follow_redirects=False,
            sleep=sleep,
        )


def github_client(
    *,
    base_url: str,
    token: str,
    timeout: float = 10.0,
    deadline: float = DEFAULT_DEADLINE,
    http: httpx.Client | None = None,
    transport: httpx.BaseTransport | None = None,
) -> GitHubClient:
    """One client for all pages of an import, with the headers GitHub asks for.

    ``http`` is a shared ``httpx.Client`` (``readiness.clients`` passes the process's); without
    one the client makes and owns one (over ``transport`` when given). Without a token the
    client still works for public repos (60 requests an hour).
    """
    headers = dict(GITHUB_HEADERS)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    owns = http is None
    if http is None:
        http = new_client() if transport is None else httpx.Client(transport=transport)
    return GitHubClient(
        base_url=base_url, headers=headers, http=http, owns_http=owns, timeout=timeout, deadline=deadline
    )


def github_org_repos(
    *, client: GitHubClient, org: str, sleep: Callable[[float], None] = time.sleep
) -> list[GitHubRepo]:
    """Every repository of ``org``, following the ``Link: rel="next"`` pages.

    A ``next`` link to another host is refused rather than followed, because the client would
    send the token there. Raises :class:`GitHubError`, or ``ValueError`` for a malformed ``org``
    (which would otherwise become part of the URL path).
    """
    if problem := org_name_problem(org):
        raise ValueError(problem)
    origin = _origin(str(client.base_url))
    url: str = f"{str(client.base_url).rstrip('/')}/orgs/{org}/repos"
    params: dict[str, Any] | None = {"per_page": PER_PAGE, "type": "all"}
    repos: list[GitHubRepo] = []
    page = 1
    while True:
        response = _get(client, url, params=params, org=org, sleep=sleep)
        try:
            items = response.json()
        except ValueError:
            raise GitHubError(f"page {page} of {org}'s repositories is not JSON") from None
        if not isinstance(items, list):
            raise GitHubError(f"page {page} of {org}'s repositories is not a list")
        repos.extend(GitHubRepo.from_api(item, where=f"page {page} item [{i}]") for i, item in enumerate(items))
        next_url = response.links.get("next", {}).get("url")
        if not next_url:
            return repos
        if _origin(next_url) != origin:
            raise GitHubError(f"the next page link points to {_origin(next_url)}, not {origin}: refused")
        url, params, page = next_url, None, page + 1  # the link carries the query already


def github_repo_entries(
    repos: Iterable[GitHubRepo], *, include_forks: bool, credentials_ref: str
) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """Entries for ``repos_import`` and the ``(full_name, reason)`` of each repo left out.

    Archived and disabled repos are left out: nobody will port them, and leaving them out makes
    the import disable them if they were imported before. Private repos get ``credentials_ref``
    so the scan clones them with the token; ``team`` is not set, so a team chosen in the admin
    survives re-imports.
    """
    entries: list[dict[str, Any]] = []
    skipped: list[tuple[str, str]] = []
    for repo in repos:
        reason = "archived" if repo.archived else "disabled" if repo.disabled else ""
        if not reason and repo.fork and not include_forks:
            reason = "fork"
        if reason:
            skipped.append((repo.full_name, reason))
            continue
        entries.append(
            {
                "name": repo.name,
                "url": repo.clone_url,
                "branch": repo.default_branch,
                "github_id": repo.id,
                "github_full_name": repo.full_name,
                "archived": False,
                "enabled": True,
                "credentials_ref": credentials_ref if repo.private else "",
            }
        )
    return entries, skipped


def github_org_import(
    *,
    client: GitHubClient,
    org: str,
    include_forks: bool = False,
    credentials_ref: str = "GITHUB_TOKEN",
    dry_run: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> GitHubImport:
    """List ``org`` on GitHub and make its imported repos match, in one transaction.

    The listing happens before the transaction opens, so no database lock is held while
    waiting on the network. Repos that became archived on GitHub are also marked ``archived``.
    """
    repos = github_org_repos(client=client, org=org, sleep=sleep)
    entries, skipped = github_repo_entries(repos, include_forks=include_forks, credentials_ref=credentials_ref)
    source = github_source(org)
    with transaction.atomic():
        result = repos_import(entries=entries, source=source, disable_missing=True, dry_run=dry_run)
        if not dry_run:
            archived_ids = [repo.id for repo in repos if repo.archived]
            Repo.objects.filter(managed_by=source, github_id__in=archived_ids, archived=False).update(archived=True)
    return GitHubImport(result=result, listed=len(repos), skipped=tuple(skipped))


def _get(
    client: GitHubClient, url: str, *, params: dict[str, Any] | None, org: str, sleep: Callable[[float], None]
) -> httpx.Response:
    try:
        response = client.get(url, params=params, sleep=sleep)
    except HttpError as exc:
        if exc.kind == "status" and exc.response is not None:
            raise GitHubError(
                f"GitHub API answered {exc.response.status_code} {github_message(exc.response)} after {exc.attempts} attempts"
            ) from None
        after = f" after {exc.attempts} attempts" if exc.attempts > 1 else ""
        raise GitHubError(f"GitHub API unreachable{after}: {exc.detail}") from None
    return _checked(response, org=org)


def _checked(response: httpx.Response, *, org: str) -> httpx.Response:
    status = response.status_code
    if status == 200:
        return response
    if status == 401:
        raise GitHubError(f"GitHub rejected the token (401 {github_message(response)}): check GITHUB_TOKEN")
    if status in (403, 429):
        if response.headers.get("x-ratelimit-remaining") == "0":
            raise GitHubError(f"GitHub API rate limit exhausted ({status}); it resets at {_reset_time(response)}")
        if retry_after := response.headers.get("retry-after"):
            raise GitHubError(f"GitHub secondary rate limit ({status}): retry after {retry_after} seconds")
        if status == 429:
            raise GitHubError(f"GitHub API rate limit (429): {github_message(response)}")
        raise GitHubError(f"GitHub refused access to {org}'s repositories (403 {github_message(response)})")
    if status == 404:
        raise GitHubError(f"organisation {org!r} not found on GitHub, or the token cannot see it (404)")
    raise GitHubError(f"GitHub API answered {status} {github_message(response)}")


def github_message(response: httpx.Response) -> str:
    """GitHub's own explanation (``{"message": …}``), one line, or the reason phrase."""
    try:
        message = response.json().get("message")
    except (ValueError, AttributeError):
        message = None
    return one_line(str(message))[:200] if message else response.reason_phrase


def _reset_time(response: httpx.Response) -> str:
    try:
        reset = dt.datetime.fromtimestamp(int(response.headers["x-ratelimit-reset"]), tz=dt.UTC)
    except (KeyError, ValueError, OverflowError):
        return "an unknown time (no X-RateLimit-Reset header)"
    return reset.strftime("%Y-%m-%d %H:%M:%S UTC")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _typed(item: Mapping[str, Any], key: str, kind: type) -> Any:
    value = item[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise TypeError(key)
    return value
