"""The repository page says why a transitive package is there (issue 8: dependency chains)."""

from __future__ import annotations

from django.utils import timezone

from readiness.models import Repo, Scan, Verdict
from tests.readiness.factories import viewer_client  # noqa: F401 - pytest fixture


def test_transitive_blocker_shows_its_chain(viewer_client, db):  # noqa: F811
    repo = Repo.objects.create(name="svc", url="file:///nowhere")
    scan = Scan.objects.create(
        repo=repo,
        state=Scan.State.DONE,
        finished_at=timezone.now(),
        commit="a" * 40,
        targets=[{"id": "linux/arm64"}],
        summary={"linux/arm64": {"none": 1, "blockers": 1, "ready": False}},
    )
    Verdict.objects.create(
        scan=scan,
        package="wcwidth",
        version="0.9.4",
        target="linux/arm64",
        status="none",
        lockfile="uv.lock",
        direct=False,
        via=[["celery", "click-repl", "prompt-toolkit"], ["celery", "kombu", "x", "prompt-toolkit"]],
    )
    Verdict.objects.create(
        scan=scan,
        package="celery",
        version="5.6",
        target="linux/arm64",
        status="wheel",
        lockfile="uv.lock",
        direct=True,
        via=None,
    )
    repo.latest_scan = scan
    repo.save()

    page = viewer_client.get("/repos/svc/").content.decode()
    assert "via celery → click-repl → prompt-toolkit" in page  # the shortest chain first
    assert "1 more chain</summary>" in page  # the others on request
    assert "via celery → kombu → x → prompt-toolkit" in page


def test_blockers_page_and_email_say_what_pulls_a_blocker_in(viewer_client, db):  # noqa: F811
    from django.utils import timezone as tz

    from readiness.emails import weekly_report_render
    from readiness.queries.weekly_report import weekly_report

    for i in range(3):
        repo = Repo.objects.create(name=f"svc-{i}", url="file:///nowhere")
        scan = Scan.objects.create(
            repo=repo,
            state=Scan.State.DONE,
            finished_at=timezone.now(),
            targets=[{"id": "linux/arm64"}],
            summary={"linux/arm64": {"none": 1, "blockers": 1, "ready": False}},
        )
        Verdict.objects.create(
            scan=scan,
            package="wcwidth",
            version="0.9.4",
            target="linux/arm64",
            status="none",
            lockfile="uv.lock",
            direct=False,
            via=[["celery" if i < 2 else "rich", "x"]],
        )
        repo.latest_scan = scan
        repo.save()
    page = viewer_client.get("/blockers/").content.decode()
    assert "pulled in by celery (2 repos), rich (1 repo)" in page
    today = tz.localdate()
    report = weekly_report(teams=[], week=today, today=today, site_root="http://r.test")
    rendered = weekly_report_render(report)
    assert "(pulled in by celery, rich)" in rendered.text
    assert "pulled in by celery, rich" in rendered.html
