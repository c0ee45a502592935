"""``archcheck`` beside ``uv pip install --dry-run`` on the same real lockfiles, warm and cold (issue 19).

Run by hand (never in tests): it asks the public index over the network. The repositories are built
at run time from ``../shared/corpus/real-lockfiles`` (never copied into this project):

* ``requirements``: the pins of fastapi-template's uv.lock (2026) as a plain requirements.txt,
  ``name==version ; markers`` (no hashes), read by both tools: a modern lock, wheels everywhere;
* ``hashed``: warehouse's pip-compile ``--generate-hashes`` lock;
* ``poetry``: mealie's poetry.lock, exported for uv as ``name==version ; markers`` lines (the
  markers this project's poetry parser derives from the lock's dependency edges).

archcheck checks every target (linux/amd64 and linux/arm64) with ``python -m scanners``; uv resolves
one (``--python-platform aarch64-manylinux_2_N``). Runs alternate (archcheck, uv, archcheck, …).
*Cold* gives each run empty caches (``READINESS_VAR_DIR``, ``UV_CACHE_DIR``), *warm* keeps them
after one untimed run. Packages uv cannot build from source on this machine (old sdists) are left
out of uv's input, never archcheck's, and counted. ``--memory`` also runs archcheck alone on one
lock of every distinct pin of the corpus (365 packages), then on a 500-package lock (those pins plus
renamed copies of their pages, from a loopback index), and prints its peak memory.

    .venv/bin/pip install -r bench/requirements.txt
    .venv/bin/python bench/bench_archcheck.py [--runs 5] [--repos hashed,poetry] [--memory]
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from packaging.utils import canonicalize_name  # noqa: E402

from scanners.index import public_index_url  # noqa: E402
from scanners.lockfiles import parse_lockfile  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "real-lockfiles"
_CPU: list[float] = []
_FAILED_BUILD = re.compile(r"Failed to (?:download and )?build `([A-Za-z0-9._-]+)==")


@dataclass
class BenchRepo:
    name: str
    path: Path
    python: str
    glibc: str
    uv_requirements: Path
    left_out_of_uv: list[str] = field(default_factory=list)


def _git_repo(path: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        (path / relative).parent.mkdir(parents=True, exist_ok=True)
        (path / relative).write_text(text)
    git = ["git", "-C", str(path), "-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "lock"], check=True)
    return path


def build_repos(work: Path, wanted: set[str]) -> list[BenchRepo]:
    repos = []
    if "requirements" in wanted:
        text = _export(parse_lockfile("uv.lock", (CORPUS / "fastapi-template/uv.lock").read_text()))
        repos.append(_repo(work, "requirements", {"requirements.txt": text}, text, "3.13", "2.36"))
    if "hashed" in wanted:
        text = (CORPUS / "warehouse/requirements/main.txt").read_text()
        repos.append(_repo(work, "hashed", {"requirements/main.txt": text}, text, "3.8", "2.28"))
    if "poetry" in wanted:
        text = (CORPUS / "mealie/poetry.lock").read_text()
        repos.append(
            _repo(work, "poetry", {"poetry.lock": text}, _export(parse_lockfile("poetry.lock", text)), "3.9", "2.31")
        )
    return repos


def _export(parsed) -> str:
    """``name==version ; markers`` per index package of a parsed lock (what ``poetry export`` writes)."""
    return "".join(
        f"{p.name}=={p.version}" + (f" ; {p.markers}" if p.markers else "") + "\n"
        for p in parsed.packages
        if p.version and p.source == "index"
    )


def _repo(work: Path, name: str, files: dict[str, str], uv_text: str, python: str, glibc: str) -> BenchRepo:
    path = _git_repo(work / name, files)
    uv_requirements = work / f"{name}-uv.txt"
    uv_requirements.write_text(uv_text)
    return BenchRepo(name, path, python, glibc, uv_requirements)


def _uv_bin() -> str:
    import uv  # bench/requirements.txt

    return uv.find_uv_bin()


def _timed_rss(command: list[str], env: dict[str, str]) -> tuple[float, float, int, bytes, bytes]:
    """Wall seconds, peak RSS (MB, from wait4: this process alone), exit code, stdout, stderr; the
    process's CPU seconds (user + system) go to ``_CPU`` (wall time on a shared machine lies)."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=err, cwd=ROOT)
        _pid, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        _CPU.append(usage.ru_utime + usage.ru_stime)
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return wall, usage.ru_maxrss / 1024, process.returncode, out.read(), err.read()


