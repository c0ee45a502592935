"""Rows a scan writes come back as they were given, whichever way they were inserted (COPY on
PostgreSQL, ``bulk_create`` elsewhere): text that COPY must escape, JSON, NULLs and booleans."""

from __future__ import annotations

import pytest

from readiness.models import Repo, Scan, ScanFinding, Verdict
from readiness.services.bulk_insert import insert_instances, insert_rows, row_type

pytestmark = pytest.mark.django_db

AWKWARD = "tab\there, newline\nthere, a backslash \\N and \\\\, quotes ' \" and ünïcödé ✓"


def test_rows_come_back_as_given():
    scan = Scan.objects.create(repo=Repo.objects.create(name="svc", url="file:///tmp/svc"), trigger="manual")
    given = [
        Verdict(
            scan_id=scan.pk,
            package="numpy",
            version="1.26.4",
            target="linux/arm64",
            status="wheel",
            file="numpy-1.26.4-cp311-cp311-manylinux_2_17_aarch64.whl",
            pure=False,
            direct=True,
            via=[],
            reason="a wheel",
            lockfile="requirements.txt",
        ),
        Verdict(
            scan_id=scan.pk,
            package="never-arm",
            version="",
            target="linux/amd64",
            status="none",
            upstream=True,
            direct=None,
            via=[["app", "never-arm"], ["tool", AWKWARD]],
            reason=AWKWARD,
            lockfile="services/api/requirements.txt",
        ),
    ]
    insert_rows(Verdict, given)
    fields = [f.attname for f in Verdict._meta.concrete_fields if not f.primary_key]
    stored = sorted(Verdict.objects.values_list(*fields), key=lambda row: row[fields.index("package")])
    expected = sorted(
        (tuple(getattr(v, f) for f in fields) for v in given), key=lambda row: row[fields.index("package")]
    )
    assert stored == expected
    assert Verdict.objects.get(package="never-arm").via[1] == ["tool", AWKWARD]

    insert_rows(ScanFinding, [])  # nothing to insert: no statement, no error
    assert not ScanFinding.objects.exists()


def test_row_tuples_come_back_as_instances_would():
    # A scan writes row_type tuples (no model instances): the same columns, the same values.
    scan = Scan.objects.create(repo=Repo.objects.create(name="svc", url="file:///tmp/svc"), trigger="manual")
    fields = [f.attname for f in Verdict._meta.concrete_fields if not f.primary_key]
    assert list(row_type(Verdict)._fields) == fields
    given = [
        row_type(Verdict)(
            scan_id=scan.pk,
            package="never-arm",
            version="2.0",
            target="linux/arm64",
            status="none",
            file="",
            pure=False,
            fix_version="",
            relock_file="",
            upstream=True,
            lockfile="uv.lock",
            direct=None,
            via=[["app", AWKWARD]],
            reason=AWKWARD,
        )
    ]
    insert_rows(Verdict, given)
    assert list(Verdict.objects.values_list(*fields)) == [tuple(given[0])]


def test_inserted_instances_get_their_keys_and_come_back_as_given():
    # The unchanged scans an organisation scan records: JSON columns of a few kilobytes, keys
    # needed afterwards (repos point at them), requested_at filled in as an INSERT would.
    repos = [Repo.objects.create(name=f"svc-{i}", url=f"file:///tmp/svc-{i}") for i in range(3)]
    earlier = Scan.objects.create(repo=repos[0], trigger="manual")
    provenance = {"pages": {f"pkg-{i}": "2026-12-07T10:00:00+00:00" for i in range(200)}, "note": AWKWARD}
    given = [
        Scan(repo=r, trigger="schedule", state=Scan.State.DONE, unchanged=True, provenance=provenance, commit="a" * 40)
        for r in repos
    ]

    insert_instances(Scan, given)

    assert all(s.pk is not None and s.pk > earlier.pk for s in given) and len({s.pk for s in given}) == 3
    for scan in given:
        stored = Scan.objects.get(pk=scan.pk)
        assert (stored.repo_id, stored.provenance, stored.unchanged) == (scan.repo_id, provenance, True)
        assert stored.requested_at is not None
    later = Scan.objects.create(repo=repos[1], trigger="manual")  # the sequence moved past the keys taken
    assert later.pk > max(s.pk for s in given)
