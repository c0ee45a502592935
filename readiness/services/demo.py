"""The demo organisation: example services turned into git repos with dated history, then scanned.

``manage.py demo`` calls :func:`demo_setup`, which goes through the same services a real
organisation does (repos import, backfill, organisation scan, roll-ups), so the demo shows the
product working rather than fixtures loaded into tables.

Each example (``examples/<service>/``) holds a ``history.toml`` listing dated steps, oldest
first; a step copies its directory over the tree and commits with author and committer dates
``weeks_ago`` weeks before the build, so the history always ends near the day the demo runs.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import logging
import os
import secrets
import shutil
import subprocess
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from readiness import engine
from readiness.clients import registry_client, shared_index_client
from readiness.models import BlockerTriage, Campaign, Repo, Scan, ScanFinding, Verdict
from readiness.services.backfill import repo_backfill
from readiness.services.campaigns import campaign_create
from readiness.services.organisation import organisation_scan
from readiness.services.repos import repos_import
from readiness.services.rollups import rollup_days
from readiness.services.scans import _Failed, scan_execute
from readiness.services.triage import BlockerKey, TriageError, current_blockers, triage_change
from scanners.index import IndexClient

__all__ = [
    "DEMO_SOURCE",
    "DEMO_USERNAME",
    "DemoError",
    "DemoResult",
    "DemoStep",
    "Example",
    "demo_build_repos",
    "demo_examples",
    "demo_password",
    "demo_setup",
    "index_problem",
]

log = logging.getLogger(__name__)

DEMO_USERNAME = "demo"
DEMO_CAMPAIGN_SLUG = "arm64-by-end-of-quarter"
DEMO_SOURCE = "demo:examples"
BRANCH = "main"
# Bumped when the way repos are built changes, so that old builds are redone.
_BUILD_VERSION = "1"
_STAMP = ".demo-stamp"
# Per request when the probe found no index: long enough for a slow network, short enough that
# a machine with no route to the index still finishes the demo in seconds.
_OFFLINE_TIMEOUT = 5.0
_AUTHOR = ("Demo Developer", "dev@example.test")
_STEP_KEYS = {"weeks_ago", "days_ago", "dir", "message", "remove"}
_TOP_KEYS = {"team", "description", "step"}


class DemoError(Exception):
    """An example that cannot be built; the message names the file and key."""


@dataclass(frozen=True, slots=True)
class DemoStep:
    """One dated commit: the directory copied over the tree, and the paths deleted."""

    age: dt.timedelta
    directory: Path
    message: str
    remove: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Example:
    """One example service, read from its ``history.toml``."""

    name: str
    path: Path
    team: str
    description: str
    steps: tuple[DemoStep, ...]


@dataclass(frozen=True, slots=True)
class DemoResult:
    """What :func:`demo_setup` did; the password is printed by the command."""

    username: str
    password: str
    repos: tuple[str, ...]
    backfilled: int
    scans: tuple[int, ...]
    rollups: int
    index_url: str
    index_problem: str | None
    failed: tuple[str, ...] = ()


def demo_examples(examples_dir: Path) -> list[Example]:
    """Every ``examples_dir/<name>/history.toml``, by name. Raises :class:`DemoError` on a bad file."""
    examples = []
    for history in sorted(examples_dir.glob("*/history.toml")):
        examples.append(_read_example(history))
    if not examples:
        raise DemoError(f"{examples_dir}: no example has a history.toml")
    return examples


def _read_example(history: Path) -> Example:
    where = str(history)
    try:
        data = tomllib.loads(history.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DemoError(f"{where}: {exc}") from None
    if unknown := sorted(set(data) - _TOP_KEYS):
        raise DemoError(f"{where}: {unknown[0]}: unknown key (allowed: {', '.join(sorted(_TOP_KEYS))})")
    team = data.get("team", "")
    if not isinstance(team, str):
        raise DemoError(f"{where}: team: must be a string")
    items = data.get("step")
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise DemoError(f"{where}: step: must be a non-empty array of tables ([[step]])")
    steps = []
    for index, item in enumerate(items):
        key = f"{where}: step[{index}]"
        if unknown := sorted(set(item) - _STEP_KEYS):
            raise DemoError(f"{key}.{unknown[0]}: unknown key (allowed: {', '.join(sorted(_STEP_KEYS))})")
        weeks, days = item.get("weeks_ago", 0), item.get("days_ago", 0)
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (weeks, days)):
            raise DemoError(f"{key}: weeks_ago and days_ago must be whole numbers >= 0")
        directory = item.get("dir")
        if not isinstance(directory, str) or not (history.parent / directory).is_dir() or ".." in Path(directory).parts:
            raise DemoError(f"{key}.dir: {directory!r} is not a directory next to history.toml")
        message = item.get("message")
        if not isinstance(message, str) or not message.strip():
            raise DemoError(f"{key}.message: missing")
        remove = item.get("remove", [])
        if not isinstance(remove, list) or not all(isinstance(r, str) and ".." not in Path(r).parts for r in remove):
            raise DemoError(f"{key}.remove: must be a list of paths inside the repo")
        age = dt.timedelta(weeks=weeks, days=days)
        if steps and age > steps[-1].age:
            raise DemoError(f"{key}: older than the step before it (steps go oldest first)")
        steps.append(DemoStep(age=age, directory=history.parent / directory, message=message, remove=tuple(remove)))
    return Example(
        name=history.parent.name,
        path=history.parent,
        team=team,
        description=str(data.get("description", "")),
        steps=tuple(steps),
    )


def demo_build_repos(
    *, examples_dir: Path, target_dir: Path, force: bool = False, now: dt.datetime | None = None
) -> list[Path]:
    """Make ``target_dir/<name>`` a git repo with the dated history of each example; return their paths.

    Idempotent: a repo whose stamp (a hash of its example's files) matches is kept as it is,
    so its commits, and therefore the scans already made of them, stay valid. ``force``
    rebuilds every repo. Repos of examples that were deleted are removed (only directories
    holding a stamp: this never deletes anything it did not build).
    """
    examples = demo_examples(examples_dir)
    now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    target_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for example in examples:
        repo = target_dir / example.name
        stamp = _stamp(example)
        if not force and (repo / ".git").is_dir() and _read(repo / ".git" / _STAMP) == stamp:
            paths.append(repo)
            continue
        if repo.exists():
            shutil.rmtree(repo)
        _build(example, repo, now=now)
        (repo / ".git" / _STAMP).write_text(stamp)
        paths.append(repo)
    wanted = {e.name for e in examples}
    for old in target_dir.iterdir():
        if old.name not in wanted and (old / ".git" / _STAMP).is_file():
            shutil.rmtree(old)
    return paths


def _stamp(example: Example) -> str:
    digest = hashlib.sha256(_BUILD_VERSION.encode())
    for path in sorted(p for p in example.path.rglob("*") if p.is_file()):
        digest.update(path.relative_to(example.path).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def _build(example: Example, repo: Path, *, now: dt.datetime) -> None:
    repo.mkdir(parents=True)
    _git(repo, "init", "-q", "-b", BRANCH)
    for step in example.steps:
        for path in step.remove:
            (repo / path).unlink(missing_ok=True)
        shutil.copytree(step.directory, repo, dirs_exist_ok=True)
        when = (now - step.age).isoformat()
        _git(repo, "add", "--all")
        _git(repo, "commit", "-q", "--allow-empty", "-m", step.message, date=when)


def _git(repo: Path, *args: str, date: str | None = None) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
        # The user's git configuration (signing, hooks, templates) must not change the demo.
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": _AUTHOR[0],
        "GIT_AUTHOR_EMAIL": _AUTHOR[1],
        "GIT_COMMITTER_NAME": _AUTHOR[0],
        "GIT_COMMITTER_EMAIL": _AUTHOR[1],
    }
    if date:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
    result = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise DemoError(f"{repo}: git {args[0]} failed: {result.stderr.strip()}")


def demo_password(path: Path) -> str:
    """The demo user's password, made once and kept in ``path`` so that every run prints the same."""
    if (existing := _read(path)) and existing.strip():
        return existing.strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)
    path.write_text(password + "\n")
    path.chmod(0o600)
    return password


