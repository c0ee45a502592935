"""Deep check: does a wheel that claims to run anywhere (or on both Mac CPUs) really?

A wheel tagged pure (``py3-none-any``) that contains a compiled ``.so`` installs everywhere
and fails at import on every machine but the one it was built on; a ``universal2`` wheel whose
extension has only an x86_64 slice fails on Apple Silicon. Tags cannot show this, the files
can: this module reads only a wheel's zip *central directory* with HTTP Range requests (the
end-of-central-directory record in the last bytes, then the directory itself) and, for
``universal2`` wheels, the first bytes of each native member to read its Mach-O header. A
wheel of 50 MB costs a few kilobytes.

Parsing (:func:`parse_end_of_central_directory`, :func:`parse_central_directory`,
:func:`macho_architectures`) is pure; :func:`deep_check_wheel` does the I/O and never raises.
Each Range request goes through :func:`scanners.http.request`, asked once as before (a wheel
that cannot be read is an ``error``, not worth a wait) but within the per-call deadline, so a
file server that trickles bytes cannot hold a scan.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass

import httpx

from scanners.distributions import DistributionFile
from scanners.http import DEFAULT_DEADLINE, HttpError, RetryPolicy, request
from scanners.rules import MISLABELLED_WHEEL

__all__ = [
    "DeepCheckResult",
    "RULE",
    "ZipMember",
    "deep_check_wheel",
    "macho_architectures",
    "needs_deep_check",
    "parse_central_directory",
    "parse_end_of_central_directory",
]

RULE = MISLABELLED_WHEEL.id
"""The finding rule for a wheel whose files contradict its tags."""

_EOCD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_EOCD = b"PK\x06\x06"
_CENTRAL = b"PK\x01\x02"
_LOCAL = b"PK\x03\x04"
_TAIL = 22 + 65535 + 20  # EOCD + the longest comment + the zip64 locator before it
_NATIVE = re.compile(r"\.(?:so(?:\.\d+)*|dylib|pyd)$", re.IGNORECASE)
_MACHO_CPU = {0x01000007: "x86_64", 0x0100000C: "arm64", 7: "i386", 12: "arm"}
_HEAD_BYTES = 4096  # enough compressed bytes to inflate a fat header (8 + 20 per slice)
_ONCE = RetryPolicy(retries=0)


@dataclass(frozen=True, slots=True)
class ZipMember:
    name: str
    method: int
    compressed_size: int
    local_header_offset: int


@dataclass(frozen=True, slots=True)
class DeepCheckResult:
    """``problems`` are sentences (empty: the wheel is what it says); ``error`` when it could not be read."""

    filename: str
    problems: tuple[str, ...] = ()
    native_members: tuple[str, ...] = ()
    error: str = ""


def needs_deep_check(file: DistributionFile) -> bool:
    """Pure wheels and ``universal2`` wheels are the ones whose tags can hide native code."""
    return file.kind == "wheel" and (file.is_pure or any(t.platform.endswith("_universal2") for t in file.tags))


def parse_end_of_central_directory(tail: bytes, *, file_size: int) -> tuple[int, int] | None:
    """``(offset, size)`` of the central directory from the file's last bytes; ``None`` if absent.

    ``tail`` ends at the end of the file. Zip64 archives give their real values in the zip64
    record, found through the locator just before the EOCD (when it is inside ``tail``).
    """
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < 22:
        return None
    _sig, _disk, _cd_disk, _n_disk, _n, size, offset, _clen = struct.unpack("<4sHHHHIIH", tail[at : at + 22])
    if offset == 0xFFFFFFFF or size == 0xFFFFFFFF:
        loc = at - 20
        if loc < 0 or tail[loc : loc + 4] != _ZIP64_LOCATOR:
            return None
        (z64_offset,) = struct.unpack("<Q", tail[loc + 8 : loc + 16])
        start = len(tail) - (file_size - z64_offset)
        if start < 0 or tail[start : start + 4] != _ZIP64_EOCD:
            return None
        size, offset = struct.unpack("<QQ", tail[start + 40 : start + 56])
    return offset, size


def parse_central_directory(data: bytes) -> tuple[ZipMember, ...]:
    """Every member named in a central directory; stops quietly at the first malformed record."""
    members = []
    pos = 0
    while pos + 46 <= len(data) and data[pos : pos + 4] == _CENTRAL:
        (method,) = struct.unpack("<H", data[pos + 10 : pos + 12])
        (csize,) = struct.unpack("<I", data[pos + 20 : pos + 24])
        name_len, extra_len, comment_len = struct.unpack("<HHH", data[pos + 28 : pos + 34])
        (local,) = struct.unpack("<I", data[pos + 42 : pos + 46])
        name = data[pos + 46 : pos + 46 + name_len].decode("utf-8", "replace")
        extra = data[pos + 46 + name_len : pos + 46 + name_len + extra_len]
        if csize == 0xFFFFFFFF or local == 0xFFFFFFFF:
            csize, local = _zip64_extra(extra, csize, local)
        members.append(ZipMember(name, method, csize, local))
        pos += 46 + name_len + extra_len + comment_len
    return tuple(members)


def _zip64_extra(extra: bytes, csize: int, local: int) -> tuple[int, int]:
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack("<HH", extra[pos : pos + 4])
        if tag == 1:
            values = list(struct.unpack(f"<{size // 8}Q", extra[pos + 4 : pos + 4 + size - size % 8]))
            # Order: uncompressed, compressed, local offset; only the ones set to 0xFFFFFFFF are present.
            if values and csize == 0xFFFFFFFF:
                values.pop(0)  # the uncompressed size comes first whenever it overflowed too
                csize = values.pop(0) if values else csize
            if values and local == 0xFFFFFFFF:
                local = values[-1]
            break
        pos += 4 + size
    return csize, local


def macho_architectures(head: bytes) -> frozenset[str]:
    """CPU slices of a Mach-O file from its first bytes: a fat header lists each, a thin one has one.

    Returns an empty set for anything that is not Mach-O (an ELF ``.so``, say).
    """
    if len(head) >= 8 and head[:4] in (b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf"):
        (count,) = struct.unpack(">I", head[4:8])
        step = 20 if head[3] == 0xBE else 32
        arches = set()
        for i in range(min(count, 16)):
            at = 8 + i * step
            if at + 4 > len(head):
                break
            (cpu,) = struct.unpack(">I", head[at : at + 4])
            arches.add(_MACHO_CPU.get(cpu, hex(cpu)))
        return frozenset(arches)
    if len(head) >= 8 and head[:4] in (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe"):
        (cpu,) = struct.unpack("<I", head[4:8])
        return frozenset({_MACHO_CPU.get(cpu, hex(cpu))})
    return frozenset()


class _ReadError(Exception):
    pass


def _range(http: httpx.Client, url: str, spec: str, *, timeout: float, deadline: float) -> tuple[bytes, int]:
    """Bytes of one Range request and the file's total size (from Content-Range)."""
    first, _, last = spec.partition("-")
    # A 206 is never longer than what was asked: a longer body is a server ignoring Range.
    asked = int(last) if not first else int(last) - int(first) + 1
    try:
        response = request(
            http,
            "GET",
            url,
            headers={"Range": f"bytes={spec}"},
            timeout=timeout,
            deadline=deadline,
            policy=_ONCE,
            max_bytes=asked,
        )
    except HttpError as exc:
        if exc.response is not None:
            response = exc.response  # a 5xx, asked once: worded below like any other status
        elif exc.kind == "too_large":
            raise _ReadError(f"the server answered more than the {asked} bytes of a Range request") from None
        else:
            raise _ReadError(f"{exc.detail}{exc.gave_up}") from None
    if response.status_code != 206:
        # A 200 means the server ignores Range: refuse rather than download a whole wheel.
        raise _ReadError(f"the server answered HTTP {response.status_code} to a Range request")
    total = response.headers.get("Content-Range", "").rpartition("/")[2]
    return response.content, int(total) if total.isdigit() else -1


