"""Organisation scans: unchanged repos are settled without a task, changed ones are scanned."""

from __future__ import annotations

from readiness.models import Scan, Verdict
from readiness.services.organisation import organisation_scan
from tests.readiness.scan_support import org_repos
from tests.scanners.git_helpers import commit_files


def test_second_run_records_unchanged_repos_and_rescans_the_moved_one(
    db, tmp_path, scan_index, django_capture_on_commit_callbacks
):
    repos = org_repos(tmp_path, 4)
    with django_capture_on_commit_callbacks(execute=True):  # eager: every queued scan runs on commit
        first = organisation_scan(trigger="schedule")
    done_before = {s.repo_id: Scan.objects.get(pk=s.pk) for s in first}
    assert [(s.state, s.error) for s in done_before.values()] == [("done", "")] * 4
    rows_before = Verdict.objects.count()

    moved_repo, _ = repos[1]
    path = tmp_path / "repos" / moved_repo.name
    commit_files(path, {"requirements.txt": "numpy==1.26.4\n"}, "drop filprofiler")
    scan_index.clear_requests()

    with django_capture_on_commit_callbacks(execute=True) as queued:
        requested = organisation_scan(trigger="schedule")
    second = {s.repo_id: Scan.objects.get(pk=s.pk) for s in requested}
    assert len(queued) == 1  # one task, for the repo that moved
    assert len(second) == 4
    unchanged = [s for s in second.values() if s.unchanged]
    assert {s.repo_id for s in unchanged} == {r.pk for r, _ in repos} - {moved_repo.pk}
    for s in unchanged:
        assert s.state == Scan.State.DONE
        assert s.results_from_id == done_before[s.repo_id].result_scan_id
        assert s.summary == done_before[s.repo_id].summary
        assert s.repo.latest_scan_id == s.pk
    moved = second[moved_repo.pk]
    assert not moved.unchanged and moved.state == Scan.State.DONE
    assert not Verdict.objects.filter(scan=moved, package="filprofiler").exists()
    # Only the moved repo wrote rows; nothing was asked of the index (its pages are fresh).
    assert Verdict.objects.count() == rows_before + Verdict.objects.filter(scan=moved).count()
    assert scan_index.page_requests() == []


def test_deep_scan_records_a_mislabelled_wheel(db, tmp_path, scan_index, django_capture_on_commit_callbacks):
    from readiness.models import ScanFinding
    from tests.readiness.scan_support import repo_row
    from tests.scanners.git_helpers import make_repo

    scan_index.add_project(
        "mislabel",
        [
            {
                "filename": "mislabel-1.0-py3-none-any.whl",
                "x-members": [("mislabel/_speedups.cpython-312-x86_64-linux-gnu.so", b"\x7fELF")],
            }
        ],
    )
    repo = repo_row("deep", make_repo(tmp_path, {"requirements.txt": "mislabel==1.0\n"}))
    with django_capture_on_commit_callbacks(execute=True):
        (plain,) = organisation_scan(trigger="manual", repos=[repo])
    assert not ScanFinding.objects.filter(scan_id=plain.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        (deep,) = organisation_scan(trigger="manual", repos=[repo], deep=True)
    deep.refresh_from_db()
    assert deep.deep and not deep.unchanged  # a deep scan never reuses a shallow answer
    (finding,) = ScanFinding.objects.filter(scan_id=deep.pk)
    assert (finding.path, finding.rule, finding.severity) == ("requirements.txt", "mislabelled-wheel", "warning")


def test_upstream_metadata_reuses_the_cached_project_page(db, tmp_path, scan_index, django_capture_on_commit_callbacks):
    """A blocker's upstream draft needs the project's URLs: read from the page the scan cached, not fetched again."""
    from readiness.models import ProjectMetadata, UpstreamSuggestion
    from tests.readiness.scan_support import repo_row
    from tests.scanners.git_helpers import make_repo

    # amd64 wheels only, in every release: only upstream can help (and no replacement is known).
    scan_index.add_project(
        "never-arm",
        [
            {
                "filename": "never_arm-1.0-cp312-cp312-manylinux_2_17_x86_64.whl",
                "x-metadata": ["Project-URL: Issues, https://github.com/example-org/never-arm/issues"],
            }
        ],
    )
    repo = repo_row("svc", make_repo(tmp_path, {"requirements.txt": "never-arm==1.0\n"}))
    scan_index.clear_requests()
    with django_capture_on_commit_callbacks(execute=True):
        organisation_scan(trigger="manual", repos=[repo])
    assert UpstreamSuggestion.objects.filter(package="never-arm").exists()
    assert ProjectMetadata.objects.filter(package="never-arm", error="").exists()
    assert len(scan_index.page_requests("never-arm")) == 1  # the scan's own request, nothing more
