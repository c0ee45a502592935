"""A real package index on 127.0.0.1 serving the recorded fixture pages.

``FixtureIndexServer`` speaks the Simple Repository API the way real indexes do: PEP 691 JSON
and/or PEP 503 HTML (with PEP 592 yanks, PEP 658 metadata and ``data-requires-python``),
content negotiation on ``Accept``, 301 redirects to canonical project URLs, ETag and
Last-Modified validators, and HTTP Range on files. Files are *synthesised* on the fly as
minimal but valid wheels and sdists, so a real ``pip download`` against this server works
offline. Because the bytes are synthesised, the pages advertise the sha256, size and
metadata hash of the synthesised files (not the recorded ones): pip verifies them.
``hashes="recorded"`` serves the recorded sha256 and size instead, as the public index gave
them: real lockfiles' ``--hash`` lines then match, as they do against the public index (files
downloaded from such a server fail pip's hash check, so pip tests keep the default).
``as_of`` serves the index as it was at that moment: files uploaded later are left out, the way
a lock made back then saw it (how the hashed lock fixtures were made).

Tests count requests through :attr:`FixtureIndexServer.requests` and inject faults with
:meth:`fail`, :meth:`delay` and :meth:`stop`.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import email.utils
import hashlib
import html
import io
import json
import tarfile
import threading
import time
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from packaging.utils import canonicalize_name, parse_wheel_filename

from scanners.distributions import DistributionFile
from tests.support.loopback import LoopbackHTTPServer, RecordedRequest

__all__ = [
    "FIXTURE_PROJECTS_DIR",
    "FILES_PLACEHOLDER",
    "FixtureIndexServer",
    "Mode",
    "RecordedRequest",
    "load_fixture_pages",
    "synthesise_file",
]

FIXTURE_PROJECTS_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "index" / "projects"
FILES_PLACEHOLDER = "https://index.test/files/"
"""Recorded pages point here; the server rewrites it to its own ``/files/``."""

Mode = Literal["json", "html", "both"]

_JSON = "application/vnd.pypi.simple.v1+json"
_HTML_V1 = "application/vnd.pypi.simple.v1+html"
_TEXT_HTML = "text/html"
# Server-side preference when the client gives several types the same q (PEP 691 suggests JSON).
_OFFERED = (_JSON, _HTML_V1, _TEXT_HTML)
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: synthesised bytes (and hashes) are stable


@dataclass(slots=True)
class _Fault:
    project: str | None
    status: int
    remaining: int
    retry_after: str | None


@dataclass(slots=True)
class _Project:
    name: str
    page: dict[str, Any]
    last_modified: dt.datetime


def load_fixture_pages(directory: Path = FIXTURE_PROJECTS_DIR) -> dict[str, dict[str, Any]]:
    """Recorded PEP 691 pages by canonical name."""
    pages: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.json")):
        page = json.loads(path.read_text())
        pages[canonicalize_name(page["name"])] = page
    return pages


# --------------------------------------------------------------------------- synthesised files


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _metadata_text(name: str, version: str, requires_python: str | None, extra: tuple[str, ...] = ()) -> str:
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {name}",
        f"Version: {version}",
        "Summary: synthesised by the fixture index",
    ]
    if requires_python:
        lines.append(f"Requires-Python: {requires_python}")
    lines.extend(extra)  # e.g. "Project-URL: Issues, https://github.test/o/r/issues" (a file's "x-metadata")
    return "\n".join(lines) + "\n"


def _zip_bytes(members: Iterable[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for arcname, data in members:
            info = zipfile.ZipInfo(arcname, date_time=_ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return buf.getvalue()


def _wheel(
    filename: str,
    project: str,
    requires_python: str | None,
    extra: tuple[str, ...] = (),
    more: tuple[tuple[str, bytes], ...] = (),
) -> tuple[bytes, bytes]:
    name_part, version_part = filename.split("-")[:2]
    _name, _version, _build, tags = parse_wheel_filename(filename)
    dist_info = f"{name_part}-{version_part}.dist-info"
    metadata = _metadata_text(project, version_part, requires_python, extra).encode()
    pure = all(t.abi == "none" and t.platform == "any" for t in tags)
    wheel = (
        "Wheel-Version: 1.0\nGenerator: fixture-index\n"
        f"Root-Is-Purelib: {'true' if pure else 'false'}\n"
        + "".join(f"Tag: {t}\n" for t in sorted(str(t) for t in tags))
    ).encode()
    members = [*more, (f"{dist_info}/METADATA", metadata), (f"{dist_info}/WHEEL", wheel)]
    record = "".join(f"{n},{_record_hash(d)},{len(d)}\n" for n, d in members) + f"{dist_info}/RECORD,,\n"
    members.append((f"{dist_info}/RECORD", record.encode()))
    return _zip_bytes(members), metadata


# An in-tree PEP 517 backend with no build requirements: pip can prepare metadata (and even
# build a pure wheel) from the synthesised sdist without fetching setuptools from anywhere.
_BACKEND = '''"""Build backend of a fixture-index sdist (synthesised, no real code)."""
import base64, hashlib, os, zipfile

NAME = {name!r}
DIST = {dist!r}
VERSION = {version!r}
METADATA = {metadata!r}


def _dist_info():
    return f"{{DIST}}-{{VERSION}}.dist-info"


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    path = os.path.join(metadata_directory, _dist_info())
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "METADATA"), "w") as f:
        f.write(METADATA)
    return _dist_info()


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    filename = f"{{DIST}}-{{VERSION}}-py3-none-any.whl"
    members = [(_dist_info() + "/METADATA", METADATA.encode()),
               (_dist_info() + "/WHEEL", b"Wheel-Version: 1.0\\nGenerator: fixture-index\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n")]
    record = ""
    for name, data in members:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record += f"{{name}},sha256={{digest}},{{len(data)}}\\n"
    record += _dist_info() + "/RECORD,,\\n"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as zf:
        for name, data in members + [(_dist_info() + "/RECORD", record.encode())]:
            zf.writestr(name, data)
    return filename
'''


def _sdist(
    filename: str, project: str, requires_python: str | None, extra: tuple[str, ...] = ()
) -> tuple[bytes, bytes]:
    is_zip = filename.endswith(".zip")
    stem = filename[: -len(".zip")] if is_zip else filename.split(".tar")[0]
    dist, _, version = stem.rpartition("-")
    metadata = _metadata_text(project, version, requires_python, extra)
    dist_norm = canonicalize_name(dist).replace("-", "_")
    pyproject = '[build-system]\nrequires = []\nbuild-backend = "_fixture_backend"\nbackend-path = ["."]\n'
    backend = _BACKEND.format(name=project, dist=dist_norm, version=version, metadata=metadata)
    members = [
        (f"{stem}/PKG-INFO", metadata.encode()),
        (f"{stem}/pyproject.toml", pyproject.encode()),
        (f"{stem}/_fixture_backend.py", backend.encode()),
    ]
    if is_zip:
        return _zip_bytes(members), metadata.encode()
    buf = io.BytesIO()
    # mtime fixed and gzip header mtime 0, so the bytes (and their hash) never change.
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.PAX_FORMAT, compresslevel=6) as tf:
        for arcname, data in members:
            info = tarfile.TarInfo(arcname)
            info.size = len(data)
            info.mtime = 315532800
            info.mode = 0o644
            tf.addfile(info, io.BytesIO(data))
    raw = buf.getvalue()
    # tarfile writes the current time into the gzip header: zero it (bytes 4..8).
    raw = raw[:4] + b"\x00\x00\x00\x00" + raw[8:]
    return raw, metadata.encode()


@lru_cache(maxsize=4096)
def synthesise_file(
    filename: str,
    project: str,
    requires_python: str | None,
    metadata_extra: tuple[str, ...] = (),
    members: tuple[tuple[str, bytes], ...] = (),
) -> tuple[bytes, bytes]:
    """``(file bytes, core metadata bytes)`` for one listed file; deterministic.

    ``metadata_extra`` adds core-metadata lines (``Project-URL: …``) and ``members`` adds files to
    a wheel (a native ``.so`` in a wheel tagged pure): a file dict's ``x-metadata`` and
    ``x-members`` keys, see :meth:`FixtureIndexServer.add_project`.
    """
    if filename.endswith(".whl"):
        return _wheel(filename, project, requires_python, metadata_extra, members)
    if filename.endswith((".tar.gz", ".zip", ".tgz", ".tar.bz2")):
        return _sdist(filename, project, requires_python, metadata_extra)
    data = f"placeholder for {filename}\n".encode()
    return data, _metadata_text(project, "0", requires_python).encode()


# --------------------------------------------------------------------------- negotiation


def _parse_accept(header: str | None) -> list[tuple[str, float]]:
    if header is None:
        return [("*/*", 1.0)]
    out: list[tuple[str, float]] = []
    for part in header.split(","):
        bits = [b.strip() for b in part.split(";")]
        if not bits[0]:
            continue
        q = 1.0
        for param in bits[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        out.append((bits[0].lower(), q))
    return out


def _quality(offered: str, accepted: list[tuple[str, float]]) -> float:
    # The most specific matching range wins (RFC 9110 12.5.1).
    best: tuple[int, float] = (-1, 0.0)
    major = offered.split("/")[0]
    for media, q in accepted:
        if media == offered:
            spec = 2
        elif media == f"{major}/*":
            spec = 1
        elif media == "*/*":
            spec = 0
        else:
            continue
        if spec > best[0]:
            best = (spec, q)
    return best[1]


def negotiate(accept: str | None, offered: Iterable[str] = _OFFERED) -> str | None:
    """The offered media type the client prefers, ``None`` when none is acceptable."""
    accepted = _parse_accept(accept)
    best, best_q = None, 0.0
    for media in offered:
        q = _quality(media, accepted)
        if q > best_q:
            best, best_q = media, q
    return best


# --------------------------------------------------------------------------- the server


class FixtureIndexServer(LoopbackHTTPServer):
    """A Simple Repository API server on ``127.0.0.1`` (port chosen by the OS).

    ``mode="json"`` answers only PEP 691 JSON (404 to a client that does not accept it),
    ``"html"`` answers only ``text/html`` whatever is asked (like a static file server),
    ``"both"`` negotiates on ``Accept`` q-values. Use as a context manager, or call
    :meth:`start` / :meth:`stop`.
    """

    def __init__(
        self,
        *,
        mode: Mode = "both",
        projects_dir: Path | None = FIXTURE_PROJECTS_DIR,
        hashes: Literal["synthesised", "recorded"] = "synthesised",
        as_of: dt.datetime | None = None,
    ) -> None:
        if mode not in ("json", "html", "both"):
            raise ValueError(f"mode must be 'json', 'html' or 'both', not {mode!r}")
        self.mode: Mode = mode
        self.recorded_hashes = hashes == "recorded"
        self.as_of = as_of
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._faults: list[_Fault] = []
        self._delay: tuple[float, str | None] = (0.0, None)
        self._projects: dict[str, _Project] = {}
        self._files: dict[str, tuple[str, dict[str, Any]]] = {}
        started = dt.datetime.now(dt.UTC).replace(microsecond=0)
        for name, page in (load_fixture_pages(projects_dir) if projects_dir else {}).items():
            self._install(name, page, _latest_upload(page) or started)
        super().__init__()

    # -- lifecycle ------------------------------------------------------------------------

    thread_name = "fixture-index"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        return _make_handler(self)

    @property
    def port(self) -> int:
        if not self.running:
            raise RuntimeError("the fixture index is not running")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/`` (the port stays known after :meth:`stop`)."""
        return f"http://127.0.0.1:{self._port}/"

    @property
    def url(self) -> str:
        """The index URL to give to clients and pip: ``http://127.0.0.1:PORT/simple/``."""
        return self.base_url + "simple/"

    @property
    def files_url(self) -> str:
        return self.base_url + "files/"

    # -- projects ---------------------------------------------------------------------------

    def _install(self, name: str, page: dict[str, Any], modified: dt.datetime) -> None:
        canonical = canonicalize_name(name)
        with self._lock:
            old = self._projects.get(canonical)
            if old is not None:
                for f in old.page["files"]:
                    self._files.pop(f["filename"], None)
            self._projects[canonical] = _Project(page["name"], page, modified.replace(microsecond=0))
            for f in page["files"]:
                self._files[f["filename"]] = (canonical, f)

    def add_project(self, name: str, files: list[dict[str, Any]]) -> None:
        """Add (or replace) a project from PEP 691 file dicts.

        Only ``filename`` is required; ``url`` defaults to the file under ``/files/``,
        ``yanked`` to ``False``; ``requires-python`` is copied into synthesised metadata.
        Replacing a project changes its ETag and Last-Modified, like a new upload would.
        Test-only keys (never served): ``x-metadata``, a list of extra core-metadata lines, and
        ``x-members``, a list of ``[arcname, bytes]`` added to a synthesised wheel.
        """
        norm = []
        for f in files:
            entry = dict(f)
            entry.setdefault("url", FILES_PLACEHOLDER + entry["filename"])
            entry.setdefault("hashes", {})
            entry.setdefault("yanked", False)
            norm.append(entry)
        page = {"meta": {"api-version": "1.1"}, "name": name, "files": norm, "versions": _versions(norm)}
        now = dt.datetime.now(dt.UTC)
        old = self._projects.get(canonicalize_name(name))
        if old is not None and now.replace(microsecond=0) <= old.last_modified:
            now = old.last_modified + dt.timedelta(seconds=1)
        self._install(name, page, now)

    @property
    def project_names(self) -> list[str]:
        with self._lock:
            return sorted(self._projects)

    def project_page(self, name: str) -> dict[str, Any]:
        """The PEP 691 page as served (URLs and hashes rewritten), for assertions."""
        with self._lock:
            project = self._projects[canonicalize_name(name)]
        return self._served_page(project)

    def file_bytes(self, filename: str) -> bytes:
        return self._file(filename)[0]

    # -- requests and faults ----------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received, in order."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def page_requests(self, project: str | None = None) -> list[RecordedRequest]:
        """Requests for project pages (``/simple/<name>/``), optionally for one project."""
        out = []
        for r in self.requests:
            name = _page_name(r.path)
            if name and (project is None or canonicalize_name(name) == canonicalize_name(project)):
                out.append(r)
        return out

    def fail(
        self, project: str | None = None, status: int = 503, times: int = 1, *, retry_after: float | str | None = None
    ) -> None:
        """Answer the next ``times`` page requests (for ``project``, or any) with ``status``.

        ``retry_after`` is sent as the Retry-After header (a 429 gets ``"1"`` by default).
        """
        if status == 429 and retry_after is None:
            retry_after = "1"
        with self._lock:
            self._faults.append(
                _Fault(
                    canonicalize_name(project) if project else None,
                    status,
                    times,
                    None if retry_after is None else str(retry_after),
                )
            )

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._delay = (0.0, None)

    def delay(self, seconds: float, project: str | None = None) -> None:
        """Sleep ``seconds`` before answering each page request (0 turns it off)."""
        with self._lock:
            self._delay = (seconds, canonicalize_name(project) if project else None)

    # -- request handling (called from handler threads) ---------------------------------------

    def _record(self, method: str, path: str, headers: dict[str, str]) -> None:
        with self._lock:
            self._requests.append(RecordedRequest(method, path, headers))

    def _take_fault(self, project: str | None) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and (fault.project is None or fault.project == project):
                    fault.remaining -= 1
                    return fault
        return None

    def _current_delay(self, project: str | None) -> float:
        with self._lock:
            seconds, only = self._delay
        return seconds if only is None or only == project else 0.0

    def _file(self, filename: str) -> tuple[bytes, bytes]:
        with self._lock:
            canonical, entry = self._files[filename]
            project = self._projects[canonical].name
        return synthesise_file(filename, project, entry.get("requires-python"), *_extras(entry))

    def _served_page(self, project: _Project) -> dict[str, Any]:
        page = copy.deepcopy(project.page)
        if self.as_of is not None:
            page["files"] = [f for f in page["files"] if not _uploaded_after(f, self.as_of)]
            page["versions"] = _versions(page["files"])
        files_url = self.files_url
        for f in page["files"]:
            data, metadata = synthesise_file(f["filename"], project.name, f.get("requires-python"), *_extras(f))
            f.pop("x-metadata", None)
            f.pop("x-members", None)
            f["url"] = f["url"].replace(FILES_PLACEHOLDER, files_url)
            if not (self.recorded_hashes and f.get("hashes", {}).get("sha256")):
                f["hashes"] = {"sha256": hashlib.sha256(data).hexdigest()}
                f["size"] = len(data)
            if f["filename"].endswith(".whl"):
                digest = {"sha256": hashlib.sha256(metadata).hexdigest()}
                f["core-metadata"] = digest
                f["data-dist-info-metadata"] = digest
            else:
                f.pop("core-metadata", None)
                f.pop("data-dist-info-metadata", None)
        page["meta"] = {"api-version": "1.1", **{k: v for k, v in page.get("meta", {}).items() if k != "api-version"}}
        return page


