"""What an image needs to build a package from its sdist: a compiler, Python headers, libraries.

Building needs the distribution's C toolchain and the Python headers (the official ``python``
images already ship the headers of their own CPython; a distribution's ``python3`` needs
``python3-dev``). Some packages also link a system library whose headers must be installed.
Every row of :data:`BUILD_DEPS` names where the requirement is documented, so a reviewer can
check it; the worst outcome of a stale row is a build that still misses one header.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from packaging.utils import canonicalize_name

__all__ = ["BUILD_DEPS", "BuildDeps", "TOOLCHAIN", "build_packages"]


@dataclass(frozen=True, slots=True)
class BuildDeps:
    """System packages one Python package needs to build from source, per package manager.

    ``apt`` is for Debian/Ubuntu images, ``apk`` for Alpine; ``note`` says what else is needed
    (a Rust toolchain, say); ``source`` names the documentation the row comes from.
    """

    apt: tuple[str, ...]
    apk: tuple[str, ...]
    source: str
    note: str = ""


TOOLCHAIN: Mapping[str, tuple[str, ...]] = {
    # Debian's meta-package for gcc, g++ and make; Alpine's equivalent. python3-dev only matters
    # when Python comes from the distribution, but is harmless on the official images.
    "apt": ("build-essential", "python3-dev"),
    "apk": ("build-base", "python3-dev"),
}
"""The distribution's compiler and Python headers (Debian "build-essential", Alpine "build-base")."""

# As of 2026-11; each source is the project's own installation page.
BUILD_DEPS: Mapping[str, BuildDeps] = {
    "psycopg2": BuildDeps(
        ("libpq-dev",),
        ("libpq-dev",),
        "psycopg2 docs, Installation > Build prerequisites (www.psycopg.org/docs/install.html)",
    ),
    "psycopg": BuildDeps(
        ("libpq-dev",),
        ("libpq-dev",),
        "psycopg 3 docs, Installation > Local installation (www.psycopg.org/psycopg3/docs/basic/install.html)",
    ),
    "mysqlclient": BuildDeps(
        ("default-libmysqlclient-dev", "pkg-config"),
        ("mariadb-dev", "pkgconf"),
        "mysqlclient README, Install > Linux (github.com/PyMySQL/mysqlclient)",
    ),
    "lxml": BuildDeps(
        ("libxml2-dev", "libxslt1-dev"),
        ("libxml2-dev", "libxslt-dev"),
        "lxml docs, Installing lxml > Requirements (lxml.de/installation.html)",
    ),
    "cffi": BuildDeps(
        ("libffi-dev",),
        ("libffi-dev",),
        "cffi docs, Installation and Status (cffi.readthedocs.io/en/latest/installation.html)",
    ),
    "cryptography": BuildDeps(
        ("libssl-dev", "libffi-dev", "cargo"),
        ("openssl-dev", "libffi-dev", "cargo"),
        "cryptography docs, Installation > Building cryptography on Linux (cryptography.io/en/latest/installation/)",
        note="a Rust toolchain (cargo)",
    ),
    "bcrypt": BuildDeps(
        ("cargo",), ("cargo",), "bcrypt README, Installation (github.com/pyca/bcrypt)", note="a Rust toolchain (cargo)"
    ),
    "pillow": BuildDeps(
        ("libjpeg-dev", "zlib1g-dev"),
        ("jpeg-dev", "zlib-dev"),
        "Pillow docs, Installation > Building from source (pillow.readthedocs.io)",
    ),
    "pyzmq": BuildDeps(("libzmq3-dev",), ("zeromq-dev",), "pyzmq docs, Building pyzmq (pyzmq.readthedocs.io)"),
    "psutil": BuildDeps((), ("linux-headers",), "psutil INSTALL.rst, Linux / Alpine (github.com/giampaolo/psutil)"),
    "pyyaml": BuildDeps(
        ("libyaml-dev",),
        ("yaml-dev",),
        "PyYAML README, installation with the LibYAML bindings (github.com/yaml/pyyaml)",
    ),
    "python-ldap": BuildDeps(
        ("libldap2-dev", "libsasl2-dev"),
        ("openldap-dev",),
        "python-ldap docs, Installing from source > Build prerequisites",
    ),
}


def build_packages(name: str, *, package_manager: str) -> tuple[tuple[str, ...], BuildDeps | None]:
    """System packages to install for building ``name``: the toolchain, then the package's libraries.

    ``package_manager`` is ``"apt"`` or ``"apk"``. Returns the list and the table row (``None``
    when the package needs nothing beyond the toolchain as far as the table knows).
    """
    deps = BUILD_DEPS.get(canonicalize_name(name))
    toolchain = TOOLCHAIN.get(package_manager, TOOLCHAIN["apt"])
    libraries = () if deps is None else (deps.apk if package_manager == "apk" else deps.apt)
    return toolchain + tuple(p for p in libraries if p not in toolchain), deps
