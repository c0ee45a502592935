"""Seed an organisation straight into the database, fast (bulk_create), for view tests and bench/.

The shape is deterministic so tests can assert exact numbers. For repo number ``r``:

* every repo locks the same ``packages`` packages (``uv.lock``; the first five are direct);
* ``grpcio 1.30.0`` is ``none`` on linux/arm64 with fix version ``1.60.0`` when ``r % 2 == 0``;
* ``filprofiler 2022.5.0`` is ``none`` on linux/arm64 with no fix version when ``r % 3 == 0``
  (``upstream``: no release has a wheel, ask the maintainers);
* ``psutil 5.9.8`` builds from source (``sdist``) on linux/arm64 unless ``r % 5 == 0``;
* ``pywin32 306`` is ``n/a`` everywhere (a Windows-only marker); everything else is a wheel;
* a ``platform-pinned`` Dockerfile blocker (line 1) when ``r % 4 == 0``; it blocks linux/arm64;
* ``weeks`` weekly scans; the latest holds the verdict rows for even ``r``; for odd ``r`` the
  latest is an "unchanged" scan pointing (``results_from``) at the one before, which holds them;
* daily rollups (org, team, repo) for ``weeks`` weeks back: today's equal the latest summaries;
  repos with ``r % 3 == 1`` had one more blocker (``blocked``) until ``1 + r % weeks`` weeks ago.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth.models import Group, User
from django.utils import timezone

from readiness.models import Repo, Rollup, Scan, ScanFinding, Team, Verdict
from readiness.models.rollups import repo_state
from readiness.services.rollups import rollup_row

__all__ = ["SeededOrg", "make_user", "seed_org"]

TARGETS = ("linux/amd64", "linux/arm64")
ARM = "linux/arm64"
_SPECIAL = [("grpcio", "1.30.0"), ("filprofiler", "2022.5.0"), ("psutil", "5.9.8"), ("pywin32", "306")]
_BATCH = 5000


@dataclass(frozen=True, slots=True)
class SeededOrg:
    teams: tuple[Team, ...]
    repos: tuple[Repo, ...]
    latest: dict[str, Scan]  # repo name -> latest scan

    def repo(self, r: int) -> Repo:
        return self.repos[r]


def make_user(username: str = "viewer", *, role: str | None = None, staff: bool = False, password: str = "pw") -> User:
    """A user in the group ``role`` (viewer, engineer or manager; ``None``: no group, a viewer too)."""
    user = User.objects.create_user(username, f"{username}@example.test", password, is_staff=staff)
    if role is not None:
        user.groups.add(Group.objects.get(name=role))
    return user


def _packages(n: int) -> list[tuple[str, str]]:
    out = list(_SPECIAL[:n])
    out += [(f"pkg-{i:03d}", f"1.{i % 7}.0") for i in range(len(out), n)]
    return out


def _cell(r: int, package: str, target: str) -> tuple[str, str, str]:
    """(status, file, fix_version) for repo ``r``."""
    arm = target == ARM
    if package == "grpcio" and arm and r % 2 == 0:
        return "none", "", "1.60.0"
    if package == "filprofiler" and arm and r % 3 == 0:
        return "none", "", ""
    if package == "psutil" and arm and r % 5 != 0:
        return "sdist", "psutil-5.9.8.tar.gz", "5.9.9"
    if package == "pywin32":
        return "n/a", "", ""
    tag = "manylinux_2_17_aarch64" if arm else "manylinux_2_17_x86_64"
    return "wheel", f"{package.replace('-', '_')}-x-cp312-cp312-{tag}.whl", ""


def _summary(r: int, packages: list[tuple[str, str]], targets: tuple[str, ...]) -> dict:
    summary = {}
    for t in targets:
        counts = dict.fromkeys(("wheel", "sdist", "none", "unknown", "n/a"), 0)
        for name, _ in packages:
            counts[_cell(r, name, t)[0]] += 1
        blockers = counts["none"] + (1 if r % 4 == 0 and t != "linux/amd64" else 0)
        summary[t] = {**counts, "blockers": blockers, "ready": blockers == 0 and counts["sdist"] == 0}
    return summary


def seed_org(
    *,
    repos: int,
    packages: int = 12,
    targets: tuple[str, ...] = TARGETS,
    weeks: int = 3,
    teams: int = 3,
    prefix: str = "svc",
    now: dt.datetime | None = None,
    rollups: bool = True,
) -> SeededOrg:
    now = now or timezone.now()
    weeks = max(weeks, 1)
    pkgs = _packages(packages)
    team_rows = Team.objects.bulk_create([Team(name=f"team-{k}") for k in range(teams)])
    repo_rows = Repo.objects.bulk_create(
        [
            Repo(
                name=f"{prefix}-{r:04d}",
                url=f"https://git.example.test/acme/{prefix}-{r:04d}.git",
                team=team_rows[r % teams] if teams else None,
            )
            for r in range(repos)
        ],
        batch_size=_BATCH,
    )
    target_json = [
        {"id": t, "platform": t, "python": "3.12", "libc": "glibc", "libc_version": "2.36", "origin": "default"}
        for t in targets
    ]
    scans: list[Scan] = []
    for r, repo in enumerate(repo_rows):
        summary = _summary(r, pkgs, targets)
        for w in range(weeks - 1, -1, -1):
            finished = now - dt.timedelta(weeks=w, minutes=r % 600)
            scans.append(
                Scan(
                    repo=repo,
                    state=Scan.State.DONE,
                    trigger="schedule",
                    commit=f"{r:08x}{w:032x}",
                    requested_at=finished - dt.timedelta(minutes=1),
                    started_at=finished - dt.timedelta(minutes=1),
                    finished_at=finished,
                    heartbeat_at=finished,
                    progress=100,
                    analyser_version="1",
                    targets=target_json,
                    summary=summary,
                    unchanged=bool(r % 2 and w == 0 and weeks > 1),
                )
            )
    scans = Scan.objects.bulk_create(scans, batch_size=_BATCH)
    # requested_at is auto_now_add: put the history back in time where it belongs.
    for s in scans:
        s.requested_at = s.finished_at - dt.timedelta(minutes=1)
    latest: dict[str, Scan] = {}
    holders: dict[int, Scan] = {}
    pointing: list[Scan] = []
    for r, repo in enumerate(repo_rows):
        own = scans[r * weeks : (r + 1) * weeks]
        latest_scan = own[-1]
        latest[repo.name] = latest_scan
        repo.latest_scan = latest_scan
        if latest_scan.unchanged:
            latest_scan.results_from = own[-2]
            pointing.append(latest_scan)
            holders[r] = own[-2]
        else:
            holders[r] = latest_scan
    Scan.objects.bulk_update(scans, ["requested_at"], batch_size=_BATCH)
    Scan.objects.bulk_update(pointing, ["results_from"], batch_size=_BATCH)
    Repo.objects.bulk_update(repo_rows, ["latest_scan"], batch_size=_BATCH)

    verdicts: list[Verdict] = []
    findings: list[ScanFinding] = []
    for r, holder in holders.items():
        for i, (name, version) in enumerate(pkgs):
            for t in targets:
                status, file, fix = _cell(r, name, t)
                verdicts.append(
                    Verdict(
                        scan_id=holder.pk,
                        package=name,
                        version=version,
                        target=t,
                        status=status,
                        file=file,
                        fix_version=fix,
                        lockfile="uv.lock",
                        direct=i < 5,
                        pure=False,
                        reason=f"{status} for {t}",
                        # as the engine stores it: no release has a wheel and nothing else helps
                        upstream=status == "none" and not fix,
                    )
                )
            if len(verdicts) >= _BATCH:
                Verdict.objects.bulk_create(verdicts, batch_size=_BATCH)
                verdicts = []
        if r % 4 == 0:
            findings.append(
                ScanFinding(
                    scan_id=holder.pk,
                    path="Dockerfile",
                    line=1,
                    rule="platform-pinned",
                    severity="blocker",
                    message="FROM --platform=linux/amd64 pins the final image to linux/amd64: it is emulated on arm64 hosts",
                )
            )
    Verdict.objects.bulk_create(verdicts, batch_size=_BATCH)
    ScanFinding.objects.bulk_create(findings, batch_size=_BATCH)
    if rollups:
        _seed_rollups(repo_rows, pkgs, targets, weeks=weeks, teams=team_rows, today=timezone.localdate(now))
    return SeededOrg(teams=tuple(team_rows), repos=tuple(repo_rows), latest=latest)


def _seed_rollups(repos, pkgs, targets, *, weeks: int, teams, today: dt.date) -> None:
    rows: list[Rollup] = []
    current = {r: _summary(r, pkgs, targets) for r in range(len(repos))}
    for d in range(weeks * 7 + 1):
        day = today - dt.timedelta(days=d)
        org: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        per_team: dict[tuple[int, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for r, repo in enumerate(repos):
            for t in targets:
                s = dict(current[r][t])
                if r % 3 == 1 and d >= 7 * (1 + r % weeks):
                    s = {**s, "blockers": s["blockers"] + 1, "ready": False}
                state = repo_state(s)
                counts = {"repos": 1, state: 1, "blockers": s["blockers"]}
                rows.append(rollup_row(day, Rollup.Scope.REPO, t, counts, repo_id=repo.pk, team_id=repo.team_id))
                for bucket in (org[t], per_team[(repo.team_id, t)] if repo.team_id else None):
                    if bucket is not None:
                        for k, v in counts.items():
                            bucket[k] += v
        rows += [rollup_row(day, Rollup.Scope.ORG, t, c) for t, c in org.items()]
        rows += [rollup_row(day, Rollup.Scope.TEAM, t, c, team_id=team_id) for (team_id, t), c in per_team.items()]
        if len(rows) >= 50_000:
            Rollup.objects.bulk_create(rows, batch_size=_BATCH)
            rows = []
    Rollup.objects.bulk_create(rows, batch_size=_BATCH)


# -- fixtures shared by the view and export tests (import them by name into a test module) ----------

import pytest  # noqa: E402


@pytest.fixture
def viewer_client(client, db):
    """A logged-in viewer (not an admin): browses, cannot trigger scans."""
    client.force_login(make_user("viewer"))
    return client


@pytest.fixture
def admin_client_(client, db):
    """A logged-in manager: may trigger scans, triage, run campaigns."""
    client.force_login(make_user("boss", role="manager"))
    return client
