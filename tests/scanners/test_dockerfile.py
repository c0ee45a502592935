"""Tests for scanners.dockerfile against the fixture Dockerfiles in tests/fixtures/dockerfiles."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanners.dockerfile import (
    DockerfileError,
    ImageContext,
    is_dockerfile,
    parse_dockerfile,
    verdict_findings,
)
from scanners.findings import Finding

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "dockerfiles"


def parse_fixture(name: str, **kwargs) -> ImageContext:
    return parse_dockerfile(name, (FIXTURES / name).read_text(encoding="utf-8"), **kwargs)


def rules(context: ImageContext) -> list[tuple[str, int, str]]:
    return [(finding.rule, finding.line, finding.severity) for finding in context.findings]


@pytest.mark.parametrize(
    ("fixture", "base_image", "base_line", "python", "libc", "libc_version", "compiler"),
    [
        ("args.Dockerfile", "docker.io/library/python:3.11-slim-bookworm", 5, "3.11", "glibc", "2.36", False),
        ("multistage.Dockerfile", "python:3.12-slim-bookworm", 8, "3.12", "glibc", "2.36", True),
        ("pinned.Dockerfile", "python:3.9-slim", 1, "3.9", "glibc", "2.41", False),
        ("buildplatform.Dockerfile", "python:3.13-alpine3.21", 5, "3.13", "musl", "1.2", False),
        ("ubuntu-apt.Dockerfile", "nvidia/cuda:12.4.1-runtime-ubuntu22.04", 1, "3.10", "glibc", "2.35", False),
        ("heredoc.Dockerfile", "ubuntu:24.04", 2, "3.12", "glibc", "2.39", True),
        ("compiler-apk.Dockerfile", "python:3.12-alpine3.20", 1, "3.12", "musl", "1.2", True),
        ("crlf.Dockerfile", "python:3.11-slim", 1, "3.11", "glibc", "2.41", True),
        ("unknown.Dockerfile", "registry.internal.test:5000/platform/python-base:2024.06", 1, None, None, None, False),
        ("scratch.Dockerfile", "scratch", 3, None, None, None, True),
        ("downloads.Dockerfile", "debian:bookworm-slim", 1, None, "glibc", "2.36", False),
    ],
)
def test_image_context(fixture, base_image, base_line, python, libc, libc_version, compiler):
    context = parse_fixture(fixture)
    assert context.path == fixture
    assert (context.base_image, context.base_line) == (base_image, base_line)
    assert (context.python, context.libc, context.libc_version) == (python, libc, libc_version)
    assert context.installs_compiler is compiler


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("args.Dockerfile", []),
        ("multistage.Dockerfile", []),
        ("pinned.Dockerfile", [("platform-pinned", 1, "blocker")]),
        ("buildplatform.Dockerfile", []),
        ("ubuntu-apt.Dockerfile", []),
        ("heredoc.Dockerfile", [("arch-specific-download", 3, "warning")]),
        ("unknown.Dockerfile", [("unknown-base-image", 1, "info")]),
        ("scratch.Dockerfile", [("no-python-in-image", 3, "info")]),
        (
            "downloads.Dockerfile",
            [
                ("unknown-base-image", 1, "info"),  # debian ships no python and none is installed
                ("arch-specific-download", 4, "warning"),  # curl … linux-amd64.tar.gz
                ("arch-specific-download", 7, "warning"),  # ADD …x86_64.tar.gz
                ("arch-specific-download", 8, "warning"),  # ARG KUBECTL_ARCH=amd64 substituted
            ],
        ),
    ],
)
def test_findings(fixture, expected):
    assert rules(parse_fixture(fixture)) == expected


def test_arg_substitution_build_args_override_defaults():
    context = parse_fixture("args.Dockerfile", build_args={"PY_VERSION": "3.13", "VARIANT": "alpine3.21"})
    assert context.base_image == "docker.io/library/python:3.13-alpine3.21"
    assert (context.python, context.libc) == ("3.13", "musl")


def test_build_args_for_undeclared_names_are_ignored():
    # docker build only applies --build-arg to ARGs the Dockerfile declares.
    context = parse_dockerfile("Dockerfile", "FROM python:3.12-slim\n", build_args={"PY": "3.9"})
    assert context.python == "3.12"


def test_multistage_stages_and_chain():
    context = parse_fixture("multistage.Dockerfile")
    assert context.stages == ("node:22", "python:3.12-bookworm", "python:3.12-slim-bookworm")
    # node:22 is pinned to $BUILDPLATFORM: not a literal pin, no finding.
    assert context.platform_pin is None


def test_platform_pin_literal_vs_buildkit_args():
    assert parse_fixture("pinned.Dockerfile").platform_pin == "linux/amd64"
    assert parse_fixture("buildplatform.Dockerfile").platform_pin is None
    message = parse_fixture("pinned.Dockerfile").findings[0].message
    assert "emulated on arm64 hosts" in message and "$TARGETPLATFORM" in message


@pytest.mark.parametrize(
    ("text", "pin", "expected"),
    [
        # A pinned ancestor pins the stage built FROM it.
        (
            "FROM --platform=linux/amd64 python:3.12 AS base\nFROM base\n",
            "linux/amd64",
            [("platform-pinned", 1, "blocker")],
        ),
        # A pin through a user ARG is still a literal pin.
        ("ARG P=linux/amd64\nFROM --platform=${P} python:3.12\n", "linux/amd64", [("platform-pinned", 2, "blocker")]),
        # Pinned build stage whose output is copied: slow emulated build, image still native.
        (
            "FROM --platform=linux/amd64 node:22 AS web\nRUN npm ci\nFROM python:3.12-slim\n",
            None,
            [("platform-pinned", 1, "warning")],
        ),
        ("FROM --platform=linux/arm64 python:3.12-slim\n", "linux/arm64", [("platform-pinned", 1, "warning")]),
        ("FROM --platform=$TARGETPLATFORM python:3.12-slim\n", None, []),
        ("ARG TARGETPLATFORM=linux/amd64\nFROM --platform=${TARGETPLATFORM} python:3.12-slim\n", None, []),
    ],
)
def test_platform_pins(text, pin, expected):
    context = parse_dockerfile("Dockerfile", text)
    assert context.platform_pin == pin
    assert rules(context) == expected


def test_digest_is_kept_and_tag_still_read():
    context = parse_fixture("digest.Dockerfile")
    assert context.base_image.endswith("@sha256:" + "0" * 64)
    assert (context.python, context.libc_version) == ("3.12.4", "2.36")
    assert context.findings == ()


def test_heredoc_body_counts_for_compiler_and_python_but_copy_heredoc_does_not():
    context = parse_fixture("heredoc.Dockerfile")
    assert context.installs_compiler  # build-essential is only in the heredoc body
    assert context.python == "3.12"  # ubuntu:24.04's python3
    # The COPY heredoc mentioning gcc and the backtick-continued RUN parse as their own instructions.
    assert [finding.line for finding in context.findings] == [3]


@pytest.mark.parametrize(
    ("text", "python"),
    [
        ("FROM ubuntu:22.04\nRUN apt-get update && apt-get install -y python3.11 python3.11-venv\n", "3.11"),
        ("FROM debian:bullseye\nRUN DEBIAN_FRONTEND=noninteractive apt-get install -y python3-pip\n", "3.9"),
        ("FROM alpine:3.19\nRUN apk add --no-cache python3 py3-pip\n", "3.11"),
        ("FROM rockylinux:9\nRUN dnf install -y python3.12 python3.12-pip\n", "3.12"),
        ("FROM almalinux:8\nRUN dnf install -y python39\n", "3.9"),
        ("FROM ubuntu:22.04\nRUN apt-get install -y curl\n", None),
    ],
)
def test_distro_python_comes_from_the_install(text, python):
    assert parse_dockerfile("Dockerfile", text).python == python


@pytest.mark.parametrize(
    ("text", "compiler"),
    [
        (
            "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev\n",
            True,
        ),
        ("FROM python:3.12-slim\nRUN apt-get install -y -t bookworm-backports build-essential\n", True),
        ("FROM python:3.12-slim\nRUN apt-get install -y g++-12\n", True),
        ("FROM python:3.12-slim\nRUN apt-get install -y libpq5 curl\n", False),
        ("FROM python:3.12-slim\nRUN echo gcc && apt-get install -y curl\n", False),
        ("FROM python:3.12-alpine\nRUN apk add build-base\n", True),
        ("FROM rockylinux:9\nRUN dnf groupinstall -y 'Development Tools'\n", True),
        ("FROM fedora:41\nRUN dnf install -y gcc-c++ python3-devel\n", True),
        ("FROM python:3.12\n", True),  # the full image is built on buildpack-deps
        ("FROM python:3.12-slim\nRUN apt-get purge gcc\n", False),
        # A builder stage with gcc that runs pip builds the sdists; the runtime only copies wheels.
        (
            "FROM python:3.12-slim AS b\nRUN apt-get install -y gcc && pip wheel -w /w .\n"
            "FROM python:3.12-slim\nCOPY --from=b /w /w\n",
            True,
        ),
        # A builder stage with gcc that never runs pip does not help the final image.
        ("FROM golang:1.23 AS b\nRUN apt-get install -y gcc\nFROM python:3.12-slim\n", False),
    ],
)
def test_compiler_detection(text, compiler):
    assert parse_dockerfile("Dockerfile", text).installs_compiler is compiler


@pytest.mark.parametrize(
    ("instruction", "flagged"),
    [
        ("RUN curl -LO https://dl.test/tool-linux-amd64.tar.gz", True),
        ("RUN wget -q https://dl.test/tool_x86_64.rpm", True),
        ("RUN curl -L https://dl.test/node-v22-linux-x64.tar.xz | tar xJ", True),
        ("RUN curl -L https://dl.test/app.linux64.zip", True),
        ("RUN curl -L https://dl.test/x86-64/app", True),
        ("ADD https://dl.test/tini-amd64 /tini", True),
        ("ADD --checksum=sha256:00 https://dl.test/tini-amd64 /tini", True),
        ("RUN curl -LO https://dl.test/tool-linux-${TARGETARCH}.tar.gz", False),
        ("RUN curl -LO https://dl.test/tool-$(uname -m).tar.gz", False),
        ("RUN A=$(dpkg --print-architecture) && curl -LO https://dl.test/tool-amd64.deb", False),
        ("RUN curl -LO https://dl.test/tool-arm64.tar.gz", False),
        ("RUN curl -LO https://dl.test/amd64x/tool.tar.gz", False),  # not the word amd64
        ("RUN echo https://dl.test/tool-amd64.tar.gz", False),  # no download
        ("ADD https://dl.test/tool.tar.gz /opt/", False),
    ],
)
def test_arch_specific_download(instruction, flagged):
    context = parse_dockerfile("Dockerfile", f"FROM python:3.12-slim\n{instruction}\n")
    found = [finding for finding in context.findings if finding.rule == "arch-specific-download"]
    assert len(found) == (1 if flagged else 0)
    if flagged:
        assert found[0].line == 2 and found[0].severity == "warning"
        assert "TARGETARCH" in found[0].message


def test_lowercase_instructions_comments_and_json_run():
    text = (
        "# a comment\n"
        "\n"
        "from python:3.11-slim as app\n"
        "run apt-get install -y \\\n"
        "    # a comment inside a continuation is dropped\n"
        "\n"
        "    gcc\n"
        'RUN ["apt-get", "install", "-y", "build-essential"]\n'
    )
    context = parse_dockerfile("Dockerfile", text)
    assert (context.base_image, context.base_line, context.installs_compiler) == ("python:3.11-slim", 3, True)
    json_only = parse_dockerfile("D", 'FROM python:3.11-slim\nRUN ["apt-get", "install", "-y", "gcc"]\n')
    assert json_only.installs_compiler


def test_line_numbers_are_first_line_of_instruction():
    text = "FROM python:3.12-slim\nRUN set -e; \\\n  echo a; \\\n  curl -LO https://dl.test/x-amd64.tgz\n"
    (finding,) = parse_dockerfile("Dockerfile", text).findings
    assert finding.line == 2


def test_stage_name_reference_is_case_insensitive():
    text = "FROM python:3.10-alpine AS Base\nFROM base\n"
    context = parse_dockerfile("Dockerfile", text)
    assert (context.base_image, context.python, context.libc) == ("python:3.10-alpine", "3.10", "musl")


def test_unresolved_arg_in_from_is_an_info_finding():
    context = parse_dockerfile("Dockerfile", "ARG BASE\nFROM $BASE\n")
    assert context.base_image is None
    assert rules(context) == [("unknown-base-image", 2, "info")]
    resolved = parse_dockerfile("Dockerfile", "ARG BASE\nFROM $BASE\n", build_args={"BASE": "python:3.12-slim"})
    assert resolved.python == "3.12"


def test_garbage_line_is_reported_and_the_rest_still_parsed():
    context = parse_dockerfile("Dockerfile", "FROM python:3.12-slim\n--- oops\nRUN apt-get install -y gcc\n")
    assert rules(context) == [("unparsed-instruction", 2, "info")]
    assert context.installs_compiler


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   \n\n", "empty"),
        ("\x7fELF\x00\x00\x01", "binary"),
        ("# just a comment\nRUN echo hi\n", "no FROM"),
        ("# escape=x\nFROM python\n", "escape"),
    ],
)
def test_bad_input_raises_dockerfile_error(text, message):
    with pytest.raises(DockerfileError, match=message) as raised:
        parse_dockerfile("svc/Dockerfile", text)
    assert "svc/Dockerfile" in str(raised.value)


def test_unclosed_heredoc_is_reported():
    context = parse_dockerfile("Dockerfile", "FROM python:3.12-slim\nRUN <<EOF\napt-get install -y gcc\n")
    assert ("unparsed-instruction", 2, "info") in rules(context)
    assert context.installs_compiler


@pytest.mark.parametrize(
    ("fixture", "severity", "hint"),
    [
        (
            "pinned.Dockerfile",
            "blocker",
            "apt-get update && apt-get install -y --no-install-recommends build-essential`",
        ),
        ("buildplatform.Dockerfile", "blocker", "apk add --no-cache build-base`"),
        ("downloads.Dockerfile", "blocker", "build-essential python3-dev"),
        ("unknown.Dockerfile", "warning", "apk add build-base python3-dev"),
    ],
)
def test_no_compiler_for_sdist(fixture, severity, hint):
    context = parse_fixture(fixture)
    findings = verdict_findings(context, sdist_packages=[("PSUtil", "5.9.8")], package_names=["psutil"])
    assert [(f.rule, f.severity, f.line) for f in findings] == [("no-compiler-for-sdist", severity, context.base_line)]
    assert "psutil==5.9.8" in findings[0].message
    assert "error: command 'gcc' failed" in findings[0].message
    assert hint in findings[0].message


def test_no_sdist_finding_when_a_compiler_is_installed():
    context = parse_fixture("compiler-apk.Dockerfile")
    assert verdict_findings(context, sdist_packages=[("psutil", "5.9.8")], package_names=["psutil"]) == []


def test_macos_only_packages():
    context = parse_fixture("pinned.Dockerfile")
    findings = verdict_findings(
        context,
        sdist_packages=[],
        package_names=["tensorflow_macos", "pyobjc-framework-Cocoa", "appnope", "numpy", "tensorflow-metal"],
    )
    assert findings == [
        Finding("pinned.Dockerfile", 1, "macos-only-package", "blocker", findings[0].message),
        Finding("pinned.Dockerfile", 1, "macos-only-package", "blocker", findings[1].message),
        Finding("pinned.Dockerfile", 1, "macos-only-package", "blocker", findings[2].message),
    ]
    assert [f.message.split()[0] for f in findings] == [
        "pyobjc-framework-cocoa",
        "tensorflow-macos",
        "tensorflow-metal",
    ]
    assert 'sys_platform == "darwin"' in findings[0].message


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("Dockerfile", True),
        ("svc/api/Dockerfile", True),
        ("Dockerfile.prod", True),
        ("docker/api.Dockerfile", True),
        ("build/worker.dockerfile", True),
        ("Containerfile", True),
        ("dockerfile", True),
        ("Dockerfile.dockerignore", False),
        ("docs/Dockerfile.md", False),
        ("docker-compose.yml", False),
        ("requirements.txt", False),
        ("MyDockerfileNotes", False),
    ],
)
def test_is_dockerfile(path, expected):
    assert is_dockerfile(path) is expected
