"""How fast the analyser decides verdicts, next to what the same verdicts cost with real pip.

Run by hand from the repository root::

    .venv/bin/python bench/bench_analyser.py [--releases 5000] [--passes 5] [--pip-sample 20]

A full organisation scan needs about a million verdicts (DESIGN.md "Scale"), so the goal is
>= 50,000 verdicts per second on one core from a warm cache (files parsed once, as the index
client's cache holds them). The releases are synthesised from the shapes of real releases:
the recorded fixture projects (renamed) and generated ones with 20-60 wheels across
cp39-cp313 on manylinux/musllinux/macOS/Windows, abi3 wheels, pure wheels and sdist-only
releases, some yanked, some with Requires-Python.

The hashed pass decides the same verdicts as a hash-checked lock would (pip-compile
``--generate-hashes``, Pipfile.lock): each release allows the sha256 of all but about 15% of its
wheels (those "uploaded after the lock"), so pip's hash filter runs on every verdict.

The pip column runs ``pip download --no-deps --only-binary=:all:`` with the target's whole
ladder (as tests/scanners/test_pip_agreement.py does) against a local fixture index, one
verdict at a time, and checks that pip picked the analyser's file.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scanners.analyser import decide  # noqa: E402
from scanners.distributions import DistributionFile  # noqa: E402
from scanners.targets import Target  # noqa: E402
from tests.support.index_server import FixtureIndexServer, load_fixture_pages  # noqa: E402
from tests.support.real_pip import pip_download, pip_env  # noqa: E402

TARGETS = (
    Target("linux/amd64", "3.11", "glibc", "2.36"),
    Target("linux/arm64", "3.11", "glibc", "2.36"),
    Target("linux/arm64", "3.12", "musl", "1.2"),
    Target("linux/amd64", "3.9", "glibc", "2.17"),
)

_PLATFORMS = (
    "manylinux_2_17_x86_64.manylinux2014_x86_64",
    "manylinux_2_17_aarch64.manylinux2014_aarch64",
    "manylinux_2_28_x86_64",
    "manylinux_2_28_aarch64",
    "manylinux_2_5_i686.manylinux1_i686",
    "manylinux_2_12_x86_64.manylinux2010_x86_64",
    "musllinux_1_1_x86_64",
    "musllinux_1_2_aarch64",
    "macosx_10_9_x86_64",
    "macosx_11_0_arm64",
    "macosx_10_9_universal2",
    "win_amd64",
    "win32",
    "win_arm64",
)
_PYTHONS = ("39", "310", "311", "312", "313")
_REQUIRES = (None, ">=3.8", ">=3.9", ">=3.10", ">=3.7,<4", ">=3.9, !=3.9.0")


def _release_dicts(rng: random.Random, name: str, version: str, shape: str) -> list[dict[str, Any]]:
    dist = name.replace("-", "_")
    rp = rng.choice(_REQUIRES)
    files: list[dict[str, Any]] = []
    if shape == "native":
        pythons = _PYTHONS[rng.randrange(0, 3) :]
        per_python = rng.randint(max(4, 20 // len(pythons) + 1), min(len(_PLATFORMS), 60 // len(pythons)))
        platforms = rng.sample(_PLATFORMS, per_python)
        files += [{"filename": f"{dist}-{version}-cp{py}-cp{py}-{plat}.whl"} for py in pythons for plat in platforms]
    elif shape == "abi3":
        platforms = rng.sample(_PLATFORMS, rng.randint(5, 12))
        files += [{"filename": f"{dist}-{version}-cp38-abi3-{plat}.whl"} for plat in platforms]
        files += [{"filename": f"{dist}-{version}-cp{py}-cp{py}-win32.whl"} for py in _PYTHONS]
        # pad to at least 20 wheels with per-Python macOS builds, as real abi3 projects often ship
        files += [
            {"filename": f"{dist}-{version}-cp{py}-cp{py}-macosx_10_{9 + i}_x86_64.whl"}
            for i in range(3)
            for py in _PYTHONS
        ]
    elif shape == "pure":
        files.append({"filename": f"{dist}-{version}-py3-none-any.whl"})
    if shape != "wheels-only" or not files:
        if shape == "wheels-only":
            files += [{"filename": f"{dist}-{version}-cp{py}-cp{py}-macosx_11_0_arm64.whl"} for py in _PYTHONS]
        if rng.random() < 0.9 or shape == "sdist-only":
            files.append({"filename": f"{dist}-{version}.tar.gz"})
    for f in files:
        if rp:
            f["requires-python"] = rp
    if rng.random() < 0.02:
        for f in files:
            f["yanked"] = "bad build"
    elif rng.random() < 0.03 and files:
        rng.choice(files)["yanked"] = True
    return files


def _fixture_shapes() -> list[list[dict[str, Any]]]:
    shapes = []
    for page in load_fixture_pages().values():
        by_version: dict[str, list[dict[str, Any]]] = {}
        for f in page["files"]:
            v = DistributionFile(f["filename"]).version
            if v is not None:
                by_version.setdefault(str(v), []).append(f)
        shapes.extend(by_version.values())
    return shapes


def _renamed(shape: list[dict[str, Any]], name: str, version: str) -> list[dict[str, Any]]:
    dist = name.replace("-", "_")
    out = []
    for f in shape:
        filename = f["filename"]
        old = DistributionFile(filename)
        if old.kind == "wheel":
            tail = filename.split("-", 2)[2]
            new = f"{dist}-{version}-{tail}"
        elif old.kind == "sdist":
            new = f"{dist}-{version}.tar.gz"
        else:
            continue
        out.append({"filename": new, "requires-python": f.get("requires-python"), "yanked": f.get("yanked", False)})
    return out


def make_releases(count: int, seed: int = 20240601) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """``count`` distinct (name, version) releases as PEP 691 file dicts."""
    rng = random.Random(seed)
    fixtures = _fixture_shapes()
    shapes = (
        ["native"] * 50 + ["abi3"] * 12 + ["pure"] * 18 + ["sdist-only"] * 5 + ["wheels-only"] * 3 + ["fixture"] * 12
    )
    releases: dict[tuple[str, str], list[dict[str, Any]]] = {}
    i = 0
    while len(releases) < count:
        name = f"bench-pkg-{i // 3:05d}"
        version = f"{1 + i % 3}.{rng.randint(0, 30)}.{rng.randint(0, 9)}"
        i += 1
        if (name, version) in releases:
            continue
        shape = rng.choice(shapes)
        if shape == "fixture":
            files = _renamed(rng.choice(fixtures), name, version)
        else:
            files = _release_dicts(rng, name, version, shape)
        releases[(name, version)] = files
    return releases


def _parse(dicts: list[dict[str, Any]]) -> tuple[DistributionFile, ...]:
    return tuple(
        DistributionFile(
            d["filename"],
            requires_python=d.get("requires-python"),
            yanked=d.get("yanked", False),
            sha256=hashlib.sha256(d["filename"].encode()).hexdigest(),
        )
        for d in dicts
    )


def lock_hashes(releases: dict[tuple[str, str], tuple[DistributionFile, ...]], seed: int = 29) -> dict:
    """Per release, the digests a hashed lock made "before the last uploads" allows."""
    rng = random.Random(seed)
    return {
        key: frozenset(f.sha256 for f in files if f.kind != "wheel" or rng.random() >= 0.15)
        for key, files in releases.items()
    }


def bench_analyser(
    releases: dict[tuple[str, str], tuple[DistributionFile, ...]], passes: int, hashes: dict | None = None
) -> tuple[float, Counter]:
    work = [(files, target, hashes[key] if hashes else None) for key, files in releases.items() for target in TARGETS]
    # warm the caches
    statuses: Counter = Counter(decide(files, target, allowed_hashes=allowed).status for files, target, allowed in work)
    best = float("inf")
    for _ in range(passes):
        start = time.perf_counter()
        for files, target, allowed in work:
            decide(files, target, allowed_hashes=allowed)
        best = min(best, time.perf_counter() - start)
    return len(work) / best, statuses


def bench_pip(
    sample: list[tuple[str, str, Target, list[dict[str, Any]], tuple[DistributionFile, ...]]],
) -> tuple[float, int]:
    """Seconds per verdict for real pip (sequential), and how many pip choices matched the analyser."""
    env = pip_env()
    agreed = 0
    with FixtureIndexServer(mode="json", projects_dir=None) as server:
        for name, _version, _target, dicts, _files in sample:
            server.add_project(name, dicts)
        start = time.perf_counter()
        for name, version, target, _dicts, files in sample:
            with tempfile.TemporaryDirectory() as dest:
                cmd = [*pip_download(dest, server.url, target), "--only-binary=:all:", f"{name}=={version}"]
                subprocess.run(cmd, capture_output=True, env=env, check=False)
                got = os.listdir(dest)
            expected = decide([f for f in files if f.kind == "wheel"], target)
            agreed += (got == [expected.file]) if expected.status == "wheel" else (got == [])
        elapsed = time.perf_counter() - start
    return elapsed / len(sample), agreed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--releases", type=int, default=5000)
    parser.add_argument("--passes", type=int, default=5, help="timed passes; the best one is reported")
    parser.add_argument("--pip-sample", type=int, default=20, help="0 skips the pip comparison")
    args = parser.parse_args(argv)

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the goal says

    t0 = time.perf_counter()
    raw = make_releases(args.releases)
    parsed = {key: _parse(dicts) for key, dicts in raw.items()}
    t_parse = time.perf_counter() - t0
    n_files = sum(len(f) for f in parsed.values())
    wheels = [sum(f.kind == "wheel" for f in fs) for fs in parsed.values()]
    print(
        f"releases: {len(parsed)} distinct (package, version), {n_files} files "
        f"({sum(wheels) / len(wheels):.1f} wheels per release on average, max {max(wheels)}), "
        f"parsed in {t_parse:.2f} s (not timed below)"
    )
    print(f"targets: {'; '.join(t.describe() for t in TARGETS)}")

    rate, statuses = bench_analyser(parsed, args.passes)
    per_verdict = 1 / rate
    print(
        f"analyser: {rate:,.0f} verdicts/s on one core ({per_verdict * 1e6:.2f} us per verdict, "
        f"best of {args.passes} passes over {len(parsed) * len(TARGETS):,} verdicts); "
        f"goal >= 50,000/s: {'met' if rate >= 50_000 else 'NOT met'}"
    )
    print(f"verdicts: {dict(sorted(statuses.items()))}")
    hashed_rate, hashed_statuses = bench_analyser(parsed, args.passes, lock_hashes(parsed))
    print(
        f"analyser, hash-checked lock: {hashed_rate:,.0f} verdicts/s on one core "
        f"({1e6 / hashed_rate:.2f} us per verdict); goal >= 50,000/s: {'met' if hashed_rate >= 50_000 else 'NOT met'}"
    )
    print(f"verdicts: {dict(sorted(hashed_statuses.items()))}")

    if args.pip_sample:
        rng = random.Random(7)
        keys = rng.sample(sorted(parsed), args.pip_sample)
        sample = [
            (name, version, TARGETS[i % len(TARGETS)], raw[(name, version)], parsed[(name, version)])
            for i, (name, version) in enumerate(keys)
        ]
        pip_per_verdict, agreed = bench_pip(sample)
        print(
            f"pip download: {pip_per_verdict * 1000:.0f} ms per verdict over {len(sample)} verdicts "
            f"(sequential, local index); agreed with the analyser on {agreed}/{len(sample)}"
        )
        print(f"ratio: the analyser is {pip_per_verdict / per_verdict:,.0f}x faster per verdict than pip")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