def _extras(entry: dict[str, Any]) -> tuple[tuple[str, ...], tuple[tuple[str, bytes], ...]]:
    """A file dict's test-only ``x-metadata`` / ``x-members``, hashable for ``synthesise_file``'s cache."""
    metadata = tuple(entry.get("x-metadata", ()))
    members = tuple((str(name), bytes(data)) for name, data in entry.get("x-members", ()))
    return metadata, members


def _uploaded_after(entry: dict[str, Any], moment: dt.datetime) -> bool:
    uploaded = entry.get("upload-time")
    return bool(uploaded) and dt.datetime.fromisoformat(uploaded.replace("Z", "+00:00")) > moment


def _versions(files: list[dict[str, Any]]) -> list[str]:
    seen = {str(DistributionFile(f["filename"]).version) for f in files}
    seen.discard("None")
    return sorted(seen)


def _latest_upload(page: dict[str, Any]) -> dt.datetime | None:
    times = [f["upload-time"] for f in page["files"] if f.get("upload-time")]
    if not times:
        return None
    return max(dt.datetime.fromisoformat(t.replace("Z", "+00:00")) for t in times)


def _page_name(path: str) -> str | None:
    parts = urlsplit(path).path.split("/")
    # "/simple/<name>/" -> ["", "simple", name, ""]
    if len(parts) >= 3 and parts[1] == "simple" and parts[2]:
        return unquote(parts[2])
    return None


