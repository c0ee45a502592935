"""``demo [--no-serve] [--port 8000] [--rebuild]``: a scanned demo organisation and the dashboard.

Zero configuration: SQLite and in-process scans. With ``CELERY_BROKER_URL`` set the current
scans go to Celery; this command then starts one worker itself (and stops it on exit), so the
demo still needs a single command.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from readiness.celery import app as celery_app
from readiness.celery import worker_command
from readiness.models import NotificationRule, Repo
from readiness.services.demo import DemoError, demo_setup
from readiness.services.notification_channels import masked_url
from readiness.services.notifications import RuleError, notify_history, rule_add

DEMO_NOTIFY_EVENTS = ("repo-became-ready", "repo-newly-blocked", "scan-failed", "campaign-at-risk")


class Command(BaseCommand):
    help = "Build and scan a demo organisation from examples/, print a login, and serve the dashboard."

    def add_arguments(self, parser):
        parser.add_argument("--no-serve", action="store_true", help="set up and scan, then exit")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--rebuild", action="store_true", help="rebuild the demo git repositories")
        parser.add_argument("--examples", type=Path, default=settings.BASE_DIR / "examples", help=argparse.SUPPRESS)
        parser.add_argument(
            "--notify",
            metavar="URL",
            help="send notifications to this webhook (e.g. `notify listen`'s http://127.0.0.1:9000/): "
            "the history's repos that became ready or blocked now, later scans' events as they happen",
        )
        parser.add_argument("--notify-channel", default="webhook", choices=["webhook", "slack", "teams"])
        parser.add_argument("--notify-secret", default="", help="the webhook's HMAC key (notify listen --secret)")

    def handle(self, *args, **opts):
        port = opts["port"]
        if not 0 < port < 65536:
            raise CommandError(f"--port {port}: not a TCP port", returncode=2)
        self._say("migrating the database")
        call_command("migrate", interactive=False, verbosity=0)
        # The Celery app's own mode, not the setting: tests (and CELERY_TASK_ALWAYS_EAGER) run in-process.
        if opts["notify"]:
            self._notify_rules(opts["notify"], opts["notify_channel"], opts["notify_secret"])
        worker = None if celery_app.conf.task_always_eager else self._start_worker()
        try:
            result = demo_setup(
                examples_dir=opts["examples"],
                repos_dir=settings.VAR_DIR / "demo-repos",
                password_file=settings.VAR_DIR / "demo-password",
                rebuild=opts["rebuild"],
                progress=self._say,
            )
            if opts["notify"]:
                repo_ids = list(Repo.objects.filter(name__in=result.repos).values_list("pk", flat=True))
                sent = notify_history(repo_ids=repo_ids)
                self._say(f"notifications: {sent} from the demo's history (repos that became ready or blocked)")
        except DemoError as exc:
            raise CommandError(str(exc), returncode=2) from None
        finally:
            if worker is not None and opts["no_serve"]:
                self._stop_worker(worker)
        for line in result.failed:
            self.stderr.write(f"  failed: {line}")
        if result.index_problem:
            self.stderr.write(
                self.style.WARNING(
                    f"WARNING: the package index {result.index_url} could not be reached, so verdicts are "
                    "'unknown'. Set READINESS_INDEX_URL to an index this machine can reach and run the demo again."
                )
            )
        self.stdout.write(
            f"demo organisation: {len(result.repos)} repositories, {result.backfilled} backfilled scans, "
            f"{len(result.scans)} current scans, {result.rollups} roll-up rows"
        )
        self.stdout.write(
            self.style.SUCCESS(f"Log in at http://127.0.0.1:{port}/ as {result.username} / {result.password}")
        )
        if opts["no_serve"]:
            return
        try:
            # --insecure: serve static/ (CSS, JS, plotly) without DEBUG, as the demo has no web server in front.
            call_command("runserver", f"127.0.0.1:{port}", use_reloader=False, insecure_serving=True)
        finally:
            if worker is not None:
                self._stop_worker(worker)

    def _notify_rules(self, url: str, channel: str, secret: str) -> None:
        """One rule per event the demo can show, to ``url`` (made once: a second run reuses them)."""
        for event in DEMO_NOTIFY_EVENTS:
            name = f"demo: {event}"
            if NotificationRule.objects.filter(name=name, target=url, channel=channel).exists():
                continue
            try:
                rule_add(name=name, event=event, channel=channel, target=url, secret=secret)
            except RuleError as exc:
                raise CommandError(f"--notify: {exc}", returncode=2) from None
        self._say(f"notifying {masked_url(url)} of {', '.join(DEMO_NOTIFY_EVENTS)}")

    def _say(self, line: str) -> None:
        self.stdout.write(f"demo: {line}")
        self.stdout.flush()

    def _start_worker(self) -> subprocess.Popen:
        """One Celery worker for the demo's scans, in its own process group so it can be stopped whole."""
        self._say("starting a Celery worker (celery -A readiness worker)")
        log_path = settings.VAR_DIR / "demo-worker.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(log_path, "ab")
        proc = subprocess.Popen(
            worker_command(name=f"demo-{os.getpid()}@%h"),
            cwd=settings.BASE_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self._say(f"worker pid {proc.pid}, log in {log_path}")
        return proc

    def _stop_worker(self, proc: subprocess.Popen) -> None:
        if proc.poll() is not None:
            return
        self._say(f"stopping the Celery worker (pid {proc.pid})")
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
