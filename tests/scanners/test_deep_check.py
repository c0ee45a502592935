"""Deep check: wheels whose files contradict their tags, read with Range requests from a real local index."""

from __future__ import annotations

import io
import struct
import zipfile

import httpx
import pytest

from scanners.deep_check import (
    deep_check_wheel,
    macho_architectures,
    needs_deep_check,
    parse_central_directory,
    parse_end_of_central_directory,
)
from scanners.index import IndexClient

ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 57


def fat(*cpus: int) -> bytes:
    """A Mach-O fat header with one slice per CPU type (and some padding that deflates)."""
    head = struct.pack(">II", 0xCAFEBABE, len(cpus))
    for i, cpu in enumerate(cpus):
        head += struct.pack(">IIIII", cpu, 3, 4096 * (i + 1), 4096, 12)
    return head + b"\x00" * 8192


X86_64, ARM64 = 0x01000007, 0x0100000C
THIN_ARM64 = b"\xcf\xfa\xed\xfe" + struct.pack("<I", ARM64) + b"\x00" * 24

WHEELS = {
    "mislabel-1.0-py3-none-any.whl": [["mislabel/_speedups.cpython-312-x86_64-linux-gnu.so", ELF]],
    "honest-1.0-py3-none-any.whl": [["honest/__init__.py", b"print('hi')\n"]],
    "halffat-1.0-cp312-cp312-macosx_11_0_universal2.whl": [["halffat/_core.cpython-312-darwin.so", fat(X86_64)]],
    "fullfat-1.0-cp312-cp312-macosx_11_0_universal2.whl": [
        ["fullfat/_core.cpython-312-darwin.so", fat(X86_64, ARM64)],
        ["fullfat/libx.dylib", fat(ARM64, X86_64)],
    ],
    "armonly-1.0-cp312-cp312-macosx_11_0_universal2.whl": [["armonly/_core.so", THIN_ARM64]],
}


@pytest.fixture
def index(make_fixture_index):
    server = make_fixture_index()
    for filename, members in WHEELS.items():
        server.add_project(filename.split("-")[0], [{"filename": filename, "x-members": [(n, d) for n, d in members]}])
    return server


def served_file(index, filename):
    with IndexClient(index.url, retries=0) as client:
        files = client.fetch_project(filename.split("-")[0]).files.files
    return next(f for f in files if f.filename == filename)


@pytest.mark.parametrize(
    ("filename", "flagged", "words"),
    [
        ("mislabel-1.0-py3-none-any.whl", True, "tagged pure Python but contains native code (mislabel/_speedups"),
        ("honest-1.0-py3-none-any.whl", False, ""),
        ("halffat-1.0-cp312-cp312-macosx_11_0_universal2.whl", True, "has x86_64 slices only (missing arm64)"),
        ("fullfat-1.0-cp312-cp312-macosx_11_0_universal2.whl", False, ""),
        ("armonly-1.0-cp312-cp312-macosx_11_0_universal2.whl", True, "has arm64 slices only (missing x86_64)"),
    ],
)
def test_deep_check_reads_only_ranges(index, filename, flagged, words):
    file = served_file(index, filename)
    index.clear_requests()
    with httpx.Client() as http:
        result = deep_check_wheel(file, http=http)
    assert result.error == ""
    assert bool(result.problems) is flagged
    if flagged:
        assert words in result.problems[0]
    file_requests = [r for r in index.requests if r.path.startswith("/files/")]
    assert file_requests and all(r.headers.get("range", "").startswith("bytes=") for r in file_requests)
    # Never the whole wheel: every answer was a slice (the tail, maybe the directory, member heads).
    assert len(file_requests) <= 1 + len(WHEELS[filename])


def test_platform_wheels_are_not_checked(fixture_index):
    with IndexClient(fixture_index.url, retries=0) as client:
        files = client.fetch_project("psutil").files.files
    linux = next(f for f in files if "manylinux" in f.filename)
    assert not needs_deep_check(linux)
    fixture_index.clear_requests()
    with httpx.Client() as http:
        assert deep_check_wheel(linux, http=http).problems == ()
    assert not [r for r in fixture_index.requests if r.path.startswith("/files/")]


def test_unreadable_wheel_is_an_error_not_a_crash(index):
    file = served_file(index, "mislabel-1.0-py3-none-any.whl")
    index.stop()
    with httpx.Client() as http:
        result = deep_check_wheel(file, http=http, timeout=2)
    assert result.error.startswith("cannot read mislabel-1.0-py3-none-any.whl")


def test_zip_parsing_with_a_comment():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a/x.so", ELF)
        zf.writestr("a/y.py", b"")
        zf.comment = b"c" * 300
    data = buf.getvalue()
    offset, size = parse_end_of_central_directory(data[-1000:], file_size=len(data))
    members = parse_central_directory(data[offset : offset + size])
    assert [m.name for m in members] == ["a/x.so", "a/y.py"]
    assert parse_end_of_central_directory(b"not a zip", file_size=9) is None


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (fat(X86_64, ARM64), {"x86_64", "arm64"}),
        (fat(X86_64), {"x86_64"}),
        (THIN_ARM64, {"arm64"}),
        (ELF, set()),
        (b"", set()),
    ],
)
def test_macho_architectures(head, expected):
    assert macho_architectures(head) == expected
