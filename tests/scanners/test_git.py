"""scanners.git against real repositories made with the git CLI, reached by path and by file://."""

from __future__ import annotations

import hashlib
import http.server
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scanners.git import (
    GitError,
    RepoFile,
    RepoSnapshot,
    SkippedFile,
    commits_by_date,
    fetch_snapshot,
    redact_url,
)
from tests.scanners.git_helpers import Symlink, commit_files, file_url, git, make_repo, write_files

pytestmark = pytest.mark.slow

LOCKFILES = {
    "requirements.txt": "psutil==5.9.8\n-r requirements/base.txt\n",
    "requirements/base.txt": "httpx==0.28.1\n",
    "services/api/Dockerfile": "FROM python:3.11-slim\n",
    "README.md": "# not wanted\n",
    "src/app.py": "print('not wanted')\n",
}


def lockfiles_only(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name.endswith(".txt") or name == "Dockerfile" or name.endswith((".bin", ".lock"))


def everything(path: str) -> bool:
    return True


def texts(snapshot: RepoSnapshot) -> dict[str, str]:
    return {f.path: f.text for f in snapshot.files}


def reasons(snapshot: RepoSnapshot) -> dict[str, str]:
    return {s.path: s.reason for s in snapshot.skipped}


def missing_objects(bare: Path, commit: str) -> set[str]:
    """Object ids of ``commit``'s tree that the partial clone has not fetched."""
    listing = git(bare, "rev-list", "--objects", "--missing=print", "--no-walk", commit)
    return {line[1:] for line in listing.splitlines() if line.startswith("?")}


def blob_id(repo: Path, rev: str, path: str) -> str:
    return git(repo, "rev-parse", f"{rev}:{path}")


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture(autouse=True)
def _no_repository_above(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A plain directory must not be taken for part of whatever repository encloses the
    # test's temporary directory.
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))


Source = Callable[[Path], str]
SOURCES: dict[str, Source] = {"path": str, "file-url": file_url}


# --- selecting and reading -------------------------------------------------------------------


@pytest.mark.parametrize("kind", SOURCES)
def test_reads_only_wanted_files_at_the_default_branch(tmp_path: Path, cache_dir: Path, kind: str) -> None:
    date = datetime(2024, 3, 5, 10, 30, tzinfo=UTC)
    repo = make_repo(tmp_path, LOCKFILES, date=date)
    source = SOURCES[kind](repo)

    snapshot = fetch_snapshot(source, wanted=lockfiles_only, cache_dir=cache_dir)

    assert snapshot.source == source
    assert snapshot.ref is None
    assert snapshot.commit == git(repo, "rev-parse", "HEAD")
    assert snapshot.committed_at == date
    assert texts(snapshot) == {
        "requirements.txt": LOCKFILES["requirements.txt"],
        "requirements/base.txt": LOCKFILES["requirements/base.txt"],
        "services/api/Dockerfile": LOCKFILES["services/api/Dockerfile"],
    }
    assert snapshot.skipped == ()
    assert [f.path for f in snapshot.files] == sorted(f.path for f in snapshot.files)
    first = snapshot.files[0]
    assert first.size == len(LOCKFILES[first.path].encode())
    # Read from disk for a work tree (no blob id); from objects for a URL.
    expected_blob = None if kind == "path" else blob_id(repo, "HEAD", first.path)
    assert first.blob_id == expected_blob


