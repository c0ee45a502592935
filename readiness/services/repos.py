"""Configured repositories: parse a declarative list and make the database match it.

An import is *declarative*: the source (a TOML file, a GitHub organisation) is the truth, and
running it twice changes nothing. Repos are never deleted, because their scan history must
survive: an entry that leaves its source is disabled. Each import owns only the rows it made
(``Repo.managed_by``), so a TOML file never disables repos imported from GitHub or added in the
admin, and two TOML files never fight over each other's repos.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction

from readiness.models import Repo, Team

__all__ = [
    "ENTRY_FIELDS",
    "FieldChange",
    "ImportResult",
    "RepoConfigError",
    "RepoImportError",
    "credentials_ref_problem",
    "repo_entries_from_toml",
    "repo_entries_from_toml_file",
    "repos_import",
    "source_for_toml",
    "url_carries_credentials",
]

# The fields an entry may set, named as on the model. An entry sets only the keys it has: a
# GitHub entry leaves ``team`` alone (set it in the admin), a TOML entry always has them all,
# because a key left out of the file means "the default", not "whatever the database holds".
ENTRY_FIELDS = frozenset(
    {"name", "url", "branch", "team", "credentials_ref", "enabled", "github_id", "github_full_name", "archived"}
)

_TOML_KEYS = ("name", "url", "branch", "team", "credentials", "enabled")
# Tokens GitHub and GitLab hand out start with these; the value of ``credentials`` is the NAME of
# an environment variable, so anything shaped like a token or a user:password pair is refused.
_SECRET_PREFIXES = ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# git's scp-like syntax (git@host:org/repo.git) is a remote, not a relative local path.
_SCP_LIKE = re.compile(r"[\w.~-]+@[\w.-]+:")
_MAX_LENGTHS = {"name": 200, "url": 1000, "branch": 200, "team": 100, "credentials": 200}


class RepoConfigError(ValueError):
    """A repo list that cannot be imported; the message starts with the key path (``repo[3].url``)."""


class RepoImportError(Exception):
    """An entry that clashes with the database (a name owned by another import)."""


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field of one repo that an import changed (or, in a dry run, would change)."""

    repo: str
    field: str
    old: str
    new: str

    def __str__(self) -> str:
        return f"{self.repo}: {self.field} {self.old!r} -> {self.new!r}"


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What one import did, by repo name. ``changes`` lists the field edits behind ``updated``."""

    source: str
    created: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    disabled: tuple[str, ...] = ()
    changes: tuple[FieldChange, ...] = ()
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.disabled)

    def summary(self) -> str:
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.disabled)} disabled"
        )


def source_for_toml(path: Path) -> str:
    """The ``managed_by`` value of a TOML file: its absolute path, so two files never share repos."""
    return f"toml:{path.resolve()}"


def repo_entries_from_toml_file(path: Path) -> list[dict[str, Any]]:
    """Read and validate a repo list; errors are prefixed with the file name."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RepoConfigError(f"{path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise RepoConfigError(f"{path}: not UTF-8 text") from None
    try:
        return repo_entries_from_toml(text, base_dir=path.resolve().parent)
    except RepoConfigError as exc:
        raise RepoConfigError(f"{path}: {exc}") from None


def repo_entries_from_toml(text: str, *, base_dir: Path) -> list[dict[str, Any]]:
    """Parse a ``[[repo]]`` list into entries for :func:`repos_import`.

    Pure (no database, no file I/O), like ``Pylock.from_dict``: the first problem raises
    :class:`RepoConfigError` naming its key path, ``repo[N]`` counting from 0 as in TOML arrays.
    Relative local paths are resolved against ``base_dir`` (the file's directory), so the
    file means the same thing whatever directory the command runs from. Every entry comes
    back with every field, defaults filled in.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RepoConfigError(f"invalid TOML: {exc}") from None
    unknown = sorted(set(data) - {"repo"})
    if unknown:
        raise RepoConfigError(f"{unknown[0]}: unknown key (the file holds [[repo]] tables only)")
    items = data.get("repo")
    if items is None:
        # An empty list would disable every repo this file imported; far likelier a mistake.
        raise RepoConfigError("repo: missing (the file lists no [[repo]] entries)")
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise RepoConfigError("repo: must be an array of tables ([[repo]])")
    entries: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        entry = _toml_entry(item, where=f"repo[{index}]", base_dir=base_dir)
        if entry["name"] in seen:
            raise RepoConfigError(
                f"repo[{index}].name: {entry['name']!r} is already used by repo[{seen[entry['name']]}]"
            )
        seen[entry["name"]] = index
        entries.append(entry)
    return entries


def _toml_entry(item: Mapping[str, Any], *, where: str, base_dir: Path) -> dict[str, Any]:
    for key in item:
        if key not in _TOML_KEYS:
            raise RepoConfigError(f"{where}.{key}: unknown key (allowed: {', '.join(_TOML_KEYS)})")
    name = _string(item, "name", where=where, required=True)
    url = _string(item, "url", where=where, required=True)
    branch = _string(item, "branch", where=where)
    team = _string(item, "team", where=where)
    credentials = _credentials(item, where=where)
    enabled = item.get("enabled", True)
    if not isinstance(enabled, bool):
        raise RepoConfigError(f"{where}.enabled: must be true or false, not {type(enabled).__name__}")
    if branch and (branch != branch.strip() or any(c.isspace() for c in branch)):
        raise RepoConfigError(f"{where}.branch: {branch!r} is not a branch name")
    return {
        "name": name,
        "url": _resolve_url(url, where=where, base_dir=base_dir),
        "branch": branch,
        "team": team or None,
        "credentials_ref": credentials,
        "enabled": enabled,
    }


def _string(item: Mapping[str, Any], key: str, *, where: str, required: bool = False) -> str:
    if key not in item:
        if required:
            raise RepoConfigError(f"{where}.{key}: missing")
        return ""
    value = item[key]
    if not isinstance(value, str):
        raise RepoConfigError(f"{where}.{key}: must be a string, not {type(value).__name__}")
    if required and not value.strip():
        raise RepoConfigError(f"{where}.{key}: empty")
    if value != value.strip():
        raise RepoConfigError(f"{where}.{key}: {value!r} has leading or trailing whitespace")
    if any(ord(c) < 32 for c in value):
        raise RepoConfigError(f"{where}.{key}: contains a control character")
    if len(value) > _MAX_LENGTHS[key]:
        raise RepoConfigError(f"{where}.{key}: longer than {_MAX_LENGTHS[key]} characters")
    return value


def _credentials(item: Mapping[str, Any], *, where: str) -> str:
    value = _string(item, "credentials", where=where)
    if value and (problem := credentials_ref_problem(value)):
        raise RepoConfigError(f"{where}.credentials: {problem}")
    return value


def credentials_ref_problem(value: str) -> str | None:
    """Why ``value`` cannot be a ``credentials_ref``, or ``None``.

    The reason never quotes the value: a value that fails is often a pasted token.
    """
    if value.startswith(_SECRET_PREFIXES) or ":" in value or "@" in value:
        return (
            "looks like a secret; give the NAME of the environment variable that holds the token "
            "(e.g. GITHUB_TOKEN), never the token itself"
        )
    if not _ENV_NAME.match(value):
        return "not an environment variable name (letters, digits and _; e.g. GITHUB_TOKEN)"
    return None


def _resolve_url(url: str, *, where: str, base_dir: Path) -> str:
    if "://" in url:
        if url_carries_credentials(url):
            # The token would be stored in the row, and rows are shown (pages, exports, admin).
            raise RepoConfigError(
                f"{where}.url: contains a password or token; remove it and name an environment "
                "variable in `credentials` instead"
            )
        return url
    if _SCP_LIKE.match(url):
        return url
    path = Path(url).expanduser()
    return str(path if path.is_absolute() else (base_dir / path).resolve())


def url_carries_credentials(url: str) -> bool:
    """Whether the URL's userinfo may be a secret: ``user:password@`` anywhere, and a bare
    ``name@`` too (``https://ghp_xxx@host/…`` is how a token is often pasted), except over ssh,
    where ``ssh://git@host/…`` names the account and the key does the authenticating."""
    scheme, _, rest = url.partition("://")
    authority = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if "@" not in authority:
        return False
    userinfo = authority.rpartition("@")[0]
    ssh = scheme.lower() in ("ssh", "git+ssh", "ssh+git")
    return not ssh or ":" in userinfo


def repos_import(
    *,
    entries: Sequence[Mapping[str, Any]],
    source: str,
    disable_missing: bool = True,
    dry_run: bool = False,
) -> ImportResult:
    """Make the repos owned by ``source`` match ``entries``, in one transaction.

    A repo is matched by ``github_id`` when the entry has one (a renamed GitHub repo keeps its
    row and history), else by name. A matched repo owned by nobody (made in the admin) or
    disabled by its previous owner is adopted; one still enabled under another import raises
    :class:`RepoImportError`, because two sources claiming one row would flip it on every run.
    With ``disable_missing``, enabled repos owned by ``source`` that are not in ``entries`` are
    disabled. Teams are created as needed. ``dry_run`` computes the same result and rolls back.
    """
    if not source:
        raise ValueError("source must name the import (toml:<path>, github:<org>)")
    for entry in entries:
        unknown = set(entry) - ENTRY_FIELDS
        if unknown or "name" not in entry:
            raise ValueError(f"bad entry keys for {entry.get('name')!r}: {sorted(unknown) or 'no name'}")

    with transaction.atomic():
        result = _import(entries=entries, source=source, disable_missing=disable_missing, dry_run=dry_run)
        if dry_run:
            transaction.set_rollback(True)
    return result


def _import(*, entries: Sequence[Mapping[str, Any]], source: str, disable_missing: bool, dry_run: bool) -> ImportResult:
    names = [entry["name"] for entry in entries]
    github_ids = [entry["github_id"] for entry in entries if entry.get("github_id") is not None]
    # Two queries load every row an entry could match; locked so a concurrent import of the
    # same rows waits instead of interleaving.
    rows = Repo.objects.select_related("team").select_for_update(of=("self",))
    by_name = {repo.name: repo for repo in rows.filter(name__in=names)}
    by_github_id = {repo.github_id: repo for repo in rows.filter(github_id__in=github_ids)}
    teams = _teams(entries)

    created: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    changes: list[FieldChange] = []
    new_rows: list[Repo] = []
    seen_ids: set[int] = set()
    for entry in entries:
        wanted = dict(entry)
        if "team" in wanted:
            wanted["team"] = teams[wanted["team"]] if wanted["team"] else None
        repo = by_github_id.get(entry.get("github_id")) or by_name.get(entry["name"])
        if repo is None:
            new_rows.append(Repo(managed_by=source, **wanted))
            created.append(entry["name"])
            continue
        seen_ids.add(repo.pk)
        if repo.managed_by not in ("", source) and repo.enabled:
            raise RepoImportError(
                f"{entry['name']}: the repo {repo.name!r} belongs to {repo.managed_by}; "
                "remove it there (or disable it) before importing it from here"
            )
        if repo.name != entry["name"] and entry["name"] in by_name and by_name[entry["name"]].pk != repo.pk:
            raise RepoImportError(f"{entry['name']}: GitHub renamed {repo.name!r} to a name another repo already has")
        edits = _edits(repo, wanted, source=source)
        if not edits:
            unchanged.append(repo.name)
            continue
        for field, (old, new) in edits.items():
            setattr(repo, field, new)
            changes.append(FieldChange(entry["name"], field, _show(old), _show(new)))
        repo.save(update_fields=[*edits, "updated_at"])
        updated.append(repo.name)

    disabled: list[str] = []
    if disable_missing:
        # Before the new rows exist, so that they need not be excluded.
        missing = Repo.objects.filter(managed_by=source, enabled=True).exclude(pk__in=seen_ids)
        disabled = sorted(missing.values_list("name", flat=True))
        missing.update(enabled=False)
    # One INSERT per batch: a first import of a 2,000-repo organisation is a handful of queries.
    Repo.objects.bulk_create(new_rows, batch_size=500)
    return ImportResult(
        source=source,
        created=tuple(created),
        updated=tuple(updated),
        unchanged=tuple(unchanged),
        disabled=tuple(disabled),
        changes=tuple(changes),
        dry_run=dry_run,
    )


def _teams(entries: Sequence[Mapping[str, Any]]) -> dict[str, Team]:
    wanted = {entry["team"] for entry in entries if entry.get("team")}
    missing = wanted - set(Team.objects.filter(name__in=wanted).values_list("name", flat=True))
    if missing:
        # ignore_conflicts: a team created meanwhile by another import or in the admin is fine.
        Team.objects.bulk_create([Team(name=name) for name in sorted(missing)], ignore_conflicts=True)
    return {team.name: team for team in Team.objects.filter(name__in=wanted)}


def _edits(repo: Repo, wanted: Mapping[str, Any], *, source: str) -> dict[str, tuple[Any, Any]]:
    edits: dict[str, tuple[Any, Any]] = {}
    for field, new in wanted.items():
        old = repo.team if field == "team" else getattr(repo, field)
        if field == "team":
            if (old.pk if old else None) != (new.pk if new else None):
                edits[field] = (old, new)
        elif old != new:
            edits[field] = (old, new)
    if repo.managed_by != source:
        edits["managed_by"] = (repo.managed_by, source)
    return edits


def _show(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Team):
        return value.name
    return str(value)
