"""``weekly_report --preview [--team T] [--out DIR]`` renders this week's report; ``--send`` sends what is due;
``--resend ID`` sends one stuck report again.

``--send`` is what beat's hourly task runs: safe to run any number of times, a report already
sent this ISO week is never sent again. A report whose sender died mid-send stays ``sending``
(it may have gone out); ``--preview`` lists such reports, and ``--resend ID`` is the operator's
explicit "it did not arrive, send it".
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from readiness.services.reports import (
    ResendRefused,
    UnknownTeams,
    report_preview,
    report_resend,
    reports_send_due,
    stuck_reports,
)


class Command(BaseCommand):
    help = "Preview the weekly email report (HTML to a file, text to stdout), or send every report due now."

    def add_arguments(self, parser) -> None:
        mode = parser.add_mutually_exclusive_group(required=True)
        mode.add_argument("--preview", action="store_true", help="render this week's report without sending it")
        mode.add_argument("--send", action="store_true", help="send every report due now (idempotent)")
        mode.add_argument(
            "--resend",
            type=int,
            metavar="ID",
            help="send report ID again: one stuck in 'sending' (check the mailbox first) or given up",
        )
        parser.add_argument("--team", help="--preview: one team's report (default: the whole organisation)")
        parser.add_argument(
            "--out", type=Path, help="--preview: directory for the HTML file (default: a temporary one)"
        )

    def handle(
        self, *args, preview: bool, send: bool, resend: int | None, team: str | None, out: Path | None, **options
    ) -> None:
        if resend is not None:
            if team or out:
                raise CommandError("--team and --out only apply to --preview")
            try:
                report = report_resend(report_id=resend)
            except ResendRefused as exc:
                raise CommandError(str(exc)) from None
            if report.state != report.State.SENT:
                raise CommandError(f"report #{report.pk} failed again: {report.error}")
            self.stdout.write(f"report #{report.pk} sent to {report.to}")
            return
        if send:
            if team or out:
                raise CommandError("--team and --out only apply to --preview")
            result = reports_send_due()
            if result.week is None:
                self.stderr.write("nothing due: this week's report time has not come yet")
                return
            c = result.counts()
            self.stdout.write(
                f"week {result.week.isocalendar()[0]}-W{result.week.isocalendar()[1]:02d}: sent {c['sent']}, failed {c['failed']}, skipped {c['skipped']}"
            )
            if result.failed:
                raise CommandError(f"{len(result.failed)} report(s) failed; they are retried by the next run")
            return
        try:
            rendered = report_preview(team=team)
        except UnknownTeams as exc:
            raise CommandError(str(exc)) from None
        directory = out or Path(tempfile.mkdtemp(prefix="weekly-report-"))
        try:
            directory.mkdir(parents=True, exist_ok=True)
            stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
            path = directory / f"weekly-report-{team or 'org'}-{stamp}.html".replace("/", "_")
            path.write_text(rendered.html, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"{directory}: cannot write the preview: {exc.strerror}") from None
        for stuck in stuck_reports():
            self.stderr.write(
                f"report #{stuck.pk} ({stuck.iso_week} to {stuck.subscription.user.email}) has been stuck in 'sending' "
                f"since {stuck.claimed_at:%Y-%m-%d %H:%M %Z}: check the mailbox, then weekly_report --resend {stuck.pk}"
            )
        self.stdout.write(f"Subject: {rendered.subject}")
        self.stdout.write(f"HTML: {path}")
        self.stdout.write("")
        self.stdout.write(rendered.text)