def test_work_tree_shows_what_the_developer_sees(tmp_path: Path, cache_dir: Path) -> None:
    repo = make_repo(tmp_path, {**LOCKFILES, ".gitignore": "ignored.txt\nbuild/\n", "old.txt": "gone\n"})
    write_files(
        repo,
        {
            "requirements.txt": "psutil==6.0.0\n",  # uncommitted edit
            "new.txt": "new-package==1.0\n",  # untracked, not ignored
            "ignored.txt": "secret==1\n",  # ignored by .gitignore
            "build/lib/requirements.txt": "x==1\n",
            "old.txt": None,  # deleted but not staged
        },
    )

    snapshot = fetch_snapshot(str(repo), wanted=lockfiles_only, cache_dir=cache_dir)

    assert snapshot.commit == git(repo, "rev-parse", "HEAD")
    found = texts(snapshot)
    assert found["requirements.txt"] == "psutil==6.0.0\n"
    assert found["new.txt"] == "new-package==1.0\n"
    assert "ignored.txt" not in found
    assert "build/lib/requirements.txt" not in found
    assert "old.txt" not in found
    assert not cache_dir.exists()  # a local repository is read in place, never cloned


def test_work_tree_without_commits(tmp_path: Path, cache_dir: Path) -> None:
    repo = make_repo(tmp_path, {})
    write_files(repo, {"requirements.txt": "flask==3.0.0\n"})

    snapshot = fetch_snapshot(str(repo), wanted=lockfiles_only, cache_dir=cache_dir)

    assert (snapshot.commit, snapshot.committed_at) == (None, None)
    assert texts(snapshot) == {"requirements.txt": "flask==3.0.0\n"}


def test_subdirectory_of_a_work_tree_is_scanned_on_its_own(tmp_path: Path, cache_dir: Path) -> None:
    repo = make_repo(tmp_path, LOCKFILES)
    head = git(repo, "rev-parse", "HEAD")

    on_disk = fetch_snapshot(str(repo / "services"), wanted=everything, cache_dir=cache_dir)
    at_ref = fetch_snapshot(str(repo / "services"), "main", wanted=everything, cache_dir=cache_dir)

    for snapshot in (on_disk, at_ref):
        assert snapshot.commit == head
        assert texts(snapshot) == {"api/Dockerfile": LOCKFILES["services/api/Dockerfile"]}


def test_plain_directory_is_walked(tmp_path: Path, cache_dir: Path) -> None:
    root = tmp_path / "plain"
    write_files(
        root,
        {
            "requirements.txt": "django==5.2\n",
            "deploy/Dockerfile": "FROM python:3.12\n",
            "node_modules/pkg/requirements.txt": "no==1\n",
            ".venv/lib/python3.11/site-packages/x/requirements.txt": "no==1\n",
            "venv/requirements.txt": "no==1\n",
            "lib/site-packages/y/requirements.txt": "no==1\n",
            ".tox/py311/requirements.txt": "no==1\n",
            "__pycache__/requirements.txt": "no==1\n",
            ".git/requirements.txt": "no==1\n",
        },
    )

    snapshot = fetch_snapshot(str(root), wanted=lockfiles_only, cache_dir=cache_dir)

    assert (snapshot.commit, snapshot.committed_at) == (None, None)
    assert texts(snapshot) == {"requirements.txt": "django==5.2\n", "deploy/Dockerfile": "FROM python:3.12\n"}


@pytest.mark.parametrize("kind", [*SOURCES, "ref"])
def test_installed_packages_and_caches_are_not_selected(tmp_path: Path, cache_dir: Path, kind: str) -> None:
    repo = make_repo(
        tmp_path,
        {
            "requirements.txt": "a==1\n",
            "node_modules/pkg/requirements.txt": "no==1\n",
            "venv/lib/requirements.txt": "no==1\n",
            "vendor/site-packages/x/requirements.txt": "no==1\n",
            "docs/venv.txt": "b==2\n",  # only directories named so are skipped
        },
    )
    source = str(repo) if kind == "ref" else SOURCES[kind](repo)

    snapshot = fetch_snapshot(source, "main" if kind == "ref" else None, wanted=lockfiles_only, cache_dir=cache_dir)

    assert texts(snapshot) == {"requirements.txt": "a==1\n", "docs/venv.txt": "b==2\n"}


