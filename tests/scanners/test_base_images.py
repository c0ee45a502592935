"""Table tests for scanners.base_images: each row is a real tag people write in FROM."""

from __future__ import annotations

import pytest

from scanners.base_images import (
    PYTHON_IMAGE_LATEST,
    ImageReference,
    lookup_base_image,
    parse_image_reference,
    python_image_default_debian,
)


@pytest.mark.parametrize(
    ("reference", "python", "libc", "libc_version", "ships_compiler"),
    [
        # Official python image: Debian variants.
        ("python:3.12", "3.12", "glibc", "2.41", True),
        ("python:3.12-slim", "3.12", "glibc", "2.41", False),
        ("python:3.12.4-slim-bookworm", "3.12.4", "glibc", "2.36", False),
        ("python:3.11-bookworm", "3.11", "glibc", "2.36", True),
        ("python:3.10-slim-bullseye", "3.10", "glibc", "2.31", False),
        ("python:3.13-trixie", "3.13", "glibc", "2.41", True),
        ("python:3.8-slim", "3.8", "glibc", "2.36", False),  # EOL before the trixie switch
        ("python:3.7", "3.7", "glibc", "2.36", True),
        ("python:3.9.18-slim-buster", "3.9.18", "glibc", "2.28", False),
        ("python:3", PYTHON_IMAGE_LATEST, "glibc", "2.41", True),
        ("python:latest", PYTHON_IMAGE_LATEST, "glibc", "2.41", True),
        ("python", PYTHON_IMAGE_LATEST, "glibc", "2.41", True),
        ("python:slim", PYTHON_IMAGE_LATEST, "glibc", "2.41", False),
        ("python:bookworm", PYTHON_IMAGE_LATEST, "glibc", "2.36", True),
        ("python:3.16-rc-slim", "3.16", "glibc", "2.41", False),
        ("python:3.16.0a1-slim-trixie", "3.16", "glibc", "2.41", False),
        # Official python image: Alpine variants (musl; musllinux tags use major.minor).
        ("python:3.12-alpine", "3.12", "musl", "1.2", False),
        ("python:3.12-alpine3.20", "3.12", "musl", "1.2", False),
        ("python:3.11.9-alpine3.19", "3.11.9", "musl", "1.2", False),
        ("python:alpine", PYTHON_IMAGE_LATEST, "musl", "1.2", False),
        # Registry prefixes and digests.
        ("docker.io/library/python:3.12-slim", "3.12", "glibc", "2.41", False),
        ("library/python:3.12-slim", "3.12", "glibc", "2.41", False),
        ("index.docker.io/library/python:3.11-alpine", "3.11", "musl", "1.2", False),
        ("public.ecr.aws/docker/library/python:3.12-slim-bookworm", "3.12", "glibc", "2.36", False),
        ("python:3.12-slim@sha256:" + "a" * 64, "3.12", "glibc", "2.41", False),
        ("Python:3.12-SLIM", "3.12", "glibc", "2.41", False),
        # Images built on the official one.
        ("mcr.microsoft.com/devcontainers/python:1-3.12-bookworm", "3.12", "glibc", "2.36", True),
        ("mcr.microsoft.com/devcontainers/python:3.11", "3.11", "glibc", "2.41", True),
        ("ghcr.io/astral-sh/uv:python3.12-bookworm-slim", "3.12", "glibc", "2.36", False),
        ("ghcr.io/astral-sh/uv:0.5.4-python3.11-alpine", "3.11", "musl", "1.2", False),
        ("gcr.io/distroless/python3-debian12", "3.11", "glibc", "2.36", False),
    ],
)
def test_images_that_ship_python(reference, python, libc, libc_version, ships_compiler):
    facts = lookup_base_image(reference)
    assert facts is not None
    assert (facts.python, facts.libc, facts.libc_version, facts.ships_compiler) == (
        python,
        libc,
        libc_version,
        ships_compiler,
    )
    assert facts.distro_python is None