def index_problem(url: str, *, timeout: float = 5.0) -> str | None:
    """Why the package index at ``url`` cannot be reached, or ``None`` when it answers.

    Any HTTP answer counts (a 404 for the probe's package is still an index); only a
    connection failure or timeout means every verdict would come out ``unknown``.
    """
    if url.startswith("file:"):
        return None if Path(url.removeprefix("file://")).is_dir() else f"{url} is not a directory"
    probe = url.rstrip("/") + "/pip/"
    try:
        with httpx.Client(timeout=timeout, follow_redirects=True) as client:
            client.get(probe)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return None


def demo_setup(
    *,
    examples_dir: Path,
    repos_dir: Path,
    password_file: Path,
    rebuild: bool = False,
    progress: Callable[[str], None] = lambda line: None,
    scan_timeout: float = 1800.0,
) -> DemoResult:
    """Build the demo organisation and scan it, with one ``progress`` line per step.

    Order matters: backfill first (past points, oldest first), then the current scan, so the
    repos' latest scans are today's; roll-ups last, over the whole history. With Celery, the
    current scans run on workers and this waits for them (``scan_timeout`` seconds at most).
    """
    url = engine.index_url()
    problem = index_problem(url)
    if problem:
        progress(
            f"WARNING: the package index {url} cannot be reached ({problem}); verdicts will be "
            "'unknown'. Set READINESS_INDEX_URL to an index this machine can reach."
        )

    progress(f"building git repositories from {examples_dir} into {repos_dir}")
    examples = {e.name: e for e in demo_examples(examples_dir)}
    paths = demo_build_repos(examples_dir=examples_dir, target_dir=repos_dir, force=rebuild)

    entries = [
        {
            "name": p.name,
            "url": str(p.resolve()),
            "branch": BRANCH,
            "team": examples[p.name].team or None,
            "credentials_ref": "",
            "enabled": True,
        }
        for p in paths
    ]
    imported = repos_import(entries=entries, source=DEMO_SOURCE, disable_missing=True)
    progress(f"repositories: {imported.summary()}")

    password = demo_password(password_file)
    _demo_user(password)
    progress(f"user {DEMO_USERNAME!r} ready")

    repos = list(Repo.objects.filter(managed_by=DEMO_SOURCE, enabled=True).order_by("name"))
    first_commit = min(_first_commit_date(p) for p in paths)
    # One client for every backfilled point: it remembers each project it fetched, so a package
    # locked at 15 points is fetched (or read from the database cache) and parsed once. Without
    # an index it fails fast, once per package, instead of retrying at every point.
    index = (
        shared_index_client()
        if problem is None
        else IndexClient(url, retries=0, timeout=_OFFLINE_TIMEOUT, max_concurrency=16)
    )
    registry = registry_client()  # shared like the index: each base image is looked up once
    backfilled, failed = 0, []
    try:
        for i, repo in enumerate(repos, 1):
            since = _first_commit_date(repos_dir / repo.name)
            try:
                scans = repo_backfill(
                    repo=repo, since=since, every=dt.timedelta(weeks=1), index=index, registry=registry
                )
            except _Failed as exc:
                failed.append(f"{repo.name}: backfill: {exc}")
                progress(f"backfill {i}/{len(repos)} {repo.name}: failed: {exc}")
                continue
            backfilled += len(scans)
            progress(f"backfill {i}/{len(repos)} {repo.name}: {len(scans)} weekly points scanned")

        progress(f"scanning {len(repos)} repositories at their latest commit")
        if problem is None:
            current = organisation_scan(trigger="manual", repos=repos)
            finished = _wait(current, timeout=scan_timeout, progress=progress)
        else:
            # Queued scans would each build their own client and retry every package; the
            # offline demo runs them here with the fail-fast client instead.
            finished = [_scan_now(repo, index=index, registry=registry) for repo in repos]
    finally:
        index.close()
        if registry is not None:
            registry.close()
    for scan in finished:
        if scan.state == Scan.State.FAILED:
            failed.append(f"{scan.repo.name}: {scan.error.splitlines()[0] if scan.error else 'failed'}")

    rows = rollup_days(since=first_commit.date())
    progress(f"roll-ups: {rows} rows since {first_commit.date()}")
    campaign = _demo_campaign(first_commit.date())
    progress(f"campaign {campaign.name!r}: /campaigns/{campaign.slug}/")
    triaged = _demo_triage()
    progress(f"triage: {triaged} blocker{'s' if triaged != 1 else ''} triaged as examples")
    return DemoResult(
        username=DEMO_USERNAME,
        password=password,
        repos=tuple(r.name for r in repos),
        backfilled=backfilled,
        scans=tuple(s.pk for s in finished),
        rollups=rows,
        index_url=url,
        index_problem=problem,
        failed=tuple(failed),
    )