def test_git_environment_of_the_caller_is_ignored(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inside a git hook GIT_DIR points at another repository; the scan must still read ours."""
    ours = make_repo(tmp_path, {"requirements.txt": "ours==1\n"}, name="ours")
    other = make_repo(tmp_path, {"requirements.txt": "other==1\n"}, name="other")
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(other))

    for ref in (None, "main"):
        snapshot = fetch_snapshot(str(ours), ref, wanted=lockfiles_only, cache_dir=cache_dir)
        assert texts(snapshot) == {"requirements.txt": "ours==1\n"}
        assert snapshot.commit == git(ours, "rev-parse", "HEAD")


# --- refs ------------------------------------------------------------------------------------


@pytest.fixture
def history(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A repository whose versions of requirements.txt tell which commit was read."""
    repo = make_repo(tmp_path, {"requirements.txt": "v==1\n"})
    first = git(repo, "rev-parse", "HEAD")
    git(repo, "tag", "-a", "v1.0", "-m", "release 1.0")
    git(repo, "tag", "light", first)
    git(repo, "checkout", "--quiet", "-b", "feature")
    feature = commit_files(repo, {"requirements.txt": "v==feature\n"})
    git(repo, "checkout", "--quiet", "main")
    second = commit_files(repo, {"requirements.txt": "v==2\n"})
    return repo, {"first": first, "feature": feature, "second": second}


@pytest.mark.parametrize("kind", SOURCES)
@pytest.mark.parametrize(
    ("ref", "expected_commit", "expected_text"),
    [
        (None, "second", "v==2\n"),
        ("main", "second", "v==2\n"),
        ("feature", "feature", "v==feature\n"),
        ("refs/heads/feature", "feature", "v==feature\n"),
        ("v1.0", "first", "v==1\n"),  # annotated tag
        ("light", "first", "v==1\n"),  # lightweight tag
        ("<first>", "first", "v==1\n"),  # full commit id
        ("<first:7>", "first", "v==1\n"),  # abbreviated commit id
        ("<feature:10>", "feature", "v==feature\n"),
    ],
)
def test_named_refs(
    history: tuple[Path, dict[str, str]],
    cache_dir: Path,
    kind: str,
    ref: str | None,
    expected_commit: str,
    expected_text: str,
) -> None:
    repo, commits = history
    if ref is not None and ref.startswith("<"):
        name, _, length = ref.strip("<>").partition(":")
        ref = commits[name][: int(length)] if length else commits[name]

    snapshot = fetch_snapshot(SOURCES[kind](repo), ref, wanted=lockfiles_only, cache_dir=cache_dir)

    assert snapshot.ref == ref
    assert snapshot.commit == commits[expected_commit]
    assert texts(snapshot) == {"requirements.txt": expected_text}


@pytest.mark.parametrize("ref", ["feature", "v1.0", "<first>", "<feature:8>"])
def test_named_refs_on_an_existing_clone(history: tuple[Path, dict[str, str]], cache_dir: Path, ref: str) -> None:
    """The second call fetches into the cached clone instead of cloning: every ref kind must
    still resolve, including commits made after the clone."""
    repo, commits = history
    url = file_url(repo)
    fetch_snapshot(url, wanted=lockfiles_only, cache_dir=cache_dir)
    git(repo, "checkout", "--quiet", "feature")
    commits["feature"] = commit_files(repo, {"requirements.txt": "v==feature2\n"})
    git(repo, "checkout", "--quiet", "main")
    expected = {"feature": "v==feature2\n", "<feature:8>": "v==feature2\n"}.get(ref, "v==1\n")
    if ref.startswith("<"):
        name, _, length = ref.strip("<>").partition(":")
        ref = commits[name][: int(length)] if length else commits[name]

    snapshot = fetch_snapshot(url, ref, wanted=lockfiles_only, cache_dir=cache_dir)

    assert texts(snapshot) == {"requirements.txt": expected}


def test_second_call_fetches_into_the_cached_clone(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path, LOCKFILES)
    url = file_url(repo)
    trace = tmp_path / "trace.log"
    monkeypatch.setenv("GIT_TRACE", str(trace))

    fetch_snapshot(url, wanted=lockfiles_only, cache_dir=cache_dir)
    clone_dir = cache_dir / hashlib.sha256(url.encode()).hexdigest()
    assert (clone_dir / "HEAD").is_file()
    assert git(clone_dir, "config", "remote.origin.partialclonefilter") == "blob:none"
    inode = clone_dir.stat().st_ino
    first_trace = trace.read_text()
    assert "built-in: git clone" in first_trace
    trace.write_text("")

    commit_files(repo, {"requirements.txt": "psutil==6.1.0\n"})
    snapshot = fetch_snapshot(url, wanted=lockfiles_only, cache_dir=cache_dir)

    second_trace = trace.read_text()
    assert "git clone" not in second_trace
    assert "built-in: git fetch" in second_trace
    assert clone_dir.stat().st_ino == inode
    assert texts(snapshot)["requirements.txt"] == "psutil==6.1.0\n"
    assert snapshot.commit == git(repo, "rev-parse", "HEAD")


def test_fetches_only_the_wanted_blobs_in_one_request(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path, {**LOCKFILES, "big.dat": "x" * 50_000})
    url = file_url(repo)
    trace = tmp_path / "trace.log"
    monkeypatch.setenv("GIT_TRACE", str(trace))

    snapshot = fetch_snapshot(url, wanted=lockfiles_only, cache_dir=cache_dir)

    clone_dir = cache_dir / hashlib.sha256(url.encode()).hexdigest()
    missing = missing_objects(clone_dir, snapshot.commit or "")
    assert missing == {blob_id(repo, "HEAD", p) for p in ("README.md", "src/app.py", "big.dat")}
    blob_fetches = [line for line in trace.read_text().splitlines() if "built-in: git fetch" in line]
    assert len(blob_fetches) == 1, blob_fetches
    # The size check and the read ask for the same blobs: the clone's missing objects are listed once.
    listings = [line for line in trace.read_text().splitlines() if "built-in: git rev-list" in line]
    assert len(listings) == 1, listings


# --- file rules ------------------------------------------------------------------------------


SIZE_CASES = [
    # (max_file_bytes, expected reason for the 2,001-byte file or None if read)
    (2_001, None),
    (2_000, "larger than 2 kB"),
    (1_999, "larger than 1999 bytes"),
    (2_000_000, None),
]


@pytest.mark.parametrize("kind", [*SOURCES, "ref"])
@pytest.mark.parametrize(("max_file_bytes", "reason"), SIZE_CASES)
def test_size_limit(tmp_path: Path, cache_dir: Path, kind: str, max_file_bytes: int, reason: str | None) -> None:
    content = "a==1\n" * 400 + "#"  # 2,001 bytes
    repo = make_repo(tmp_path, {"requirements.txt": content, "small.txt": "b==2\n"})
    source = str(repo) if kind == "ref" else SOURCES[kind](repo)
    ref = "main" if kind == "ref" else None

    snapshot = fetch_snapshot(source, ref, wanted=lockfiles_only, cache_dir=cache_dir, max_file_bytes=max_file_bytes)

    assert texts(snapshot)["small.txt"] == "b==2\n"
    if reason is None:
        assert texts(snapshot)["requirements.txt"] == content
        assert snapshot.skipped == ()
    else:
        assert snapshot.skipped == (SkippedFile("requirements.txt", reason),)


ENCODING_CASES = {
    "nul.txt": (b"abc\x00def\n", None),
    "latin1.txt": ("caf\u00e9==1\n".encode("latin-1"), None),
    "wheel.bin": (bytes(range(256)), None),
    "bom.txt": (b"\xef\xbb\xbfflask==3.0\n", "flask==3.0\n"),
    "utf8.txt": ("caf\u00e9==1\n".encode(), "caf\u00e9==1\n"),
    "crlf.txt": (b"a==1\r\nb==2\r\n", "a==1\r\nb==2\r\n"),
    "empty.txt": (b"", ""),
}


@pytest.mark.parametrize("kind", [*SOURCES, "ref"])
def test_binary_files_are_skipped_and_bom_stripped(tmp_path: Path, cache_dir: Path, kind: str) -> None:
    repo = make_repo(tmp_path, {path: data for path, (data, _) in ENCODING_CASES.items()})
    source = str(repo) if kind == "ref" else SOURCES[kind](repo)

    snapshot = fetch_snapshot(source, "main" if kind == "ref" else None, wanted=lockfiles_only, cache_dir=cache_dir)

    expected_texts = {p: text for p, (_, text) in ENCODING_CASES.items() if text is not None}
    expected_skipped = {p: "binary file" for p, (_, text) in ENCODING_CASES.items() if text is None}
    assert texts(snapshot) == expected_texts
    assert reasons(snapshot) == expected_skipped
    sizes = {f.path: f.size for f in snapshot.files}
    assert sizes["bom.txt"] == len(ENCODING_CASES["bom.txt"][0])  # size as stored, BOM included


SYMLINKS: dict[str, Symlink | str] = {
    "real/requirements.txt": "real==1\n",
    "requirements.txt": Symlink("real/requirements.txt"),
    "linked-dir": Symlink("real"),
    "chain.txt": Symlink("requirements.txt"),
    "via-dir.txt": Symlink("linked-dir/requirements.txt"),
    "outside.txt": Symlink("../outside/requirements.txt"),
    "absolute.txt": Symlink("/etc/hostname"),
    "dangling.txt": Symlink("nowhere/requirements.txt"),
    "loop-a.txt": Symlink("loop-b.txt"),
    "loop-b.txt": Symlink("loop-a.txt"),
    "dir-link.txt": Symlink("real"),
}
SYMLINK_FILES = {
    "real/requirements.txt": "real==1\n",
    "requirements.txt": "real==1\n",
    "chain.txt": "real==1\n",
    "via-dir.txt": "real==1\n",
}
SYMLINK_SKIPPED = {
    "outside.txt": "symlink leaves the repository",
    "absolute.txt": "symlink leaves the repository",
    "dangling.txt": "dangling symlink",
    "loop-a.txt": "symlink loop",
    "loop-b.txt": "symlink loop",
    "dir-link.txt": "symlink to a directory",
}


@pytest.mark.parametrize("kind", [*SOURCES, "ref"])
def test_symlinks(tmp_path: Path, cache_dir: Path, kind: str) -> None:
    write_files(tmp_path / "outside", {"requirements.txt": "outside==1\n"})
    repo = make_repo(tmp_path, SYMLINKS)
    source = str(repo) if kind == "ref" else SOURCES[kind](repo)

    snapshot = fetch_snapshot(source, "main" if kind == "ref" else None, wanted=lockfiles_only, cache_dir=cache_dir)

    assert texts(snapshot) == SYMLINK_FILES
    assert reasons(snapshot) == SYMLINK_SKIPPED


# --- read() for includes ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", [*SOURCES, "ref"])
def test_read_other_files_at_the_same_commit(tmp_path: Path, cache_dir: Path, kind: str) -> None:
    repo = make_repo(
        tmp_path,
        {**LOCKFILES, **SYMLINKS, "constraints.in": "c==1\n", "blob.in": b"\x00\x01", "large.in": "x" * 100},
    )
    source = str(repo) if kind == "ref" else SOURCES[kind](repo)
    ref = "main" if kind == "ref" else None
    snapshot = fetch_snapshot(source, ref, wanted=lambda p: p == "README.md", cache_dir=cache_dir, max_file_bytes=50)
    commit_files(repo, {"constraints.in": "c==2\n"})  # a later commit must not leak in

    cases = {
        "constraints.in": None if kind == "path" else "c==1\n",
        "./requirements/../constraints.in": None if kind == "path" else "c==1\n",
        "requirements.txt": "real==1\n",  # followed symlink
        "linked-dir/requirements.txt": "real==1\n",  # through a symlinked directory
        "missing.txt": None,
        "../outside/requirements.txt": None,
        "/etc/hostname": None,
        "outside.txt": None,
        "blob.in": None,
        "large.in": None,
        "": None,
    }
    if kind == "path":  # the work tree is read from disk: it shows the latest content
        cases["constraints.in"] = cases["./requirements/../constraints.in"] = "c==2\n"
    assert {path: snapshot.read(path) for path in cases} == cases


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [*SOURCES, "ref"])
@pytest.mark.parametrize("ref", ["no-such-branch", "0123456789abcdef0123456789abcdef01234567", "deadbee"])
def test_unknown_ref(tmp_path: Path, cache_dir: Path, kind: str, ref: str) -> None:
    repo = make_repo(tmp_path, LOCKFILES)
    source = str(repo) if kind == "ref" else SOURCES[kind](repo)

    with pytest.raises(GitError) as caught:
        fetch_snapshot(source, ref, wanted=lockfiles_only, cache_dir=cache_dir)

    assert caught.value.transient is False
    message = str(caught.value)
    assert source in message and repr(ref) in message and "\n" not in message