def _render_html_page(page: dict[str, Any]) -> str:
    name = html.escape(page["name"])
    out = [
        "<!DOCTYPE html>",
        "<html>",
        "<head>",
        f'<meta name="pypi:repository-version" content="{html.escape(page["meta"]["api-version"])}">',
        f"<title>Links for {name}</title>",
        "</head>",
        "<body>",
        f"<h1>Links for {name}</h1>",
    ]
    for f in page["files"]:
        href = f["url"]
        sha = f.get("hashes", {}).get("sha256")
        if sha:
            href += f"#sha256={sha}"
        attrs = [f'href="{html.escape(href)}"']
        if f.get("requires-python"):
            attrs.append(f'data-requires-python="{html.escape(f["requires-python"])}"')
        yanked = f.get("yanked", False)
        if yanked is not False:
            reason = "" if yanked is True else str(yanked)
            attrs.append(f'data-yanked="{html.escape(reason)}"')
        meta = f.get("core-metadata")
        if isinstance(meta, dict) and meta.get("sha256"):
            attrs.append(f'data-dist-info-metadata="sha256={meta["sha256"]}"')
            attrs.append(f'data-core-metadata="sha256={meta["sha256"]}"')
        out.append(f"<a {' '.join(attrs)}>{html.escape(f['filename'])}</a><br/>")
    out += ["</body>", "</html>", ""]
    return "\n".join(out)