def run_archcheck(
    repo: BenchRepo, var_dir: Path, *, index_url: str | None = None, measured_alone: bool = False
) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one run. ``measured_alone``: through ``/usr/bin/time``, whose
    small process forks archcheck: a child forked from this one starts with this one's resident
    memory in its peak (wait4's ru_maxrss spans the exec), which the 500-package pages would inflate."""
    env = {**os.environ, "READINESS_VAR_DIR": str(var_dir), "READINESS_INDEX_URL": index_url or public_index_url()}
    # Bytecode as an installed package has it: without it every run compiles ~70 modules (~0.15 s).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    command = [
        sys.executable,
        "-m",
        "scanners",
        str(repo.path),
        "--python",
        repo.python,
        "--libc",
        f"glibc:{repo.glibc}",
    ]
    command += ["--format", "json"]
    if measured_alone:
        command = ["/usr/bin/time", "-f", "maxrss_kb=%M", *command]
    wall, rss, code, out, err = _timed_rss(command, env)
    if measured_alone:
        rss = int(re.findall(rb"maxrss_kb=(\d+)", err)[-1]) / 1024
    if code not in (0, 1) or json.loads(out)["schema"] != "archcheck/1":
        raise SystemExit(f"archcheck failed on {repo.name} ({code}): {err.decode()[-2000:]}")
    return wall, rss


def uv_command(repo: BenchRepo, target: Path) -> list[str]:
    return [
        _uv_bin(),
        "pip",
        "install",
        "--dry-run",
        "--python-platform",
        f"aarch64-manylinux_{repo.glibc.replace('.', '_')}",
        "--python-version",
        repo.python,
        "--target",
        str(target),
        "--index-url",
        public_index_url(),
        "-r",
        str(repo.uv_requirements),
    ]


def run_uv(repo: BenchRepo, cache_dir: Path, work: Path) -> tuple[float, float, int, bytes]:
    env = {**os.environ, "UV_CACHE_DIR": str(cache_dir), "UV_NO_PROGRESS": "1"}
    wall, rss, code, _out, err = _timed_rss(uv_command(repo, work / "uv-target"), env)
    return wall, rss, code, err


def leave_out_what_uv_cannot_build(repo: BenchRepo, work: Path, *, attempts: int = 12) -> None:
    """Drop from uv's input the packages its dry run fails to build (sdists of old releases)."""
    cache = work / "uv-probe-cache"
    for _ in range(attempts):
        _wall, _rss, code, err = run_uv(repo, cache, work)
        if code == 0:
            return
        failed = _FAILED_BUILD.findall(err.decode())
        if not failed:
            raise SystemExit(f"uv failed on {repo.name}: {err.decode()[-2000:]}")
        name = failed[0].lower().replace("_", "-")
        repo.left_out_of_uv.append(name)
        kept, skipping = [], False
        for line in repo.uv_requirements.read_text().splitlines(keepends=True):
            head = re.split(r"[=<>!~ ;\[]", line.strip(), maxsplit=1)[0].lower().replace("_", "-")
            if line[:1] not in (" ", "\t"):
                skipping = head == name
            if not skipping:
                kept.append(line)
        repo.uv_requirements.write_text("".join(kept))
    raise SystemExit(f"uv still fails on {repo.name} after leaving out {repo.left_out_of_uv}")


def bench(repo: BenchRepo, work: Path, runs: int) -> list[dict]:
    rows = []
    for mode in ("cold", "warm"):
        times: dict[str, list[float]] = {"archcheck": [], "uv": []}
        cpu: dict[str, list[float]] = {"archcheck": [], "uv": []}
        rss: list[float] = []
        var_dir, uv_cache = work / f"{repo.name}-var", work / f"{repo.name}-uv-cache"
        if mode == "warm":
            run_archcheck(repo, var_dir)
            run_uv(repo, uv_cache, work)
        for _ in range(runs):
            if mode == "cold":
                shutil.rmtree(var_dir, ignore_errors=True)
                shutil.rmtree(uv_cache, ignore_errors=True)
            wall, peak = run_archcheck(repo, var_dir)
            times["archcheck"].append(wall)
            cpu["archcheck"].append(_CPU[-1])
            rss.append(peak)
            if mode == "cold":
                shutil.rmtree(uv_cache, ignore_errors=True)
            wall, _peak, code, err = run_uv(repo, uv_cache, work)
            if code != 0:
                raise SystemExit(f"uv failed on {repo.name}: {err.decode()[-2000:]}")
            times["uv"].append(wall)
            cpu["uv"].append(_CPU[-1])
        a, u = statistics.median(times["archcheck"]), statistics.median(times["uv"])
        ca, cu = statistics.median(cpu["archcheck"]), statistics.median(cpu["uv"])
        rows.append(
            {
                "repo": repo.name,
                "mode": mode,
                "archcheck_s": a,
                "uv_s": u,
                "ratio": a / u,
                "archcheck_cpu_s": ca,
                "uv_cpu_s": cu,
                "archcheck_mb": max(rss),
            }
        )
    return rows