@pytest.mark.parametrize("ref", ["-upload-pack=touch /tmp/x", "bad ref", ""])
def test_invalid_ref_is_refused_before_running_git(tmp_path: Path, cache_dir: Path, ref: str) -> None:
    repo = make_repo(tmp_path, LOCKFILES)
    with pytest.raises(GitError, match="invalid ref") as caught:
        fetch_snapshot(file_url(repo), ref, wanted=lockfiles_only, cache_dir=cache_dir)
    assert caught.value.transient is False
    assert not cache_dir.exists()


@pytest.mark.parametrize(
    "source",
    [
        lambda tmp: str(tmp / "no-such-dir"),
        lambda tmp: (tmp / "no-such-repo").as_uri(),
        lambda tmp: (tmp / "plain-dir").as_uri(),
        lambda tmp: str(tmp / "plain-dir" / "file.txt"),
    ],
    ids=["path", "file-url", "file-url-not-a-repo", "path-is-a-file"],
)
def test_missing_repository(tmp_path: Path, cache_dir: Path, source: Callable[[Path], str]) -> None:
    write_files(tmp_path / "plain-dir", {"file.txt": "x\n"})
    with pytest.raises(GitError) as caught:
        fetch_snapshot(source(tmp_path), wanted=lockfiles_only, cache_dir=cache_dir)
    assert caught.value.transient is False
    assert source(tmp_path) in str(caught.value)


