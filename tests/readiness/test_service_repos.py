"""repo_entries_from_toml (validation, paths) and repos_import (create, update, disable, scope)."""

from __future__ import annotations

from pathlib import Path

import pytest

from readiness.models import Repo, Team
from readiness.services.repos import (
    FieldChange,
    ImportResult,
    RepoConfigError,
    RepoImportError,
    credentials_ref_problem,
    repo_entries_from_toml,
    repo_entries_from_toml_file,
    repos_import,
    source_for_toml,
)

BASE = Path("/srv/config")
SOURCE = "toml:/srv/config/repos.toml"


def _entries(text: str) -> list[dict]:
    return repo_entries_from_toml(text, base_dir=BASE)


def _entry(name: str, **fields) -> dict:
    return {
        "name": name,
        "url": f"https://git.example/acme/{name}.git",
        "branch": "",
        "team": None,
        "credentials_ref": "",
        "enabled": True,
        **fields,
    }


# -- parsing --------------------------------------------------------------------------------


def test_full_entry_and_defaults() -> None:
    entries = _entries(
        """
        [[repo]]
        name = "payments-api"
        url = "https://github.com/acme/payments-api.git"
        branch = "main"
        team = "payments"
        credentials = "GITHUB_TOKEN"
        enabled = false

        [[repo]]
        name = "tools"
        url = "git@github.com:acme/tools.git"
        """
    )
    assert entries == [
        {
            "name": "payments-api",
            "url": "https://github.com/acme/payments-api.git",
            "branch": "main",
            "team": "payments",
            "credentials_ref": "GITHUB_TOKEN",
            "enabled": False,
        },
        {
            "name": "tools",
            "url": "git@github.com:acme/tools.git",
            "branch": "",
            "team": None,
            "credentials_ref": "",
            "enabled": True,
        },
    ]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("checkouts/api", "/srv/config/checkouts/api"),
        ("./api", "/srv/config/api"),
        ("../shared/api", "/srv/shared/api"),
        ("/abs/api", "/abs/api"),
        ("file:///srv/git/api.git", "file:///srv/git/api.git"),
        ("ssh://git@git.example:2222/acme/api.git", "ssh://git@git.example:2222/acme/api.git"),
        ("git@github.com:acme/api.git", "git@github.com:acme/api.git"),
        ("https://git.example/acme/api.git", "https://git.example/acme/api.git"),
    ],
)
def test_local_paths_resolve_against_the_file_directory(url: str, expected: str) -> None:
    [entry] = _entries(f'[[repo]]\nname = "api"\nurl = "{url}"\n')
    assert entry["url"] == expected


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('[[repo]]\nname = "a"\n', "repo[0].url: missing"),
        (
            '[[repo]]\nname = "a"\nurl = "x"\n[[repo]]\nname = "b"\nurl = "y"\n[[repo]]\nname = "c"\n'
            '[[repo]]\nurl = "z"\n',
            "repo[2].url: missing",
        ),
        ('[[repo]]\nurl = "x"\n', "repo[0].name: missing"),
        ('[[repo]]\nname = ""\nurl = "x"\n', "repo[0].name: empty"),
        ('[[repo]]\nname = " a"\nurl = "x"\n', "repo[0].name: ' a' has leading or trailing whitespace"),
        ('[[repo]]\nname = 3\nurl = "x"\n', "repo[0].name: must be a string, not int"),
        ('[[repo]]\nname = "a"\nurl = "x"\nbranch = "my branch"\n', "repo[0].branch: 'my branch' is not a branch name"),
        ('[[repo]]\nname = "a"\nurl = "x"\nenabled = "yes"\n', "repo[0].enabled: must be true or false, not str"),
        (
            '[[repo]]\nname = "a"\nurl = "x"\nowner = "me"\n',
            "repo[0].owner: unknown key (allowed: name, url, branch, team, credentials, enabled)",
        ),
        (
            '[[repo]]\nname = "a"\nurl = "x"\n[[repo]]\nname = "a"\nurl = "y"\n',
            "repo[1].name: 'a' is already used by repo[0]",
        ),
        ('title = "x"\n[[repo]]\nname = "a"\nurl = "x"\n', "title: unknown key (the file holds [[repo]] tables only)"),
        ("", "repo: missing (the file lists no [[repo]] entries)"),
        ('repo = "a"\n', "repo: must be an array of tables ([[repo]])"),
        (
            '[[repo]]\nname = "a"\nurl = "https://bob:hunter2@git.example/a.git"\n',
            "repo[0].url: contains a password or token; remove it and name an environment variable in `credentials` instead",
        ),
        (
            '[[repo]]\nname = "a"\nurl = "x"\ncredentials = "GITHUB TOKEN"\n',
            "repo[0].credentials: not an environment variable name (letters, digits and _; e.g. GITHUB_TOKEN)",
        ),
        ('[[repo]]\nname = "a"\nurl = "x"\nteam = "' + "t" * 101 + '"\n', "repo[0].team: longer than 100 characters"),
    ],
)
def test_bad_input_names_the_key(text: str, error: str) -> None:
    with pytest.raises(RepoConfigError) as excinfo:
        _entries(text)
    assert str(excinfo.value) == error


