"""scanners.index_as_of: the index as it was on a past day (backfill), by PEP 700 upload time."""

from __future__ import annotations

import datetime as dt

import pytest

from scanners.distributions import DistributionFile, ProjectFiles
from scanners.index import ProjectResult
from scanners.index_as_of import IndexAsOf

MARCH = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.UTC)


class _Source:
    """Answers from fixed results, and counts what it was asked (a real index is tested elsewhere)."""

    def __init__(self, results: dict[str, ProjectResult]) -> None:
        self.results = results
        self.asked: list[list[str]] = []

    def fetch_many(self, names, *, progress=None):
        names = list(names)
        self.asked.append(names)
        return {n: self.results[n] for n in names}


def _file(name: str, uploaded: str | None, **kw) -> DistributionFile:
    when = dt.datetime.fromisoformat(uploaded) if uploaded else None
    return DistributionFile(name, url=f"https://index.test/files/{name}", upload_time=when, **kw)


def _ok(name: str, *files: DistributionFile) -> ProjectResult:
    return ProjectResult(name=name, files=ProjectFiles(name, files), error=None, status="ok")  # type: ignore[arg-type]


def test_files_uploaded_after_the_moment_are_left_out_and_undated_ones_kept() -> None:
    sdist = _file("late-1.0.tar.gz", "2024-01-03T09:00:00+00:00")
    wheel = _file("late-1.0-cp39-abi3-manylinux_2_17_aarch64.whl", "2024-03-01T12:00:01+00:00")
    undated = _file("late-1.0-py3-none-any.whl", None)
    yanked = _file("late-0.9.tar.gz", "2023-01-01T00:00:00+00:00", yanked="broken")
    source = _Source(
        {"late": _ok("late", sdist, wheel, undated, yanked), "gone": ProjectResult("gone", None, "404", "not_found")}
    )  # type: ignore[arg-type]

    index = IndexAsOf(source, MARCH)
    results = index.fetch_many(["late", "gone"])

    assert results["late"].files is not None
    assert [f.filename for f in results["late"].files.files] == [sdist.filename, undated.filename, yanked.filename]
    assert results["late"].files.release("1.0") == (sdist, undated)
    assert results["late"].files.files[-1].yanked == "broken"  # no yank date exists: as it stands today
    assert results["gone"] is source.results["gone"]
    index.fetch_many(["late"])  # asked again (advice reads the page too): still one undated file
    assert index.undated == 1
    assert source.asked == [["late", "gone"], ["late"]]

    later = IndexAsOf(source, MARCH + dt.timedelta(seconds=1)).fetch_many(["late"])["late"]
    assert later is source.results["late"]  # nothing to leave out: the same result


def test_the_moment_must_say_its_time_zone() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        IndexAsOf(_Source({}), dt.datetime(2024, 3, 1))