def _render_html_root(names: list[str]) -> str:
    links = "\n".join(f'<a href="/simple/{n}/">{n}</a><br/>' for n in names)
    return (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta name="pypi:repository-version" content="1.1">\n'
        f"<title>Simple index</title>\n</head>\n<body>\n{links}\n</body>\n</html>\n"
    )


def _http_date(when: dt.datetime) -> str:
    return email.utils.format_datetime(when.astimezone(dt.UTC), usegmt=True)


def _make_handler(server: FixtureIndexServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: clients reuse connections as with a real index
        server_version = "FixtureIndex/1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            pass  # requests are recorded in server.requests instead

        def do_HEAD(self) -> None:
            self._handle(head=True)

        def do_GET(self) -> None:
            self._handle(head=False)

        # -- plumbing

        def _send(
            self,
            status: int,
            body: bytes = b"",
            *,
            content_type: str = "text/plain; charset=utf-8",
            headers: dict[str, str] | None = None,
            head: bool = False,
        ) -> None:
            self.send_response(status)
            if status != 304:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(0 if status == 304 else len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if body and not head and status != 304:
                self.wfile.write(body)

        def _handle(self, *, head: bool) -> None:
            server._record(self.command, self.path, {k.lower(): v for k, v in self.headers.items()})
            path = urlsplit(self.path).path
            try:
                if path.startswith("/files/"):
                    self._serve_file(unquote(path[len("/files/") :]), head=head)
                elif path == "/simple":
                    self._send(301, headers={"Location": "/simple/"}, head=head)
                elif path == "/simple/":
                    self._serve_page(None, head=head)
                elif path.startswith("/simple/"):
                    name = unquote(path[len("/simple/") :]).rstrip("/")
                    if "/" in name:
                        self._send(404, b"Not Found\n", head=head)
                        return
                    canonical = canonicalize_name(name)
                    if name != canonical or not path.endswith("/"):
                        # Real indexes redirect every spelling to the canonical URL.
                        self._send(301, headers={"Location": f"/simple/{canonical}/"}, head=head)
                        return
                    self._serve_page(canonical, head=head)
                else:
                    self._send(404, b"Not Found\n", head=head)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test); nothing to answer

        def _serve_page(self, canonical: str | None, *, head: bool) -> None:
            seconds = server._current_delay(canonical)
            if seconds:
                time.sleep(seconds)
            fault = server._take_fault(canonical)
            if fault is not None:
                extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                self._send(fault.status, f"injected {fault.status}\n".encode(), headers=extra, head=head)
                return
            accept = self.headers.get("Accept")
            if server.mode == "html":
                media = _TEXT_HTML
            elif server.mode == "json":
                media = _JSON if negotiate(accept, (_JSON,)) else None
                if media is None:
                    # Like an index that only publishes JSON: nothing at this URL for HTML clients.
                    self._send(404, b"Not Found (this index serves only " + _JSON.encode() + b")\n", head=head)
                    return
            else:
                media = negotiate(accept)
                if media is None:
                    self._send(406, b"Not Acceptable\n", head=head)
                    return
            if canonical is None:
                with server._lock:
                    names = sorted(server._projects)
                    modified = max(
                        (p.last_modified for p in server._projects.values()),
                        default=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
                    )
                if media == _JSON:
                    body = json.dumps(
                        {"meta": {"api-version": "1.1"}, "projects": [{"name": n} for n in names]}
                    ).encode()
                else:
                    body = _render_html_root(names).encode()
            else:
                with server._lock:
                    project = server._projects.get(canonical)
                if project is None:
                    self._send(404, f"Not Found: no project {canonical!r}\n".encode(), head=head)
                    return
                modified = project.last_modified
                page = server._served_page(project)
                body = json.dumps(page).encode() if media == _JSON else _render_html_page(page).encode()
            content_type = media if media == _JSON else f"{media}; charset=utf-8"
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            headers = {
                "ETag": etag,
                "Last-Modified": _http_date(modified),
                "Vary": "Accept",
                "Cache-Control": "max-age=600, public",
            }
            if self._not_modified(etag, modified):
                self._send(304, headers=headers, head=head)
                return
            self._send(200, body, content_type=content_type, headers=headers, head=head)

        def _not_modified(self, etag: str, modified: dt.datetime) -> bool:
            inm = self.headers.get("If-None-Match")
            if inm is not None:  # RFC 9110 13.1.3: If-None-Match wins over If-Modified-Since
                tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
                return "*" in tags or etag in tags
            ims = self.headers.get("If-Modified-Since")
            if ims:
                try:
                    since = email.utils.parsedate_to_datetime(ims)
                except (TypeError, ValueError):
                    return False
                if since.tzinfo is None:
                    since = since.replace(tzinfo=dt.UTC)
                return modified <= since
            return False

        def _serve_file(self, name: str, *, head: bool) -> None:
            want_metadata = name.endswith(".metadata")
            filename = name[: -len(".metadata")] if want_metadata else name
            try:
                data, metadata = server._file(filename)
            except KeyError:
                self._send(404, b"Not Found\n", head=head)
                return
            if want_metadata:
                if not filename.endswith(".whl"):
                    self._send(404, b"Not Found\n", head=head)
                    return
                self._send(200, metadata, content_type="text/plain; charset=utf-8", head=head)
                return
            ctype = "application/zip" if filename.endswith((".whl", ".zip")) else "application/gzip"
            headers = {"Accept-Ranges": "bytes", "ETag": '"' + hashlib.sha256(data).hexdigest()[:32] + '"'}
            rng = self.headers.get("Range")
            if rng:
                span = _parse_range(rng, len(data))
                if span is None:
                    self._send(416, headers={**headers, "Content-Range": f"bytes */{len(data)}"}, head=head)
                    return
                start, end = span
                headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
                self._send(206, data[start : end + 1], content_type=ctype, headers=headers, head=head)
                return
            self._send(200, data, content_type=ctype, headers=headers, head=head)

    return Handler


def _parse_range(header: str, size: int) -> tuple[int, int] | None:
    """One ``bytes=`` range as inclusive ``(start, end)``; ``None`` when unsatisfiable."""
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, _, last = spec.strip().partition("-")
    try:
        if first == "":
            length = int(last)
            if length <= 0:
                return None
            return max(size - length, 0), size - 1
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        return None
    if start >= size or end < start:
        return None
    return start, min(end, size - 1)
