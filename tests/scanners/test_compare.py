"""scanners.compare: what a change does, from two archcheck/1 documents."""

from __future__ import annotations

from scanners.compare import change_counts, compare_reports, counts_sentence, made_worse, render_changes

TARGETS = [{"id": "linux/amd64"}, {"id": "linux/arm64"}]
NO_COMPILER = {
    "rule": "no-compiler-for-sdist",
    "line": 1,
    "severity": "blocker",
    "message": "psutil==5.9.8 has no wheel for this image, so pip builds it from source, but python:3.12-slim has no C compiler",
}
PINNED = {"rule": "platform-pinned", "line": 1, "severity": "blocker", "message": "FROM --platform=linux/amd64 pins"}


def package(name, version, *, amd64="wheel", arm64="wheel", line=1, lockfile="requirements.txt", fix=None):
    return {
        "name": name,
        "version": version,
        "lockfile": lockfile,
        "line": line,
        "advice": [{"kind": "upgrade", "title": f"upgrade to {fix}"}] if fix else [],
        "results": {
            "linux/amd64": {"status": amd64, "file": f"{name}-{version}-amd64.whl", "fix_version": fix},
            "linux/arm64": {"status": arm64, "file": f"{name}-{version}-arm64.whl", "fix_version": fix},
        },
    }


def doc(*packages, findings=(), commit="c0ffee"):
    return {
        "schema": "archcheck/1",
        "commit": commit,
        "source": "svc",
        "targets": TARGETS,
        "packages": list(packages),
        "dockerfiles": [{"path": "Dockerfile", "findings": list(findings)}] if findings else [],
    }


def test_a_new_package_without_an_arm64_wheel_is_a_new_blocker_on_arm64_only():
    before = doc(package("six", "1.16.0"))
    after = doc(package("six", "1.16.0"), package("filprofiler", "2022.5.0", arm64="none", line=2, fix="2024.11.2"))
    result = compare_reports(before, after)
    kinds = {(c["name"], c["target"]): c["kind"] for c in result["changes"]}
    assert kinds == {("filprofiler", "linux/amd64"): "added", ("filprofiler", "linux/arm64"): "new-blocker"}
    arm64 = next(c for c in result["changes"] if c["target"] == "linux/arm64")
    assert arm64["before"] is None
    assert arm64["after"]["status"] == "none" and arm64["after"]["line"] == 2
    assert arm64["after"]["fix"] == "upgrade to 2024.11.2"
    assert result["worse"] and made_worse(result)
    assert counts_sentence(result["counts"]) == "1 new blocker"


def test_what_was_broken_at_the_base_does_not_count():
    broken = package("filprofiler", "2022.5.0", arm64="none")
    before = doc(broken, findings=[PINNED])
    after = doc(broken, package("six", "1.16.0", line=2), findings=[{**PINNED, "line": 3}])  # the pin moved down
    result = compare_reports(before, after)
    assert [c["kind"] for c in result["changes"]] == ["added", "added"]
    assert result["finding_changes"] == []
    assert not result["worse"]


def test_wheel_to_sdist_blocks_only_without_a_compiler():
    before = doc(package("psutil", "6.0.0"))
    with_compiler = doc(package("psutil", "5.9.8", arm64="sdist"))
    assert [c["kind"] for c in compare_reports(before, with_compiler)["changes"]] == ["worse"]
    assert not compare_reports(before, with_compiler)["worse"]
    without = doc(package("psutil", "5.9.8", arm64="sdist"), findings=[NO_COMPILER])
    result = compare_reports(before, without)
    assert [(c["kind"], c["after"]["blocking"]) for c in result["changes"]] == [("new-blocker", True)]
    assert result["finding_changes"] == []  # the missing compiler is the package's blocker, counted once
    assert result["worse"]


def test_an_upgrade_that_brings_wheels_resolves_the_blocker_once_per_package():
    before = doc(
        package("pyyaml", "5.3.1", amd64="sdist", arm64="sdist"),
        findings=[{**NO_COMPILER, "message": "PyYAML==5.3.1 has no wheel"}],
    )
    after = doc(package("pyyaml", "5.4.1"))
    result = compare_reports(before, after)
    assert [(c["target"], c["kind"]) for c in result["changes"]] == [
        ("linux/amd64", "resolved"),
        ("linux/arm64", "resolved"),
    ]
    assert counts_sentence(result["counts"]) == "1 resolved"
    assert not result["worse"]
    assert "pyyaml 5.3.1 → 5.4.1  linux/arm64: sdist (no compiler) → wheel  requirements.txt:1" in render_changes(
        result, base="main"
    )


def test_removed_and_better_and_a_worst_of_two_lockfiles():
    before = doc(
        package("lxml", "4.9.3", arm64="sdist"),
        package("grpcio", "1.62.0", arm64="none", lockfile="a.txt"),
        package("grpcio", "1.62.0", lockfile="b.txt"),
        package("six", "1.16.0"),
    )
    after = doc(package("lxml", "5.1.0"), package("grpcio", "1.62.0", lockfile="b.txt"))
    result = compare_reports(before, after)
    kinds = {(c["name"], c["target"]): c["kind"] for c in result["changes"]}
    assert kinds == {
        ("lxml", "linux/arm64"): "better",
        ("grpcio", "linux/arm64"): "resolved",  # blocked while a.txt locked it: the worst entry counts
        ("six", "linux/amd64"): "removed",
        ("six", "linux/arm64"): "removed",
    }
    assert counts_sentence(result["counts"]) == "1 resolved, 1 better, 1 removed"


def test_n_a_counts_as_absent_and_unknown_is_worse_but_not_a_blocker():
    before = doc(package("uvloop", "0.19.0", arm64="n/a"), package("six", "1.16.0"))
    after = doc(package("uvloop", "0.19.0", arm64="none"), package("six", "1.16.0", arm64="unknown"))
    result = compare_reports(before, after)
    kinds = {(c["name"], c["target"]): c["kind"] for c in result["changes"]}
    assert kinds == {("uvloop", "linux/arm64"): "new-blocker", ("six", "linux/arm64"): "worse"}


def test_dockerfile_findings_new_resolved_and_counted_on_the_targets_they_block():
    before = doc(
        findings=[{"rule": "arch-specific-download", "line": 4, "severity": "warning", "message": "curl x86_64"}]
    )
    after = doc(findings=[PINNED])
    result = compare_reports(before, after)
    by_rule = {f["rule"]: f for f in result["finding_changes"]}
    assert by_rule["platform-pinned"]["kind"] == "new-blocker"
    assert by_rule["platform-pinned"]["targets"] == ["linux/arm64"]  # amd64 runs a pinned amd64 image
    assert by_rule["platform-pinned"]["after"] == {"severity": "blocker", "line": 1}
    assert by_rule["arch-specific-download"]["kind"] == "removed"
    assert result["worse"]
    assert change_counts(result, targets=["linux/amd64"])["new-blocker"] == 0
    assert change_counts(result, targets=["linux/arm64"])["new-blocker"] == 1
    assert "new blocker  Dockerfile:1: [platform-pinned]" in render_changes(result, base="main")


def test_no_change_and_bad_documents():
    same = doc(package("six", "1.16.0"))
    result = compare_reports(same, same)
    assert result["changes"] == [] and counts_sentence(result["counts"]) == "no change"
    # A base with nothing (a PR adding the first lockfile), and entries missing fields: no crash.
    odd = {"packages": [{"name": "x", "results": {"linux/arm64": {"status": "bogus"}}}], "dockerfiles": [{}]}
    assert compare_reports({}, odd)["changes"] == []
