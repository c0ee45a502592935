"""Read a Dockerfile as far as pip cares: the final image's Python and libc, and arm64 hazards.

Why a small tokenizer of our own rather than a library:

* ``dockerfile-parse`` (pure Python) does not understand heredocs: the body of
  ``RUN <<EOF … EOF`` comes back as bogus instructions named after each shell line.
* ``dockerfile`` wraps BuildKit's own Go parser and gets everything right, but it ships
  x86_64 glibc wheels only (no aarch64, no musllinux, and its sdist needs a Go toolchain), so
  an arm64-readiness tool that depended on it could not itself be installed on arm64.

The grammar we need is small and documented in the Dockerfile reference: parser directives
(``# escape=``), line continuations, comment lines (also inside continuations), heredocs,
and ``ARG`` substitution in ``FROM``. :func:`parse_dockerfile` is pure (path is for messages
only); line numbers are 1-based and always the instruction's first line.

The package: :mod:`.tokenizer` (directives, continuations, heredocs), :mod:`.shell` (RUN
scripts: commands and installed packages), :mod:`.stages` (``FROM``, ``ARG``/``ENV``,
:func:`parse_dockerfile` and :class:`ImageContext`) and :mod:`.checks` (the findings that need
the analyser's verdicts, and downloads). Callers import from ``scanners.dockerfile``.
"""

from __future__ import annotations

import posixpath

from scanners.dockerfile.checks import MACOS_ONLY_PACKAGES, verdict_findings
from scanners.dockerfile.stages import ImageContext, parse_dockerfile
from scanners.dockerfile.tokenizer import DockerfileError

__all__ = [
    "DockerfileError",
    "ImageContext",
    "MACOS_ONLY_PACKAGES",
    "is_dockerfile",
    "parse_dockerfile",
    "verdict_findings",
]


def is_dockerfile(path: str) -> bool:
    """``Dockerfile``, ``Containerfile``, ``Dockerfile.prod``, ``api.Dockerfile``, ``x.dockerfile``."""
    name = posixpath.basename(path.replace("\\", "/")).lower()
    if name.endswith((".dockerignore", ".md", ".txt", ".json", ".yml", ".yaml")):
        return False
    if name in ("dockerfile", "containerfile"):
        return True
    if name.startswith(("dockerfile.", "containerfile.")):
        return True
    return name.endswith((".dockerfile", ".containerfile"))