@pytest.mark.parametrize(
    ("reference", "distro_python", "libc", "libc_version", "manager"),
    [
        ("ubuntu:20.04", "3.8", "glibc", "2.31", "apt"),
        ("ubuntu:22.04", "3.10", "glibc", "2.35", "apt"),
        ("ubuntu:jammy-20240911", "3.10", "glibc", "2.35", "apt"),
        ("ubuntu:24.04", "3.12", "glibc", "2.39", "apt"),
        ("ubuntu:noble", "3.12", "glibc", "2.39", "apt"),
        ("debian:bullseye", "3.9", "glibc", "2.31", "apt"),
        ("debian:bookworm-slim", "3.11", "glibc", "2.36", "apt"),
        ("debian:12", "3.11", "glibc", "2.36", "apt"),
        ("debian:12.5-slim", "3.11", "glibc", "2.36", "apt"),
        ("debian:trixie", "3.13", "glibc", "2.41", "apt"),
        ("debian:latest", "3.13", "glibc", "2.41", "apt"),
        ("alpine:3.18", "3.11", "musl", "1.2", "apk"),
        ("alpine:3.20.3", "3.12", "musl", "1.2", "apk"),
        ("alpine:3.24", None, "musl", "1.2", "apk"),
        ("fedora:41", "3.13", "glibc", "2.40", "dnf"),
        ("rockylinux:9", "3.9", "glibc", "2.34", "dnf"),
        ("almalinux:8", "3.6", "glibc", "2.28", "dnf"),
        ("registry.access.redhat.com/ubi9/ubi-minimal", "3.9", "glibc", "2.34", "dnf"),
        ("amazonlinux:2023", "3.9", "glibc", "2.34", "dnf"),
        ("nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04", "3.10", "glibc", "2.35", "apt"),
        ("nvidia/cuda:11.8.0-devel-ubuntu20.04", "3.8", "glibc", "2.31", "apt"),
        ("nvidia/cuda:12.2.0-base-rockylinux8", "3.6", "glibc", "2.28", "dnf"),
    ],
)
def test_distribution_images(reference, distro_python, libc, libc_version, manager):
    facts = lookup_base_image(reference)
    assert facts is not None
    assert facts.python is None, "distribution images ship no Python of their own"
    assert (facts.distro_python, facts.libc, facts.libc_version, facts.package_manager) == (
        distro_python,
        libc,
        libc_version,
        manager,
    )
    assert facts.ships_compiler is False


@pytest.mark.parametrize(
    "reference",
    [
        "scratch",
        "node:22",
        "python:3.12-windowsservercore-ltsc2022",
        "python:3.12-slim-sid",  # a suite not in the table
        "python:2",
        "python@sha256:" + "b" * 64,  # a digest alone does not say which variant
        "ubuntu:latest",  # moves with each LTS
        "alpine:edge",
        "registry.test:5000/python-base:2024",
        "ghcr.io/astral-sh/uv:bookworm-slim",
        "nvidia/cuda:12.4.1-runtime-ubuntu26.04",
    ],
)
def test_unknown_images(reference):
    assert lookup_base_image(reference) is None


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("python", ImageReference("python", None, None)),
        ("python:3.12", ImageReference("python", "3.12", None)),
        ("docker.io/library/python:3.12", ImageReference("python", "3.12", None)),
        ("registry.test:5000/team/app", ImageReference("registry.test:5000/team/app", None, None)),
        ("registry.test:5000/team/app:1.0", ImageReference("registry.test:5000/team/app", "1.0", None)),
        ("python:3.12@sha256:abc", ImageReference("python", "3.12", "sha256:abc")),
        ("nvidia/cuda:12.4.1-base-ubuntu22.04", ImageReference("nvidia/cuda", "12.4.1-base-ubuntu22.04", None)),
    ],
)
def test_parse_image_reference(reference, expected):
    assert parse_image_reference(reference) == expected


@pytest.mark.parametrize(
    ("minor", "suite"),
    [("3.7", "bookworm"), ("3.8", "bookworm"), ("3.9", "trixie"), ("3.14", "trixie"), ("3.6", None), ("x", None)],
)
def test_python_image_default_debian(minor, suite):
    assert python_image_default_debian(minor) == suite
