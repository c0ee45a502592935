"""CPU per lockfile of reading each format, as a worker meets them mid-way through an organisation scan.

Run by hand from the repository root::

    .venv/bin/python bench/bench_lock_parsing.py [--repos 40] [--packages 150] [--pool 3000] [--profile PATH]

Writes ``--repos`` lockfiles of every format (:mod:`bench.lock_writers`), each pinning
``--packages`` random releases of a ``--pool`` of generated projects shaped as in
``bench_org_scan.py`` (made-up digests, sizes and URLs on ``index.test``: parsing does not check
them against anything), then parses them with :func:`scanners.lockfiles.parse_lockfile` in this
process, format by format: the first half warms the per-process memories a worker has by then, the
second half is timed (process CPU time). No index, no database: this is the part of a scan that
depends only on the lockfile's text, the largest one for locks that carry their own file lists.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import hashlib
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_org_scan import FIRST_UPLOAD, VERSIONS, _pool, _release_files  # noqa: E402
from bench.lock_writers import FORMATS, Release  # noqa: E402
from scanners.lockfiles import parse_lockfile  # noqa: E402

INDEX = "https://index.test/simple/"
PATHS = {
    "requirements": "requirements.txt",
    "requirements-hashed": "requirements.txt",
    "poetry-1.1": "poetry.lock",
    "poetry-2.1": "poetry.lock",
    "uv": "uv.lock",
    "pipfile": "Pipfile.lock",
    "pdm": "pdm.lock",
    "pylock": "pylock.toml",
}


def _releases(pool: dict[str, str]) -> dict[tuple[str, str], Release]:
    out = {}
    for i, (name, shape) in enumerate(pool.items()):
        for k, version in enumerate(VERSIONS):
            uploaded = FIRST_UPLOAD + dt.timedelta(days=90 * k, minutes=i)
            files = []
            for f in _release_files(name, version, shape, uploaded):
                digest = hashlib.sha256(f["filename"].encode()).hexdigest()
                url = f"https://index.test/files/{digest[:2]}/{f['filename']}"
                files.append({**f, "url": url, "hashes": {"sha256": digest}, "size": 1000 + len(f["filename"])})
            out[(name, version)] = Release(name, version, tuple(files))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repos", type=int, default=40, help="lockfiles per format (half warm-up, half timed)")
    parser.add_argument("--packages", type=int, default=150)
    parser.add_argument("--pool", type=int, default=3000)
    parser.add_argument("--profile", type=Path, help="cProfile the timed half into this file")
    parser.add_argument("--formats", nargs="+", choices=sorted(FORMATS), help="only these formats (default: all)")
    args = parser.parse_args()
    rng = random.Random(16)
    pool = _pool(rng, args.pool)
    releases = _releases(pool)
    names = sorted(pool)
    texts: dict[str, list[str]] = {}
    for fmt, writer in FORMATS.items():
        if args.formats and fmt not in args.formats:
            continue
        texts[fmt] = []
        for n in range(args.repos):
            picked = sorted(rng.sample(names, args.packages))
            pinned = [releases[(name, rng.choice(VERSIONS))] for name in picked]
            (text,) = writer(f"svc-{n:03d}", pinned, INDEX).values()
            texts[fmt].append(text)
    profiler = cProfile.Profile() if args.profile else None
    half = args.repos // 2
    total = 0.0
    print(f"{args.repos} lockfiles per format ({half} timed), {args.packages} packages of a pool of {args.pool}")
    for fmt, batch in texts.items():
        for text in batch[:half]:
            parse_lockfile(PATHS[fmt], text)
        started = time.process_time()
        for text in batch[half:]:
            parsed = (
                profiler.runcall(parse_lockfile, PATHS[fmt], text) if profiler else parse_lockfile(PATHS[fmt], text)
            )
            assert len(parsed.packages) >= args.packages and not parsed.problems, (fmt, parsed.problems[:3])
        per_lock = (time.process_time() - started) / (args.repos - half)
        total += per_lock
        print(f"  {fmt:20} {per_lock * 1000:7.1f} ms per lockfile ({len(batch[0]) // 1024} kB)")
    print(f"  {'mean over formats':20} {total / len(texts) * 1000:7.1f} ms")
    if profiler:
        profiler.dump_stats(args.profile)


if __name__ == "__main__":
    main()