def test_empty_remote_repository(tmp_path: Path, cache_dir: Path) -> None:
    repo = make_repo(tmp_path, {})
    snapshot = fetch_snapshot(file_url(repo), wanted=lockfiles_only, cache_dir=cache_dir)
    assert (snapshot.commit, snapshot.files, snapshot.skipped) == (None, (), ())
    assert snapshot.read("requirements.txt") is None


class _StatusHandler(http.server.BaseHTTPRequestHandler):
    status = 404

    def do_GET(self) -> None:
        self.send_response(self.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def http_status_server() -> Iterator[Callable[[int], str]]:
    """A loopback HTTP server answering every request with the status asked for."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(status: int) -> str:
        handler = type("Handler", (_StatusHandler,), {"status": status})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("status", "transient"),
    [(404, False), (403, False), (401, False), (500, True), (503, True), (429, True)],
)
def test_http_failures_are_classified_and_credentials_redacted(
    cache_dir: Path, http_status_server: Callable[[int], str], status: int, transient: bool
) -> None:
    base = http_status_server(status)
    url = base.replace("http://", "http://deploy:s3cret-token@") + "/org/repo.git"

    with pytest.raises(GitError) as caught:
        fetch_snapshot(url, "main", wanted=lockfiles_only, cache_dir=cache_dir)

    message = str(caught.value)
    assert caught.value.transient is transient, message
    assert "s3cret-token" not in message and "deploy" not in message
    assert base.replace("http://", "http://***@") + "/org/repo.git" in message
    assert "'main'" in message


def test_connection_refused_is_transient(cache_dir: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(GitError) as caught:
        fetch_snapshot(f"http://127.0.0.1:{port}/repo.git", wanted=lockfiles_only, cache_dir=cache_dir)
    assert caught.value.transient is True


def test_timeout_is_transient(cache_dir: Path) -> None:
    with socket.socket() as server:  # accepts connections, never answers
        server.bind(("127.0.0.1", 0))
        server.listen()
        url = f"http://127.0.0.1:{server.getsockname()[1]}/repo.git"
        with pytest.raises(GitError, match="timed out") as caught:
            fetch_snapshot(url, wanted=lockfiles_only, cache_dir=cache_dir, timeout=1)
    assert caught.value.transient is True
    assert not any(cache_dir.glob("*.tmp-*"))  # the half-made clone is cleaned up


def test_concurrent_calls_share_one_clone(tmp_path: Path, cache_dir: Path) -> None:
    repo = make_repo(tmp_path, LOCKFILES)
    url = file_url(repo)
    results: list[RepoSnapshot | BaseException] = []

    def scan() -> None:
        try:
            results.append(fetch_snapshot(url, wanted=lockfiles_only, cache_dir=cache_dir))
        except BaseException as error:  # reported by the assertion below
            results.append(error)

    threads = [threading.Thread(target=scan) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert all(isinstance(r, RepoSnapshot) for r in results), results
    seen = {texts(r)["requirements.txt"] for r in results if isinstance(r, RepoSnapshot)}
    assert seen == {LOCKFILES["requirements.txt"]}
    assert sorted(p.name for p in cache_dir.iterdir()) == sorted(
        [hashlib.sha256(url.encode()).hexdigest(), hashlib.sha256(url.encode()).hexdigest() + ".lock"]
    )


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("https://user:token@host.test/org/repo.git", "https://***@host.test/org/repo.git"),
        ("https://x-access-token:ghs_abc@host.test/r", "https://***@host.test/r"),
        ("https://token@host.test/r", "https://***@host.test/r"),
        ("https://us@r:p@ss@host.test/r", "https://***@host.test/r"),
        ("ssh://git@host.test/r.git", "ssh://***@host.test/r.git"),
        ("git@host.test:org/repo.git", "git@host.test:org/repo.git"),
        ("https://host.test/r", "https://host.test/r"),
        (
            "failed: https://a:b@h.test/x and http://c:d@i.test/y",
            "failed: https://***@h.test/x and http://***@i.test/y",
        ),
        ("/srv/repos/a@b", "/srv/repos/a@b"),
    ],
)
def test_redact_url(text: str, redacted: str) -> None:
    assert redact_url(text) == redacted


# --- history ---------------------------------------------------------------------------------

START = datetime(2023, 1, 2, 9, 0, tzinfo=UTC)
WEEK = timedelta(weeks=1)


@pytest.mark.parametrize("kind", SOURCES)
def test_commits_by_date_weekly_for_a_year(tmp_path: Path, cache_dir: Path, kind: str) -> None:
    repo = make_repo(tmp_path, {"requirements.txt": "week==0\n"}, date=START)
    commits = [git(repo, "rev-parse", "HEAD")]
    for week in range(1, 53):
        commits.append(commit_files(repo, {"requirements.txt": f"week=={week}\n"}, date=START + week * WEEK))

    points = commits_by_date(
        SOURCES[kind](repo),
        None,
        since=START - 2 * WEEK,  # the first two points come before the first commit
        every=WEEK,
        cache_dir=cache_dir,
        until=START + 52 * WEEK + timedelta(days=3),
    )

    assert points == [(START + week * WEEK, commits[week]) for week in range(53)]


@pytest.mark.parametrize("kind", SOURCES)
def test_commits_by_date_keeps_one_point_per_period_and_follows_first_parent(
    tmp_path: Path, cache_dir: Path, kind: str
) -> None:
    day = timedelta(days=1)
    repo = make_repo(tmp_path, {"requirements.txt": "a==1\n"}, date=START)
    base = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "--quiet", "-b", "side")
    commit_files(repo, {"side.txt": "s\n"}, date=START + 9 * day)  # a side-branch commit
    git(repo, "checkout", "--quiet", "main")
    git(repo, "merge", "--quiet", "--no-ff", "-m", "merge side", "side", date=START + 20 * day)
    merge = git(repo, "rev-parse", "HEAD")

    points = commits_by_date(
        SOURCES[kind](repo), "main", since=START, every=WEEK, cache_dir=cache_dir, until=START + 4 * WEEK
    )

    # Week 1 (day 7) and week 2 (day 14) still see the base commit: the side commit of day 9
    # was not on main until the merge of day 20. Unchanged weeks repeat the commit.
    assert points == [
        (START, base),
        (START + WEEK, base),
        (START + 2 * WEEK, base),
        (START + 3 * WEEK, merge),
        (START + 4 * WEEK, merge),
    ]


def test_commits_by_date_edge_cases(tmp_path: Path, cache_dir: Path) -> None:
    repo = make_repo(tmp_path, {"a.txt": "1\n"}, date=START)
    head = git(repo, "rev-parse", "HEAD")
    naive = START.replace(tzinfo=None)

    def points(source: Path, since: datetime, until: datetime) -> list[tuple[datetime, str]]:
        return commits_by_date(str(source), None, since=since, every=WEEK, cache_dir=cache_dir, until=until)

    assert points(repo, naive, naive) == [(START, head)]  # naive means UTC; the bounds are inclusive
    assert points(repo, START - WEEK, START - timedelta(seconds=1)) == []  # before the first commit
    assert points(repo, START, START - WEEK) == []  # since after until
    assert points(make_repo(tmp_path, {}, name="empty"), START, START + WEEK) == []
    with pytest.raises(ValueError, match="positive"):
        commits_by_date(str(repo), None, since=START, every=timedelta(0), cache_dir=cache_dir)
    with pytest.raises(GitError, match="unknown ref") as caught:
        commits_by_date(file_url(repo), "nope", since=START, every=WEEK, cache_dir=cache_dir)
    assert caught.value.transient is False
    write_files(tmp_path / "plain", {"a.txt": "1\n"})
    with pytest.raises(GitError, match="not a git repository"):
        commits_by_date(str(tmp_path / "plain"), None, since=START, every=WEEK, cache_dir=cache_dir)


def test_values_are_frozen() -> None:
    value = RepoFile("a.txt", None, 1, "a")
    with pytest.raises(AttributeError):
        value.text = "b"  # type: ignore[misc]
    assert not hasattr(value, "__dict__")


# --- head_commit: the cheap "has anything moved?" question -----------------------------------


def test_head_commit_answers_without_fetching(tmp_path):
    from scanners.git import head_commit

    repo = make_repo(tmp_path, {"requirements.txt": "six==1.16.0\n"})
    first = git(repo, "rev-parse", "HEAD")
    git(repo, "tag", "-a", "v1", "-m", "release 1")
    git(repo, "branch", "stable")
    second = commit_files(repo, {"requirements.txt": "six==1.17.0\n"})
    url = file_url(repo)
    assert head_commit(url) == second
    assert head_commit(url, "main") == second
    assert head_commit(url, "stable") == first
    assert head_commit(url, "v1") == first  # the commit an annotated tag points at, not the tag object
    assert head_commit(url, first) == first
    assert head_commit(url, "no-such-branch") is None
    # A local work tree may hold uncommitted edits: no cheap answer; at a ref, the commit.
    assert head_commit(str(repo)) is None
    assert head_commit(str(repo), "stable") == first


def test_head_commit_of_a_missing_remote_raises(tmp_path):
    from scanners.git import GitError, head_commit

    with pytest.raises(GitError) as info:
        head_commit((tmp_path / "nowhere").as_uri())
    assert not info.value.transient
