"""Just enough shell to read a RUN script: its simple commands and the packages they install.

A ``RUN`` line is ``/bin/sh -c``: commands joined by ``&&``, ``||``, ``;``, pipes and newlines.
The split here is good enough to find ``apt-get install`` (and apk, yum, dnf, microdnf, tdnf)
and the packages it names; the patterns tell a compiler, a Python and a pip install apart.
"""

from __future__ import annotations

import posixpath
import re
import shlex

__all__ = ["COMPILER_PACKAGE", "PIP_RUN", "PYTHON_PACKAGE", "installed_packages", "split_commands"]

PIP_RUN = re.compile(
    r"(?:\bpip3?(?:\.\d+)?|-m\s+pip|\buv\s+pip|\bpipenv|\bpdm|\bpoetry)\s+(?:[^\n;&|]*\s)?(?:install|wheel|sync)\b"
    r"|\buv\s+(?:sync|pip\s+install)\b"
)
COMPILER_PACKAGE = re.compile(
    r"^(?:gcc|g\+\+|cc|clang|build-essential|build-base|alpine-sdk|gcc-c\+\+|gcc-gfortran|gfortran"
    r"|(?:gcc|g\+\+|clang|gfortran)-\d+(?:\.\d+)?|gcc-toolset-\d+|devtoolset-\d+|@development-tools)$"
)
PYTHON_PACKAGE = re.compile(
    r"^(?:python3(?:\.(?P<dotted>\d+))?|python3(?P<compact>\d+)|py3)(?:-(?:dev|devel|pip|venv|full|minimal|distutils))?$"
)
_INSTALL_VERBS = {
    "apt-get": {"install"},
    "apt": {"install"},
    "apk": {"add"},
    "yum": {"install", "groupinstall"},
    "dnf": {"install", "groupinstall"},
    "microdnf": {"install"},
    "tdnf": {"install"},
}
_OPTIONS_WITH_VALUE = {"-t", "--target-release", "-o", "--option", "--virtual", "--repository", "-X", "--setopt"}


def split_commands(script: str) -> list[list[str]]:
    """Shell words per simple command; good enough to find ``apt-get install`` and its packages."""
    commands = []
    for chunk in re.split(r"&&|\|\||[;|\n]", script):
        try:
            words = shlex.split(chunk, comments=True, posix=True)
        except ValueError:
            words = chunk.split()
        if words:
            commands.append(words)
    return commands


def installed_packages(script: str) -> list[str]:
    """Packages named by apt-get/apt/apk/yum/dnf install commands in a RUN script."""
    packages: list[str] = []
    for words in split_commands(script):
        position = 0
        # Skip "sudo", "env", "DEBIAN_FRONTEND=noninteractive" and the like before the command.
        while position < len(words) and (words[position] in ("sudo", "env", "command") or "=" in words[position]):
            position += 1
        if position >= len(words):
            continue
        manager = posixpath.basename(words[position])
        verbs = _INSTALL_VERBS.get(manager)
        if verbs is None:
            continue
        rest = words[position + 1 :]
        verb_at = next((i for i, word in enumerate(rest) if not word.startswith("-")), None)
        if verb_at is None:
            continue
        verb = rest[verb_at]
        args = rest[verb_at + 1 :]
        if verb == "group" and args[:1] == ["install"]:
            verb, args = "groupinstall", args[1:]
        if verb not in verbs:
            continue
        if verb == "groupinstall":
            group = " ".join(word for word in args if not word.startswith("-")).lower()
            if "development tools" in group or "development-tools" in group:
                packages.append("@development-tools")
            continue
        skip_next = False
        for word in args:
            if skip_next:
                skip_next = False
                continue
            if word.startswith("-"):
                skip_next = word in _OPTIONS_WITH_VALUE
                continue
            packages.append(re.split(r"[=<>~]", word, maxsplit=1)[0].lower())
    return packages
