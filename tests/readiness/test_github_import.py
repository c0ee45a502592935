"""Importing a GitHub organisation against a local API server serving the recorded pages."""

from __future__ import annotations

import copy
import io
from collections.abc import Iterator

import httpx
import pytest
from django.core.management import ManagementUtility, call_command
from django.db import connections

from readiness.models import Repo, Team
from readiness.services.github import (
    GitHubError,
    GitHubRepo,
    github_client,
    github_org_import,
    github_org_repos,
    github_repo_entries,
)
from tests.support.github_api_server import GitHubApiServer, load_org_pages

TOKEN = "test-token-0123"
ACTIVE = ["payments-api", "web-frontend", "ml-pipeline", "infra-tools"]


@pytest.fixture
def api() -> Iterator[GitHubApiServer]:
    with GitHubApiServer(org="acme", token=TOKEN) as server:
        yield server


@pytest.fixture
def client(api: GitHubApiServer) -> Iterator[httpx.Client]:
    with github_client(base_url=api.url, token=TOKEN) as c:
        yield c


class Sleeps(list):
    """Records the backoff instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


# -- listing --------------------------------------------------------------------------------


def test_follows_three_pages_with_the_github_headers(api: GitHubApiServer, client: httpx.Client) -> None:
    repos = github_org_repos(client=client, org="acme")
    assert [r.name for r in repos] == [
        "payments-api",
        "web-frontend",
        "old-billing",
        "requests",
        "ml-pipeline",
        "legacy-batch",
        "infra-tools",
    ]
    assert [(r.path, r.query) for r in api.requests] == [
        ("/orgs/acme/repos", {"per_page": "100", "type": "all"}),
        ("/organizations/9919001/repos", {"per_page": "100", "type": "all", "page": "2"}),
        ("/organizations/9919001/repos", {"per_page": "100", "type": "all", "page": "3"}),
    ]
    for request in api.requests:
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        assert request.headers["accept"] == "application/vnd.github+json"
        assert request.headers["x-github-api-version"] == "2022-11-28"


def _gh(id: int, name: str, branch: str, *, private=False, fork=False, archived=False, disabled=False) -> GitHubRepo:
    return GitHubRepo(
        id, name, f"acme/{name}", f"https://github.com/acme/{name}.git", branch, private, fork, archived, disabled
    )


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        (0, _gh(700000101, "payments-api", "main")),
        (1, _gh(700000102, "web-frontend", "master", private=True)),
        (2, _gh(700000103, "old-billing", "main", archived=True)),
        (3, _gh(700000201, "requests", "main", fork=True)),
        (4, _gh(700000202, "ml-pipeline", "develop", private=True)),
        (5, _gh(700000203, "legacy-batch", "trunk", disabled=True)),
        (6, _gh(700000301, "infra-tools", "main", private=True)),
    ],
)
def test_items_are_read_from_the_recorded_shape(index: int, expected: GitHubRepo) -> None:
    items = [item for page in load_org_pages("acme") for item in page]
    assert GitHubRepo.from_api(items[index], where="x") == expected


@pytest.mark.parametrize(
    ("include_forks", "imported", "skipped"),
    [
        (
            False,
            ACTIVE,
            [("acme/old-billing", "archived"), ("acme/requests", "fork"), ("acme/legacy-batch", "disabled")],
        ),
        (
            True,
            ["payments-api", "web-frontend", "requests", "ml-pipeline", "infra-tools"],
            [("acme/old-billing", "archived"), ("acme/legacy-batch", "disabled")],
        ),
    ],
)
def test_entries_skip_archived_disabled_and_optionally_forks(
    include_forks: bool, imported: list[str], skipped: list
) -> None:
    repos = [GitHubRepo.from_api(item, where="x") for page in load_org_pages("acme") for item in page]
    entries, left_out = github_repo_entries(repos, include_forks=include_forks, credentials_ref="GH_READ")
    assert [e["name"] for e in entries] == imported
    assert left_out == skipped
    assert {e["name"]: e["credentials_ref"] for e in entries if e["credentials_ref"]} == {
        "web-frontend": "GH_READ",
        "ml-pipeline": "GH_READ",
        "infra-tools": "GH_READ",
    }


def test_without_a_token_no_authorization_header_is_sent() -> None:
    with GitHubApiServer(token=None) as server, github_client(base_url=server.url, token="") as c:
        assert len(github_org_repos(client=c, org="acme")) == 7
        assert all("authorization" not in r.headers for r in server.requests)


def test_a_next_link_to_another_host_is_refused() -> None:
    with GitHubApiServer(token=TOKEN, link_base="http://elsewhere.test") as server:
        with github_client(base_url=server.url, token=TOKEN) as c, pytest.raises(GitHubError) as excinfo:
            github_org_repos(client=c, org="acme")
        assert str(excinfo.value) == f"the next page link points to http://elsewhere.test, not {server.url}: refused"
        assert len(server.requests) == 1


def test_a_malformed_item_names_its_page_and_index() -> None:
    pages = copy.deepcopy(load_org_pages("acme"))
    del pages[1][2]["clone_url"]
    with GitHubApiServer(token=TOKEN, pages=pages) as server, github_client(base_url=server.url, token=TOKEN) as c:
        with pytest.raises(GitHubError, match=r"^page 2 item \[2\]\.clone_url: missing or of the wrong type$"):
            github_org_repos(client=c, org="acme")


# -- failures -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (
            {
                "status": 401,
                "body": {
                    "message": "Bad credentials",
                    "documentation_url": "https://docs.github.com/rest",
                    "status": "401",
                },
            },
            "GitHub rejected the token (401 Bad credentials): check GITHUB_TOKEN",
        ),
        (
            {"status": 403, "headers": {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1893456000"}},
            "GitHub API rate limit exhausted (403); it resets at 2030-01-01 00:00:00 UTC",
        ),
        (
            {"status": 429, "headers": {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1893456000"}},
            "GitHub API rate limit exhausted (429); it resets at 2030-01-01 00:00:00 UTC",
        ),
        (
            {
                "status": 403,
                "headers": {"Retry-After": "60"},
                "body": {"message": "You have exceeded a secondary rate limit."},
            },
            "GitHub secondary rate limit (403): retry after 60 seconds",
        ),
        (
            {"status": 429, "headers": {"Retry-After": "30"}},
            "GitHub secondary rate limit (429): retry after 30 seconds",
        ),
        (
            {"status": 403, "body": {"message": "Resource not accessible by personal access token"}},
            "GitHub refused access to acme's repositories (403 Resource not accessible by personal access token)",
        ),
        ({"status": 422, "body": {"message": "Validation\nFailed"}}, "GitHub API answered 422 Validation Failed"),
    ],
)
def test_refusals_give_one_line(api: GitHubApiServer, client: httpx.Client, fault: dict, message: str) -> None:
    api.fail(**fault)
    with pytest.raises(GitHubError) as excinfo:
        github_org_repos(client=client, org="acme", sleep=Sleeps())
    assert str(excinfo.value) == message
    assert len(api.requests) == 1  # refusals are not retried


def test_the_servers_own_rate_limit_answer(api: GitHubApiServer, client: httpx.Client) -> None:
    api.fail_rate_limited()
    with pytest.raises(GitHubError, match=r"^GitHub API rate limit exhausted \(403\); it resets at 2030-01-01"):
        github_org_repos(client=client, org="acme")


def test_a_wrong_token_is_refused_by_the_server(api: GitHubApiServer) -> None:
    with github_client(base_url=api.url, token="wrong") as c, pytest.raises(GitHubError) as excinfo:
        github_org_repos(client=c, org="acme")
    assert str(excinfo.value) == "GitHub rejected the token (401 Bad credentials): check GITHUB_TOKEN"
    assert "wrong" not in str(excinfo.value)


def test_an_unknown_org_is_404(client: httpx.Client) -> None:
    with pytest.raises(GitHubError) as excinfo:
        github_org_repos(client=client, org="nobody")
    assert str(excinfo.value) == "organisation 'nobody' not found on GitHub, or the token cannot see it (404)"


def test_server_errors_are_retried_with_backoff(api: GitHubApiServer, client: httpx.Client) -> None:
    api.fail(502, times=2)
    sleeps = Sleeps()
    assert len(github_org_repos(client=client, org="acme", sleep=sleeps)) == 7
    assert sleeps == [1, 2]
    assert len(api.requests) == 5


def test_server_errors_give_up_after_three_attempts(api: GitHubApiServer, client: httpx.Client) -> None:
    api.fail(503, times=3, body={"message": "Service Unavailable"})
    sleeps = Sleeps()
    with pytest.raises(GitHubError) as excinfo:
        github_org_repos(client=client, org="acme", sleep=sleeps)
    assert str(excinfo.value) == "GitHub API answered 503 Service Unavailable after 3 attempts"
    assert sleeps == [1, 2]


def test_an_unreachable_api_is_retried_then_reported() -> None:
    server = GitHubApiServer(token=TOKEN).start()
    url = server.url
    server.stop()  # nothing listens on the port any more
    sleeps = Sleeps()
    with github_client(base_url=url, token=TOKEN) as c, pytest.raises(GitHubError) as excinfo:
        github_org_repos(client=c, org="acme", sleep=sleeps)
    assert str(excinfo.value).startswith("GitHub API unreachable after 3 attempts: ")
    assert sleeps == [1, 2]


# -- importing ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_import_creates_the_active_repos_then_changes_nothing(client: httpx.Client) -> None:
    imported = github_org_import(client=client, org="acme")
    assert imported.listed == 7
    assert imported.result.created == tuple(ACTIVE)
    repo = Repo.objects.get(name="ml-pipeline")
    assert (repo.url, repo.branch, repo.github_id, repo.github_full_name, repo.managed_by, repo.credentials_ref) == (
        "https://github.com/acme/ml-pipeline.git",
        "develop",
        700000202,
        "acme/ml-pipeline",
        "github:acme",
        "GITHUB_TOKEN",
    )
    assert Repo.objects.get(name="payments-api").credentials_ref == ""

    again = github_org_import(client=client, org="acme")
    assert again.result.summary() == "0 created, 0 updated, 4 unchanged, 0 disabled"


@pytest.mark.django_db
def test_repos_archived_or_forks_dropped_since_are_disabled() -> None:
    pages = copy.deepcopy(load_org_pages("acme"))
    pages[0][2]["archived"] = False  # old-billing was still active at the first import
    with GitHubApiServer(token=TOKEN, pages=pages) as before, github_client(base_url=before.url, token=TOKEN) as c:
        github_org_import(client=c, org="acme", include_forks=True)
    assert Repo.objects.filter(enabled=True).count() == 6

    with GitHubApiServer(token=TOKEN) as now, github_client(base_url=now.url, token=TOKEN) as c:
        result = github_org_import(client=c, org="acme").result
    assert result.disabled == ("old-billing", "requests")
    old = Repo.objects.get(name="old-billing")
    assert (old.enabled, old.archived) == (False, True)
    assert Repo.objects.get(name="requests").archived is False


@pytest.mark.django_db
def test_a_new_default_branch_and_a_rename_update_the_same_row() -> None:
    with GitHubApiServer(token=TOKEN) as server, github_client(base_url=server.url, token=TOKEN) as c:
        github_org_import(client=c, org="acme")
    team = Team.objects.create(name="payments")
    Repo.objects.filter(name="payments-api").update(team=team)  # chosen in the admin
    pages = copy.deepcopy(load_org_pages("acme"))
    item = pages[0][0]
    item.update(
        name="payments",
        full_name="acme/payments",
        clone_url="https://github.com/acme/payments.git",
        default_branch="trunk",
    )
    with GitHubApiServer(token=TOKEN, pages=pages) as server, github_client(base_url=server.url, token=TOKEN) as c:
        result = github_org_import(client=c, org="acme").result
    assert result.updated == ("payments",)
    assert {c.field for c in result.changes} == {"name", "url", "branch", "github_full_name"}
    repo = Repo.objects.get(github_id=700000101)
    assert (repo.name, repo.branch, repo.team) == ("payments", "trunk", team)


@pytest.mark.django_db
def test_a_failed_listing_writes_nothing(api: GitHubApiServer, client: httpx.Client) -> None:
    github_org_import(client=client, org="acme")
    api.fail(401)
    with pytest.raises(GitHubError):
        github_org_import(client=client, org="acme")
    assert Repo.objects.filter(enabled=True).count() == 4


# -- the command ----------------------------------------------------------------------------


@pytest.fixture
def github_settings(settings, api: GitHubApiServer):
    settings.GITHUB_API_URL = api.url
    settings.GITHUB_TOKEN = TOKEN
    return settings


@pytest.mark.django_db
def test_command_imports_and_reruns_unchanged(github_settings) -> None:
    out = io.StringIO()
    call_command("import_repos", "--github-org", "acme", stdout=out)
    assert out.getvalue().splitlines() == [
        "acme: 7 repositories listed",
        "skipped acme/old-billing (archived)",
        "skipped acme/requests (fork)",
        "skipped acme/legacy-batch (disabled)",
        *(f"created {name}" for name in ACTIVE),
        "4 created, 0 updated, 0 unchanged, 0 disabled",
    ]
    out = io.StringIO()
    call_command("import_repos", "--github-org", "acme", "--include-forks", stdout=out)
    assert out.getvalue().splitlines()[-2:] == ["created requests", "1 created, 0 updated, 4 unchanged, 0 disabled"]


@pytest.mark.django_db
def test_command_dry_run(github_settings) -> None:
    out = io.StringIO()
    call_command("import_repos", "--github-org", "acme", "--dry-run", stdout=out)
    assert out.getvalue().splitlines()[-1] == "dry run, nothing written: 4 created, 0 updated, 0 unchanged, 0 disabled"
    assert not Repo.objects.exists()


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """Run ``manage.py import_repos ARGS`` through its own entry point: ``(exit code, stderr)``.

    ``run_from_argv`` closes every database connection when it ends, which would close the
    connection holding this test's transaction on PostgreSQL: that one call is turned off.
    """
    monkeypatch.setattr(connections, "close_all", lambda: None)

    def run(*args: str) -> tuple[int, str]:
        capsys.readouterr()
        with pytest.raises(SystemExit) as excinfo:
            ManagementUtility(["manage.py", "import_repos", *args]).execute()
        return excinfo.value.code, capsys.readouterr().err

    return run


@pytest.mark.django_db
def test_command_github_refusal_exits_1(github_settings, cli) -> None:
    github_settings.GITHUB_TOKEN = "expired"
    code, err = cli("--github-org", "acme")
    assert code == 1
    assert err == "CommandError: GitHub rejected the token (401 Bad credentials): check GITHUB_TOKEN\n"
    assert not Repo.objects.exists()


@pytest.mark.django_db
def test_command_name_owned_by_a_toml_import_exits_2(github_settings, cli) -> None:
    Repo.objects.create(name="infra-tools", url="/srv/infra", managed_by="toml:/srv/repos.toml")
    code, err = cli("--github-org", "acme")
    assert code == 2
    assert err.startswith("CommandError: infra-tools: the repo 'infra-tools' belongs to toml:/srv/repos.toml")
    assert Repo.objects.count() == 1