@pytest.mark.parametrize(
    "secret",
    [
        "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
        "gho_16C7e42F292c6912E7710c838347Ae178B4a",
        "glpat-xxxxxxxxxxxxxxxxxxxx",
        "x-access-token:abc123",
        "bob@example",
    ],
)
def test_a_secret_in_credentials_is_refused_without_echoing_it(secret: str) -> None:
    with pytest.raises(RepoConfigError) as excinfo:
        _entries(f'[[repo]]\nname = "a"\nurl = "x"\ncredentials = "{secret}"\n')
    message = str(excinfo.value)
    assert message.startswith("repo[0].credentials: looks like a secret")
    assert secret not in message


_URL_REFUSED = (
    "repo[0].url: contains a password or token; remove it and name an environment variable in `credentials` instead"
)


@pytest.mark.parametrize(
    "url",
    [
        "http://ghp_16C7e42F292c6912E7710c838347Ae178B4a@git.test/x.git",  # a bare token as the user name
        "https://x-access-token:ghp_16C7e42F292c6912E7710c838347Ae178B4a@git.test/x.git",
        "https://oauth2@git.test:8443/x.git",
        "git+https://user:pw@git.test/x.git",
        "ssh://git:hunter2@git.test/x.git",  # a password is a secret over ssh too
    ],
)
def test_a_url_carrying_credentials_is_refused_without_echoing_them(url: str) -> None:
    with pytest.raises(RepoConfigError) as excinfo:
        _entries(f'[[repo]]\nname = "a"\nurl = "{url}"\n')
    assert str(excinfo.value) == _URL_REFUSED
    assert "ghp_" not in str(excinfo.value) and "hunter2" not in str(excinfo.value)


@pytest.mark.parametrize(
    "url",
    [
        "git@git.test:acme/x.git",  # scp-like ssh: the account, not a secret
        "ssh://git@git.test/acme/x.git",
        "ssh://git@git.test:2222/acme/x.git",
        "https://git.test/acme/x.git?user=a@b",  # an "@" after the host is not userinfo
        "https://git.test/acme/x@v1.git",
    ],
)
def test_ssh_accounts_and_plain_urls_are_accepted(url: str) -> None:
    (entry,) = _entries(f'[[repo]]\nname = "a"\nurl = "{url}"\n')
    assert entry["url"] == url


@pytest.mark.parametrize(("value", "ok"), [("GITHUB_TOKEN", True), ("_T1", True), ("1TOKEN", False), ("A-B", False)])
def test_credentials_ref_problem(value: str, ok: bool) -> None:
    assert (credentials_ref_problem(value) is None) is ok


def test_toml_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "repos.toml"
    path.write_text('[[repo]]\nname = "a"\nurl = \n')
    with pytest.raises(RepoConfigError) as excinfo:
        repo_entries_from_toml_file(path)
    assert str(excinfo.value).startswith(f"{path}: invalid TOML: ")
    assert "line 3" in str(excinfo.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RepoConfigError, match=r"nope.toml: No such file or directory"):
        repo_entries_from_toml_file(tmp_path / "nope.toml")


def test_source_for_toml_is_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert source_for_toml(Path("repos.toml")) == f"toml:{tmp_path.resolve()}/repos.toml"


# -- importing ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_first_import_creates_then_second_changes_nothing() -> None:
    entries = [_entry("a", team="payments"), _entry("b", team="payments", branch="main"), _entry("c")]
    first = repos_import(entries=entries, source=SOURCE)
    assert first == ImportResult(source=SOURCE, created=("a", "b", "c"))
    assert first.summary() == "3 created, 0 updated, 0 unchanged, 0 disabled"
    assert list(Team.objects.values_list("name", flat=True)) == ["payments"]
    assert Repo.objects.get(name="b").team.name == "payments"
    assert set(Repo.objects.values_list("managed_by", flat=True)) == {SOURCE}

    second = repos_import(entries=entries, source=SOURCE)
    assert second.summary() == "0 created, 0 updated, 3 unchanged, 0 disabled"
    assert not second.changed


@pytest.mark.django_db
def test_update_lists_each_changed_field() -> None:
    repos_import(entries=[_entry("a", team="payments"), _entry("b")], source=SOURCE)
    result = repos_import(
        entries=[_entry("a", team="platform", branch="develop"), _entry("b", enabled=False)], source=SOURCE
    )
    assert result.updated == ("a", "b")
    assert result.changes == (
        FieldChange("a", "branch", "", "develop"),
        FieldChange("a", "team", "payments", "platform"),
        FieldChange("b", "enabled", "True", "False"),
    )
    repo = Repo.objects.select_related("team").get(name="a")
    assert (repo.branch, repo.team.name) == ("develop", "platform")


