"""``manage.py import_repos FILE``: idempotent, disables removed entries, exit 2 on bad input."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import pytest
from django.core.management import ManagementUtility, call_command
from django.db import connections

from readiness.models import Repo, Team

pytestmark = pytest.mark.django_db

REPOS_TOML = """
[[repo]]
name = "payments-api"
url = "https://github.com/acme/payments-api.git"
branch = "main"
team = "payments"
credentials = "GITHUB_TOKEN"

[[repo]]
name = "ledger"
url = "checkouts/ledger"
team = "payments"

[[repo]]
name = "web"
url = "file:///srv/git/web.git"
enabled = false
"""


def _write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("import_repos", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """Run ``manage.py import_repos ARGS`` through its own entry point: ``(exit code, stdout, stderr)``.

    ``run_from_argv`` closes every database connection when it ends, which would close the
    connection holding this test's transaction on PostgreSQL: that one call is turned off.
    """
    monkeypatch.setattr(connections, "close_all", lambda: None)

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        with pytest.raises(SystemExit) as excinfo:
            ManagementUtility(["manage.py", "import_repos", *args]).execute()
        captured = capsys.readouterr()
        return excinfo.value.code, captured.out, captured.err

    return run


def test_import_then_rerun_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path / "repos.toml", REPOS_TOML)
    monkeypatch.chdir("/")  # relative paths follow the file, not the working directory
    first = _run(str(path))
    assert first.splitlines() == [
        "created payments-api",
        "created ledger",
        "created web",
        "3 created, 0 updated, 0 unchanged, 0 disabled",
    ]
    ledger = Repo.objects.select_related("team").get(name="ledger")
    assert ledger.url == str(tmp_path / "checkouts" / "ledger")
    assert ledger.team.name == "payments"
    assert Repo.objects.get(name="payments-api").credentials_ref == "GITHUB_TOKEN"
    assert Repo.objects.get(name="web").enabled is False
    assert Team.objects.count() == 1

    assert _run(str(path)).splitlines() == ["0 created, 0 updated, 3 unchanged, 0 disabled"]


def test_removed_entry_is_disabled(tmp_path: Path) -> None:
    path = _write(tmp_path / "repos.toml", REPOS_TOML)
    _run(str(path))
    without_ledger = REPOS_TOML.replace(
        'name = "ledger"\nurl = "checkouts/ledger"\nteam = "payments"\n\n[[repo]]\n', ""
    )
    _write(path, without_ledger.replace('branch = "main"', 'branch = "release"'))
    output = _run(str(path))
    assert output.splitlines() == [
        "updated payments-api: branch 'main' -> 'release'",
        "disabled ledger",
        "0 created, 1 updated, 1 unchanged, 1 disabled",
    ]
    assert Repo.objects.count() == 3
    assert Repo.objects.get(name="ledger").enabled is False


def test_an_entry_disabled_in_the_file_is_not_reported_again_when_removed(tmp_path: Path) -> None:
    path = _write(tmp_path / "repos.toml", REPOS_TOML)
    _run(str(path))
    _write(path, REPOS_TOML.split('[[repo]]\nname = "web"')[0])
    assert _run(str(path)).splitlines() == ["0 created, 0 updated, 2 unchanged, 0 disabled"]


def test_dry_run_prints_changes_and_writes_nothing(tmp_path: Path) -> None:
    path = _write(tmp_path / "repos.toml", REPOS_TOML)
    output = _run(str(path), "--dry-run")
    assert output.splitlines()[-1] == "dry run, nothing written: 3 created, 0 updated, 0 unchanged, 0 disabled"
    assert "would be created payments-api" in output.splitlines()
    assert not Repo.objects.exists() and not Team.objects.exists()


def test_two_files_do_not_disable_each_other(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.toml", '[[repo]]\nname = "one"\nurl = "/srv/one"\n')
    b = _write(tmp_path / "b.toml", '[[repo]]\nname = "two"\nurl = "/srv/two"\n')
    _run(str(a))
    assert _run(str(b)).splitlines() == ["created two", "1 created, 0 updated, 0 unchanged, 0 disabled"]
    assert Repo.objects.filter(enabled=True).count() == 2


@pytest.mark.parametrize(
    ("toml", "error"),
    [
        (REPOS_TOML + '\n[[repo]]\nname = "x"\n', "repo[3].url: missing"),
        (REPOS_TOML + '\n[[repo]]\nname = "web"\nurl = "/x"\n', "repo[3].name: 'web' is already used by repo[2]"),
        (
            REPOS_TOML.replace('credentials = "GITHUB_TOKEN"', 'credentials = "ghp_abcdefghijklmnop0123456789"'),
            "repo[0].credentials: looks like a secret; give the NAME of the environment variable that holds the "
            "token (e.g. GITHUB_TOKEN), never the token itself",
        ),
        (
            REPOS_TOML.replace("https://github.com/", "https://ghp_abcdefghijklmnop0123456789@github.com/"),
            "repo[0].url: contains a password or token; remove it and name an environment variable in "
            "`credentials` instead",
        ),
        (
            REPOS_TOML.replace("enabled = false", "enabled = false\nschedule = 'daily'"),
            "repo[2].schedule: unknown key (allowed: name, url, branch, team, credentials, enabled)",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path: Path, toml: str, error: str, cli) -> None:
    path = _write(tmp_path / "repos.toml", toml)
    code, out, err = cli(str(path))
    assert code == 2
    assert err == f"CommandError: {path}: {error}\n"
    assert out == ""
    assert "ghp_" not in err
    assert not Repo.objects.exists() and not Team.objects.exists()


def test_conflict_with_another_import_exits_2(tmp_path: Path, cli) -> None:
    Repo.objects.create(name="web", url="https://github.com/acme/web.git", managed_by="github:acme")
    path = _write(tmp_path / "repos.toml", REPOS_TOML)
    code, _, err = cli(str(path))
    assert code == 2
    assert err.startswith("CommandError: web: the repo 'web' belongs to github:acme")
    assert Repo.objects.count() == 1


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ([], "give either a TOML file or --github-org ORG"),
        (["x.toml", "--github-org", "acme"], "give either a TOML file or --github-org ORG"),
        (["--github-org", "acme", "--credentials", "ghp_x"], "--credentials: looks like a secret"),
        (["--github-org", "acme/../../users"], "--github-org: 'acme/../../users' is not a GitHub organisation name"),
    ],
)
def test_bad_arguments_exit_2(args: list[str], error: str, cli) -> None:
    code, _, err = cli(*args)
    assert code == 2
    assert err.startswith(f"CommandError: {error}")
    assert err.count("\n") == 1


def test_missing_file_exits_2(tmp_path: Path, cli) -> None:
    code, _, err = cli(str(tmp_path / "nope.toml"))
    assert (code, err) == (2, f"CommandError: {tmp_path / 'nope.toml'}: No such file or directory\n")
