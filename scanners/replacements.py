"""Known drop-in replacements for packages that do not install on a Linux target.

Each row says which package to use instead, when the swap is safe, and where that is
documented. Only replacements that install from a wheel on Linux amd64 and arm64 are listed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from packaging.utils import canonicalize_name

__all__ = ["REPLACEMENTS", "Replacement", "replacements_for"]


@dataclass(frozen=True, slots=True)
class Replacement:
    """Use ``replacement`` (a requirement, extras allowed) instead; ``why`` is shown as is."""

    replacement: str
    why: str
    source: str


# As of 2026-11.
REPLACEMENTS: Mapping[str, tuple[Replacement, ...]] = {
    "tensorflow-macos": (
        Replacement(
            "tensorflow",
            "tensorflow-macos is the macOS build of TensorFlow; Linux images use tensorflow itself",
            "TensorFlow install guide, pip > macOS / Linux (tensorflow.org/install/pip)",
        ),
    ),
    "tensorflow-metal": (
        Replacement(
            "(nothing)",
            "the Metal plug-in only accelerates macOS; drop it from Linux images with the marker "
            'sys_platform == "darwin"',
            "Apple developer docs, tensorflow-metal (developer.apple.com/metal/tensorflow-plugin/)",
        ),
    ),
    "psycopg2": (
        Replacement(
            "psycopg2-binary",
            "the same module with libpq bundled in manylinux/musllinux wheels",
            "psycopg2 docs, Installation > Binary install from PyPI (www.psycopg.org/docs/install.html)",
        ),
        Replacement(
            "psycopg[binary]",
            "psycopg 3 with its binary extension; an API change from psycopg2",
            "psycopg 3 docs, Installation > Binary installation (www.psycopg.org/psycopg3/docs/basic/install.html)",
        ),
    ),
    "mysqlclient": (
        Replacement(
            "PyMySQL",
            "pure Python; Django and SQLAlchemy support it (pymysql.install_as_MySQLdb())",
            "PyMySQL README (github.com/PyMySQL/PyMySQL)",
        ),
    ),
    "pycrypto": (
        Replacement(
            "pycryptodome",
            "a maintained fork with the same Crypto package; pycrypto is abandoned",
            "PyCryptodome docs, Compatibility with PyCrypto (pycryptodome.readthedocs.io)",
        ),
    ),
    "python-magic-bin": (
        Replacement(
            "python-magic",
            "python-magic-bin bundles libmagic for Windows/macOS only; on Linux install libmagic1 and python-magic",
            "python-magic README, Installation (github.com/ahupp/python-magic)",
        ),
    ),
}


def replacements_for(name: str) -> tuple[Replacement, ...]:
    """Replacements known for ``name`` (any spelling); empty when none is known."""
    return REPLACEMENTS.get(canonicalize_name(name), ())