def _scan_now(repo: Repo, *, index: IndexClient, registry) -> Scan:
    scan = Scan.objects.create(repo=repo, trigger="manual", state=Scan.State.RUNNING, started_at=timezone.now())
    return scan_execute(scan=scan, index=index, registry=registry)


def _demo_user(password: str) -> None:
    User = get_user_model()
    with transaction.atomic():
        user, _ = User.objects.get_or_create(username=DEMO_USERNAME)
        user.is_staff = True  # the Django admin too
        user.is_active = True
        if not user.check_password(password):
            user.set_password(password)
        user.save()
        # A manager: the demo shows every action (triage, campaigns, rescans, others' subscriptions).
        user.groups.add(Group.objects.get(name="manager"))


def _demo_campaign(history_start: dt.date) -> Campaign:
    """The demo's campaign: arm64 for the whole organisation by the end of this quarter, started
    eight weeks ago (or when the history starts), so its burndown has a past. Kept as it is on a
    second run: a campaign someone edited is theirs."""
    existing = Campaign.objects.filter(slug=DEMO_CAMPAIGN_SLUG).first()
    if existing is not None:
        return existing
    today = timezone.localdate()
    quarter_end_month = 3 * ((today.month - 1) // 3 + 1)
    due = dt.date(today.year, quarter_end_month, calendar.monthrange(today.year, quarter_end_month)[1])
    campaign = campaign_create(
        name="arm64 by end of quarter",
        targets=["linux/arm64"],
        start=max(history_start, today - dt.timedelta(weeks=8)),
        due=due,
        description="Every service builds and runs natively on linux/arm64 (Graviton) by the end of the quarter.",
    )
    return campaign  # its slug is DEMO_CAMPAIGN_SLUG, from its name


def _demo_triage() -> int:
    """A few triaged blockers, as a team a week into its campaign has them: one acknowledged, one
    assigned, one accepted. Nothing is added when any triage exists (a second run, or real use)."""
    if BlockerTriage.objects.exists():
        return 0
    user = get_user_model().objects.get(username=DEMO_USERNAME)
    candidates = []
    for repo in Repo.objects.filter(latest_scan__isnull=False).select_related("latest_scan").order_by("name"):
        result_id = repo.latest_scan.results_from_id or repo.latest_scan_id
        keys = current_blockers(
            Verdict.objects.filter(scan_id=result_id), ScanFinding.objects.filter(scan_id=result_id)
        )
        candidates += [(repo.pk, key) for key in sorted(keys, key=lambda k: (k.kind, k.subject, k.target))]
    # One blocker in each of the first repos that have one, then more of theirs.
    firsts: dict[int, tuple[int, BlockerKey]] = {}
    for candidate in candidates:
        firsts.setdefault(candidate[0], candidate)
    chosen = list(firsts.values()) + [c for c in candidates if c not in firsts.values()]
    changes = [
        {"action": "assign", "assignee": user, "note": "looking at the upgrade"},
        {"action": "acknowledge", "note": "on our list for next sprint"},
        {"action": "accept", "reason": BlockerTriage.Reason.AMD64_ONLY, "note": "batch job, stays on x86"},
    ]
    done = 0
    for (repo_id, key), change in zip(chosen, changes):
        repo = Repo.objects.select_related("latest_scan").get(pk=repo_id)
        try:
            triage_change(repo=repo, key=key, user=user, **change)
        except TriageError:
            continue
        done += 1
    return done


def _first_commit_date(repo: Path) -> dt.datetime:
    result = subprocess.run(
        ["git", "log", "--reverse", "--format=%cI", BRANCH], cwd=repo, capture_output=True, text=True, check=False
    )
    lines = result.stdout.split()
    if result.returncode != 0 or not lines:
        raise DemoError(f"{repo}: no commits on {BRANCH}: {result.stderr.strip()}")
    return dt.datetime.fromisoformat(lines[0]).astimezone(dt.UTC)


def _wait(scans: list[Scan], *, timeout: float, progress: Callable[[str], None]) -> list[Scan]:
    """Poll until every scan is final (in-process scans already are); the rest are reported."""
    ids = [s.pk for s in scans]
    deadline = time.monotonic() + timeout
    reported = -1
    while True:
        rows = list(Scan.objects.filter(pk__in=ids).select_related("repo").order_by("repo__name"))
        done = sum(1 for s in rows if s.state in Scan.FINAL_STATES)
        if done == len(rows):
            return rows
        if done != reported:
            progress(f"waiting for scans: {done}/{len(rows)} finished")
            reported = done
        if time.monotonic() > deadline:
            progress(f"gave up waiting after {timeout:g}s: {len(rows) - done} scans still queued or running")
            return rows
        time.sleep(1)
