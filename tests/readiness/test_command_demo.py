"""``manage.py demo --no-serve`` end to end on the fixture index, and the repo builder behind it."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import socket
import subprocess
import textwrap
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from readiness.models import NotificationDelivery, Repo, Rollup, Scan, Team, Verdict
from readiness.services.demo import DEMO_SOURCE, DemoError, demo_build_repos, demo_examples
from tests.support.chat_receivers import Receiver

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout


def _commit_dates(repo: Path) -> list[dt.datetime]:
    return [dt.datetime.fromisoformat(line) for line in _git(repo, "log", "--reverse", "--format=%cI", "main").split()]


def _run_demo(*args: str) -> str:
    out = io.StringIO()
    call_command("demo", "--no-serve", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def demo_settings(settings, tmp_path, recorded_index):
    # The examples' locks carry the public index's hashes: the index must advertise the same ones.
    settings.VAR_DIR = tmp_path / "var"
    settings.READINESS_INDEX_URL = recorded_index.url
    return settings


@pytest.mark.django_db(transaction=True)
def test_demo_builds_scans_and_is_idempotent(demo_settings):
    first = _run_demo()

    names = sorted(p.parent.name for p in EXAMPLES.glob("*/history.toml"))
    repos = Repo.objects.filter(managed_by=DEMO_SOURCE).order_by("name")
    assert list(repos.values_list("name", flat=True)) == names
    assert {r.team.name for r in repos} >= {"payments", "data", "finance"}
    assert all(Path(r.url, ".git").is_dir() and r.branch == "main" for r in repos)

    user = get_user_model().objects.get(username="demo")
    password = (demo_settings.VAR_DIR / "demo-password").read_text().strip()
    assert user.is_staff and user.check_password(password)
    assert f"Log in at http://127.0.0.1:8000/ as demo / {password}" in first

    # Backfilled points every week across the history, oldest first; then one current scan per repo.
    for repo in repos:
        points = list(
            Scan.objects.filter(repo=repo, trigger="backfill").order_by("as_of").values_list("as_of", flat=True)
        )
        assert len(points) >= 8
        assert all(b - a == dt.timedelta(weeks=1) for a, b in zip(points, points[1:]))
        repo.refresh_from_db()
        assert repo.latest_scan.as_of is None
        assert repo.latest_scan.state in Scan.FINISHED_WITH_RESULTS
    payments = repos.get(name="payments-api")
    old, new = (Scan.objects.filter(repo=payments, trigger="backfill").order_by("as_of")[i] for i in (0, 12))
    assert (old.as_of.date() - new.as_of.date()).days == -84
    # The history is real: psutil went from 5.9.8 to 6.0.0 ten weeks ago.
    assert (
        Verdict.objects.filter(scan=old.result_scan_id, package="psutil").values_list("version", flat=True).first()
        == "5.9.8"
    )
    assert (
        Verdict.objects.filter(scan=new.result_scan_id, package="psutil").values_list("version", flat=True).first()
        == "6.0.0"
    )
    # A package the fixture index records gets a real verdict; one it lacks is unknown.
    current = payments.latest_scan.result_scan_id
    assert set(Verdict.objects.filter(scan=current, package="psutil").values_list("status", flat=True)) == {"wheel"}
    assert set(Verdict.objects.filter(scan=current, package="stripe").values_list("status", flat=True)) == {"unknown"}

    days = Rollup.objects.filter(scope=Rollup.Scope.ORG).values_list("day", flat=True).distinct()
    assert (max(days) - min(days)).days >= 12 * 7
    assert Rollup.objects.filter(scope=Rollup.Scope.REPO, repo=payments).exists()
    assert Rollup.objects.filter(scope=Rollup.Scope.TEAM).exists()

    # One active campaign with a past (its burndown), a few triaged blockers, and the weekly email
    # opening with the campaign's status.
    from readiness.models import BlockerTriage, Campaign
    from readiness.queries.campaigns import campaign_page
    from readiness.services.reports import report_preview

    (campaign,) = Campaign.objects.all()
    assert (campaign.name, campaign.targets, campaign.closed_at) == ("arm64 by end of quarter", ["linux/arm64"], None)
    page = campaign_page(slug=campaign.slug)
    assert len(page.burndown) > 7 * 7 and page.at_start is not None
    assert page.burndown[0][1] > page.burndown[-1][1]  # fewer repos blocked than at the start
    assert page.status.word in ("on track", "at risk", "done")
    assert BlockerTriage.objects.count() >= 2
    assert set(BlockerTriage.objects.values_list("state", flat=True)) <= {"assigned", "acknowledged", "accepted"}
    head = report_preview(team=None).text.split("\n== ", 1)[0]
    assert head.count("- arm64 by end of quarter: ") == 1 and "/campaigns/arm64-by-end-of-quarter/" in head

    counts = (Repo.objects.count(), Team.objects.count(), Scan.objects.filter(trigger="backfill").count())
    triaged = BlockerTriage.objects.count()
    heads = {r.name: _git(Path(r.url), "rev-parse", "HEAD") for r in repos}
    # Wired to a local receiver in one option: the history's transitions arrive, signed.
    with Receiver("webhook", secret="demo-key") as hook:
        second = _run_demo("--notify", hook.url, "--notify-secret", "demo-key")
        received = [r.json() for r in hook.received]
    assert hook.bad_signatures == 0
    assert "notifying http://" in second and "/hooks/" not in second  # the URL's path is never printed
    ready = {r["title"]: r["items"] for r in received if r["event"] == "repo-became-ready"}
    # analytics-etl upgraded psutil (5.9.8 had no aarch64 wheel) four weeks ago
    assert ready["analytics-etl is ready on linux/arm64"][0]["package"] == "psutil"
    assert ready["analytics-etl is ready on linux/arm64"][0]["version"] == "5.9.8"
    assert NotificationDelivery.objects.filter(state="sent").count() == len(received)
    assert (Repo.objects.count(), Team.objects.count(), Scan.objects.filter(trigger="backfill").count()) == counts
    assert {r.name: _git(Path(r.url), "rev-parse", "HEAD") for r in repos} == heads
    assert f"as demo / {password}" in second
    assert get_user_model().objects.filter(username="demo").count() == 1
    assert (Campaign.objects.count(), BlockerTriage.objects.count()) == (1, triaged)  # nothing added twice


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/simple/"


@pytest.mark.django_db(transaction=True)
def test_demo_without_an_index_completes_with_unknown_verdicts(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    settings.READINESS_INDEX_URL = _closed_port_url()
    examples = tmp_path / "examples"
    shutil.copytree(EXAMPLES / "legacy-billing", examples / "legacy-billing")  # its lock lists no files
    err = io.StringIO()
    out = io.StringIO()
    call_command("demo", "--no-serve", "--examples", str(examples), stdout=out, stderr=err)

    assert "READINESS_INDEX_URL" in err.getvalue()
    assert "as demo / " in out.getvalue()
    repo = Repo.objects.get(name="legacy-billing")
    assert repo.latest_scan.state in Scan.FINISHED_WITH_RESULTS
    assert set(Verdict.objects.filter(scan=repo.latest_scan.result_scan_id).values_list("status", flat=True)) == {
        "unknown"
    }


def test_build_repos_dates_commits_and_rebuilds_only_changed_examples(tmp_path):
    examples = tmp_path / "examples"
    for name in ("payments-api", "reporting"):
        shutil.copytree(EXAMPLES / name, examples / name)
    now = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
    paths = demo_build_repos(examples_dir=examples, target_dir=tmp_path / "repos", now=now)

    assert [p.name for p in paths] == ["payments-api", "reporting"]
    assert _commit_dates(paths[0]) == [now - dt.timedelta(weeks=w) for w in (14, 10, 5)]
    assert "--platform" in _git(paths[0], "show", "main~2:Dockerfile")
    assert "--platform" not in (paths[0] / "Dockerfile").read_text()
    assert _git(paths[0], "status", "--porcelain") == ""

    heads = [_git(p, "rev-parse", "HEAD") for p in paths]
    (examples / "reporting" / "00-initial" / "Dockerfile").write_text("FROM python:3.10-slim\n")
    later = now + dt.timedelta(days=3)
    demo_build_repos(examples_dir=examples, target_dir=tmp_path / "repos", now=later)
    assert _git(paths[0], "rev-parse", "HEAD") == heads[0]
    assert _git(paths[1], "rev-parse", "HEAD") != heads[1]
    assert _commit_dates(paths[1]) == [later - dt.timedelta(weeks=11)]

    demo_build_repos(examples_dir=examples, target_dir=tmp_path / "repos", now=later, force=True)
    assert _git(paths[0], "rev-parse", "HEAD") != heads[0]

    shutil.rmtree(examples / "reporting")
    assert demo_build_repos(examples_dir=examples, target_dir=tmp_path / "repos") == [paths[0]]
    assert not paths[1].exists()


def test_build_repos_removes_paths_a_step_deletes(tmp_path):
    paths = demo_build_repos(examples_dir=_only(tmp_path, "ml-inference"), target_dir=tmp_path / "repos")
    files = set(_git(paths[0], "ls-files").split())
    assert files == {"Dockerfile", "pyproject.toml", "uv.lock"}
    assert "requirements.txt" in _git(paths[0], "ls-tree", "--name-only", "main~1").split()


def _only(tmp_path: Path, name: str) -> Path:
    shutil.copytree(EXAMPLES / name, tmp_path / "examples" / name)
    return tmp_path / "examples"


@pytest.mark.parametrize(
    ("history", "message"),
    [
        ("team = 'x'\n", "step: must be a non-empty array"),
        ("colour = 'red'\n[[step]]\ndir = 's'\nmessage = 'm'\n", "colour: unknown key"),
        ("[[step]]\ndir = 'missing'\nmessage = 'm'\n", "step[0].dir: 'missing' is not a directory"),
        ("[[step]]\ndir = 's'\n", "step[0].message: missing"),
        (
            "[[step]]\ndir = 's'\nmessage = 'm'\nweeks_ago = -1\n",
            "step[0]: weeks_ago and days_ago must be whole numbers",
        ),
        (
            "[[step]]\ndir = 's'\nmessage = 'm'\nweeks_ago = 1\n[[step]]\ndir = 's'\nmessage = 'n'\nweeks_ago = 2\n",
            "step[1]: older than the step before it",
        ),
        ("[[step]]\ndir = 's'\nmessage = 'm'\nremove = ['../x']\n", "step[0].remove: must be a list of paths inside"),
        ("[[step]\n", "history.toml: "),
    ],
)
def test_bad_history_names_file_and_key(tmp_path, history, message):
    example = tmp_path / "svc"
    (example / "s").mkdir(parents=True)
    (example / "history.toml").write_text(textwrap.dedent(history))
    with pytest.raises(DemoError, match="history.toml") as info:
        demo_examples(tmp_path)
    assert message in str(info.value)


def test_no_examples_is_an_error(tmp_path):
    with pytest.raises(DemoError, match="no example has a history.toml"):
        demo_examples(tmp_path)


@pytest.mark.django_db(transaction=True)
def test_bad_port_exits_2(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    with pytest.raises(CommandError) as info:
        call_command("demo", "--no-serve", "--port", "70000")
    assert info.value.returncode == 2