def deep_check_wheel(
    file: DistributionFile, *, http: httpx.Client, timeout: float = 30.0, deadline: float = DEFAULT_DEADLINE
) -> DeepCheckResult:
    """Flag native members that a pure or ``universal2`` wheel's tags contradict.

    A pure wheel must have no ``.so``/``.dylib``/``.pyd``; in a ``universal2`` wheel every Mach-O
    member must have both an x86_64 and an arm64 slice. Other wheels are not checked (empty
    result). Never raises: a wheel that cannot be read gives ``error``. ``timeout`` bounds each
    read, ``deadline`` each Range request in all (see :mod:`scanners.http`).
    """
    if not needs_deep_check(file) or not file.url:
        return DeepCheckResult(file.filename)
    try:
        tail, size = _range(http, file.url, f"-{_TAIL}", timeout=timeout, deadline=deadline)
        if size < 0:
            size = file.size or len(tail)
        found = parse_end_of_central_directory(tail, file_size=size)
        if found is None:
            raise _ReadError("no zip end-of-central-directory record")
        offset, cd_size = found
        start = len(tail) - (size - offset)
        if start >= 0 and start + cd_size <= len(tail):
            directory = tail[start : start + cd_size]
        else:
            directory, _ = _range(
                http, file.url, f"{offset}-{offset + cd_size - 1}", timeout=timeout, deadline=deadline
            )
        members = parse_central_directory(directory)
        native = tuple(m for m in members if _NATIVE.search(m.name))
        problems: list[str] = []
        if file.is_pure and native:
            shown = ", ".join(m.name for m in native[:3]) + (f" and {len(native) - 3} more" if len(native) > 3 else "")
            problems.append(
                f"{file.filename} is tagged pure Python but contains native code ({shown}): "
                "it installs everywhere and fails at import on other platforms"
            )
        elif not file.is_pure:
            for m in native:
                if m.name.lower().endswith(".pyd"):
                    continue
                arches = macho_architectures(_member_head(http, file.url, m, timeout=timeout, deadline=deadline))
                missing = sorted({"x86_64", "arm64"} - arches)
                if missing:
                    have = ", ".join(sorted(arches)) or "no Mach-O"
                    problems.append(
                        f"{file.filename} is tagged universal2 but {m.name} has {have} slices only "
                        f"(missing {', '.join(missing)}): it fails at import on those Macs"
                    )
        return DeepCheckResult(file.filename, tuple(problems), tuple(m.name for m in native))
    except (httpx.HTTPError, OSError, _ReadError, struct.error, zlib.error, ValueError) as exc:
        return DeepCheckResult(file.filename, error=f"cannot read {file.filename}: {exc}".splitlines()[0])


def _member_head(http: httpx.Client, url: str, member: ZipMember, *, timeout: float, deadline: float) -> bytes:
    """The first bytes of one member: its local header (for the real name/extra lengths), then data."""
    want = 30 + 1024 + min(member.compressed_size, _HEAD_BYTES)
    start = member.local_header_offset
    data, _ = _range(http, url, f"{start}-{start + want - 1}", timeout=timeout, deadline=deadline)
    if data[:4] != _LOCAL:
        raise _ReadError(f"no local header for {member.name}")
    name_len, extra_len = struct.unpack("<HH", data[26:30])
    body = data[30 + name_len + extra_len :][: member.compressed_size]
    if member.method == 0:
        return body[:_HEAD_BYTES]
    if member.method == 8:
        return zlib.decompressobj(-15).decompress(body, _HEAD_BYTES)
    raise _ReadError(f"{member.name} uses zip compression method {member.method}")
