"""A Dockerfile built to exhaust memory (each ARG doubles the last) is refused with a clear message,
and the rest of the repository is still checked. Runs under an address-space limit in a child
process, so a regression fails fast instead of taking the machine down."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from scanners.check import check_snapshot
from scanners.dockerfile import DockerfileError, parse_dockerfile
from scanners.dockerfile.stages import MAX_EXPANDED_CHARS
from tests.scanners.test_check import snapshot_of

ROOT = Path(__file__).resolve().parents[2]


def doubling_dockerfile(levels: int = 60) -> str:
    lines = ["ARG X0=aaaaaaaaaa"] + [f"ARG X{i}=${{X{i - 1}}}${{X{i - 1}}}" for i in range(1, levels)]
    return "\n".join([*lines, f"FROM python:${{X{levels - 1}}}", "RUN pip install -r requirements.txt", ""])


def test_doubling_args_are_refused_under_a_memory_limit():
    child = textwrap.dedent(f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))  # 1 GiB: the attack wants 10 EB
        sys.path.insert(0, {str(ROOT)!r})
        from scanners.dockerfile import DockerfileError, parse_dockerfile
        from tests.scanners.test_hostile_dockerfile import doubling_dockerfile
        try:
            parse_dockerfile("Dockerfile", doubling_dockerfile())
        except DockerfileError as exc:
            print(exc)
    """)
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == (
        f"Dockerfile:18: ARG expanding its variables makes more than {MAX_EXPANDED_CHARS:,} characters: not read"
    )


def test_one_reference_too_many_times_is_refused_too():
    big = "x" * 100_000
    text = f"FROM python:3.12\nARG BIG={big}\nRUN echo " + "${BIG}" * 20 + "\n"
    with pytest.raises(DockerfileError, match=r"^Dockerfile:3: RUN expanding its variables makes more than"):
        parse_dockerfile("Dockerfile", text)


def test_large_but_real_expansions_still_parse():
    text = "ARG V=" + "y" * 1000 + "\nFROM python:3.12-slim\nENV A=${V}${V}${V}\nRUN echo ${A}\n"
    assert parse_dockerfile("Dockerfile", text).base_image == "python:3.12-slim"


def test_the_rest_of_the_repository_is_still_checked(tmp_path):
    files = {"requirements.txt": "six==1.16.0\n", "Dockerfile": doubling_dockerfile(30)}
    report = check_snapshot(snapshot_of(tmp_path, files), index=None)
    assert [r.package.name for r in report.packages] == ["six"]
    errors = {f.path: f.error for f in report.files if f.error}
    assert "more than 1,000,000 characters" in errors["Dockerfile"]
    assert any("Dockerfile:" in p and "not read" in p for p in report.problems)