def memory(work: Path) -> dict:
    """archcheck alone on one requirements lock of every distinct index pin of the corpus."""
    pins: dict[str, str] = {}
    for path in sorted(CORPUS.rglob("*")):
        if path.is_file() and path.name != "SOURCE.md" and path.suffix != ".in" and path.name != "Pipfile":
            try:
                parsed = parse_lockfile(path.name, path.read_text())
            except ValueError:
                continue
            for p in parsed.packages:
                if p.version and p.source == "index":
                    pins.setdefault(p.name, p.version)
    text = "".join(f"{name}=={version}\n" for name, version in sorted(pins.items()))
    repo = _repo(work, "all-pins", {"requirements.txt": text}, text, "3.11", "2.36")
    cold = run_archcheck(repo, work / "all-pins-var")
    warm = run_archcheck(repo, work / "all-pins-var")
    result = {"packages": len(pins), "cold_s": cold[0], "cold_mb": cold[1], "warm_s": warm[0], "warm_mb": warm[1]}
    return result | {f"500_{k}": v for k, v in memory_500(work, pins, work / "all-pins-var").items()}


def memory_500(work: Path, pins: dict[str, str], var_dir: Path, size: int = 500) -> dict:
    """archcheck on a 500-package lock, cold and warm: the corpus's pins, served by a loopback index
    from the pages the run above fetched, plus renamed copies of them (``clone<i>-<name>``, every
    file renamed alike) up to ``size``: the corpus has no lock that big."""
    pages = {}
    for body in var_dir.glob("index-cache/*/*.body"):
        page = json.loads(body.read_bytes())
        pages[canonicalize_name(page["name"])] = page
    pinned = {canonicalize_name(name): version for name, version in pins.items()}
    bodies, lock = {}, []
    for name, page in sorted(pages.items()):
        bodies[name] = json.dumps(page).encode()
        lock.append(f"{name}=={pinned[name]}")
    names = sorted(pages)
    for i in range(size - len(names)):
        original = names[(i * 7) % len(names)]
        clone = f"clone{i}-{original}"
        files = [{**f, "filename": f"clone{i}_{f['filename']}"} for f in pages[original]["files"]]
        bodies[clone] = json.dumps({**pages[original], "name": clone, "files": files, "versions": []}).encode()
        lock.append(f"{clone}=={pinned[original]}")
    text = "".join(f"{line}\n" for line in lock)
    repo = _repo(work, "500-pins", {"requirements.txt": text}, text, "3.11", "2.36")

    class Pages(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            body = bodies.get(self.path.strip("/").rsplit("/", 1)[-1], b"")
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/vnd.pypi.simple.v1+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    index_url = f"http://127.0.0.1:{server.server_address[1]}/simple/"
    try:
        cold = run_archcheck(repo, work / "500-pins-var", index_url=index_url, measured_alone=True)
        warm = run_archcheck(repo, work / "500-pins-var", index_url=index_url, measured_alone=True)
    finally:
        server.shutdown()
    return {"packages": len(lock), "cold_s": cold[0], "cold_mb": cold[1], "warm_s": warm[0], "warm_mb": warm[1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--repos", default="requirements,hashed,poetry")
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (printed)")
    args = parser.parse_args()
    if not CORPUS.is_dir():
        raise SystemExit(f"no corpus at {CORPUS}")
    work = Path(tempfile.mkdtemp(prefix="bench-archcheck-"))
    try:
        repos = build_repos(work, set(args.repos.split(",")))
        rows = []
        for repo in repos:
            leave_out_what_uv_cannot_build(repo, work)
            rows += bench(repo, work, args.runs)
        print(
            f"{'repo':13} {'mode':5} {'archcheck s':>11} {'uv s':>7} {'ratio':>6} {'CPU s a/uv':>12} {'archcheck MB':>12}"
        )
        for r in rows:
            print(
                f"{r['repo']:13} {r['mode']:5} {r['archcheck_s']:11.2f} {r['uv_s']:7.2f} {r['ratio']:6.2f} "
                f"{r['archcheck_cpu_s']:5.2f}/{r['uv_cpu_s']:<6.2f} {r['archcheck_mb']:12.0f}"
            )
        for repo in repos:
            if repo.left_out_of_uv:
                print(
                    f"{repo.name}: left out of uv's input (uv cannot build them here): {', '.join(repo.left_out_of_uv)}"
                )
        if args.memory:
            print("memory:", json.dumps(memory(work)))
    finally:
        if args.keep:
            print("work directory:", work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