@pytest.mark.django_db
def test_removed_entries_are_disabled_never_deleted_and_come_back() -> None:
    repos_import(entries=[_entry("a"), _entry("b")], source=SOURCE)
    result = repos_import(entries=[_entry("a")], source=SOURCE)
    assert result.summary() == "0 created, 0 updated, 1 unchanged, 1 disabled"
    assert result.disabled == ("b",)
    assert Repo.objects.get(name="b").enabled is False

    again = repos_import(entries=[_entry("a")], source=SOURCE)
    assert again.summary() == "0 created, 0 updated, 1 unchanged, 0 disabled"

    back = repos_import(entries=[_entry("a"), _entry("b")], source=SOURCE)
    assert back.updated == ("b",)
    assert Repo.objects.get(name="b").enabled is True


@pytest.mark.django_db
def test_disable_missing_off_keeps_others() -> None:
    repos_import(entries=[_entry("a"), _entry("b")], source=SOURCE)
    result = repos_import(entries=[_entry("a")], source=SOURCE, disable_missing=False)
    assert result.disabled == ()
    assert Repo.objects.get(name="b").enabled is True


@pytest.mark.django_db
def test_missing_is_scoped_to_the_same_source() -> None:
    Repo.objects.create(name="from-admin", url="/srv/x")
    Repo.objects.create(name="from-github", url="https://github.com/acme/g.git", managed_by="github:acme", github_id=7)
    repos_import(entries=[_entry("other")], source="toml:/srv/config/other.toml")
    result = repos_import(entries=[_entry("a")], source=SOURCE)
    assert result.disabled == ()
    assert Repo.objects.filter(enabled=True).count() == 4


@pytest.mark.django_db
def test_a_repo_made_in_the_admin_is_adopted() -> None:
    Repo.objects.create(name="a", url="https://git.example/acme/a.git", enabled=False)
    result = repos_import(entries=[_entry("a")], source=SOURCE)
    assert result.updated == ("a",)
    assert {c.field for c in result.changes} == {"enabled", "managed_by"}
    assert Repo.objects.get(name="a").managed_by == SOURCE


@pytest.mark.django_db
def test_an_enabled_repo_of_another_import_is_refused_and_nothing_written() -> None:
    Repo.objects.create(name="b", url="https://github.com/acme/b.git", managed_by="github:acme")
    with pytest.raises(RepoImportError, match=r"^b: the repo 'b' belongs to github:acme"):
        repos_import(entries=[_entry("a"), _entry("b")], source=SOURCE)
    assert not Repo.objects.filter(name="a").exists()


@pytest.mark.django_db
def test_a_disabled_repo_of_another_import_is_taken_over() -> None:
    Repo.objects.create(name="b", url="https://github.com/acme/b.git", managed_by="github:acme", enabled=False)
    result = repos_import(entries=[_entry("b")], source=SOURCE)
    assert result.updated == ("b",)
    assert Repo.objects.get(name="b").managed_by == SOURCE


@pytest.mark.django_db
def test_dry_run_reports_and_writes_nothing() -> None:
    repos_import(entries=[_entry("a"), _entry("b")], source=SOURCE)
    result = repos_import(entries=[_entry("a", team="new-team"), _entry("c")], source=SOURCE, dry_run=True)
    assert (result.created, result.updated, result.disabled, result.dry_run) == (("c",), ("a",), ("b",), True)
    assert sorted(Repo.objects.values_list("name", "enabled")) == [("a", True), ("b", True)]
    assert not Team.objects.exists()


@pytest.mark.django_db
def test_github_entries_match_by_id_across_renames() -> None:
    source = "github:acme"
    gh = {"github_id": 42, "github_full_name": "acme/old", "url": "https://github.com/acme/old.git"}
    repos_import(entries=[{"name": "old", **gh}], source=source)
    renamed = {"github_id": 42, "github_full_name": "acme/new", "url": "https://github.com/acme/new.git"}
    result = repos_import(entries=[{"name": "new", **renamed}], source=source)
    assert result.updated == ("new",) and result.disabled == ()
    repo = Repo.objects.get(github_id=42)
    assert (repo.name, repo.github_full_name) == ("new", "acme/new")


@pytest.mark.django_db
def test_an_entry_sets_only_the_keys_it_has() -> None:
    team = Team.objects.create(name="ml")
    Repo.objects.create(name="g", url="u", team=team, managed_by="github:acme", github_id=5)
    result = repos_import(entries=[{"name": "g", "url": "u", "github_id": 5}], source="github:acme")
    assert result.unchanged == ("g",)
    assert Repo.objects.get(name="g").team == team


def test_bad_entry_keys_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="bad entry keys"):
        repos_import(entries=[{"name": "a", "colour": "red"}], source=SOURCE)
