"""scanners.check_run: the conclusion by policy, the summary's Markdown, the annotations."""

from __future__ import annotations

from scanners.check_run import MAX_ANNOTATIONS, MAX_ANNOTATIONS_TOTAL, annotation_batches, check_run_output
from scanners.compare import compare_reports
from tests.scanners.test_compare import PINNED, doc, package

BEFORE = doc(package("six", "1.16.0"))
AFTER = doc(
    package("six", "1.16.0"),
    package("filprofiler", "2022.5.0", arm64="none", line=2, fix="2024.11.2"),
    findings=[PINNED],
)


def output(before=BEFORE, after=AFTER, **kw):
    return check_run_output(compare_reports(before, after), base="`main` @ `c0ffee`", **kw)


def test_conclusion_follows_the_fail_targets_and_never_fail():
    assert output(fail_targets=None)["conclusion"] == "failure"
    assert output(fail_targets=["linux/arm64"])["conclusion"] == "failure"
    assert output(fail_targets=["linux/amd64"])["conclusion"] == "success"  # blocks arm64 only
    assert output(fail_targets=[])["conclusion"] == "success"
    assert output(fail_targets=None, never_fail=True)["conclusion"] == "neutral"
    assert output(before=AFTER, fail_targets=None)["conclusion"] == "success"  # nothing new


def test_summary_lists_new_blockers_with_their_fix_and_links_the_dashboard():
    out = output(fail_targets=["linux/arm64"], dashboard_url="https://r.example.test/repos/svc/")
    assert out["title"] == "2 new arm64 blockers"  # filprofiler added on amd64 counts once, as a blocker
    summary = out["summary"]
    assert summary.startswith("**2 new blockers** compared with `main` @ `c0ffee`.")
    assert "targets of active campaigns: linux/arm64" in summary
    assert "| filprofiler 2022.5.0 | linux/arm64 | none | `requirements.txt:2` | upgrade to 2024.11.2 |" in summary
    assert "[platform-pinned]" in summary
    assert summary.endswith("(https://r.example.test/repos/svc/)")


def test_annotations_point_at_the_lines_and_markdown_is_escaped():
    findings = [{**PINNED, "message": "a | b <script>"}]
    out = output(
        after=doc(package("filprofiler", "2022.5.0", arm64="none", line=2), findings=findings), fail_targets=None
    )
    lockfile, dockerfile = out["annotations"]
    assert (lockfile["path"], lockfile["start_line"], lockfile["annotation_level"]) == (
        "requirements.txt",
        2,
        "failure",
    )
    assert (dockerfile["path"], dockerfile["start_line"]) == ("Dockerfile", 1)
    assert "a \\| b &lt;script>" in out["summary"]


def test_every_annotation_up_to_the_cap_in_batches_of_fifty_and_the_rest_counted():
    many = [package(f"p{i}", "1.0", arm64="none", line=i + 1) for i in range(120)]
    out = output(after=doc(*many), fail_targets=None)
    assert len(out["annotations"]) == 120
    assert out["title"].startswith("120 new arm64 blockers")
    assert "not shown" not in out["summary"]
    batches = annotation_batches(out["annotations"])
    assert [len(b) for b in batches] == [50, 50, 20]
    assert sorted(a["start_line"] for b in batches for a in b) == list(range(1, 121))  # each once
    assert annotation_batches([]) == [[]]  # the completing request is sent even without annotations

    too_many = [package(f"p{i}", "1.0", arm64="none", line=i + 1) for i in range(MAX_ANNOTATIONS_TOTAL + 7)]
    out = output(after=doc(*too_many), fail_targets=None)
    assert len(out["annotations"]) == MAX_ANNOTATIONS_TOTAL
    assert len(annotation_batches(out["annotations"])) == MAX_ANNOTATIONS_TOTAL // MAX_ANNOTATIONS
    assert "7 annotations are not shown on the changed lines (at most 500 are posted)" in out["summary"]
