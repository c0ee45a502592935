"""The download rule: a ``RUN curl``/``ADD`` of an amd64 build that does not pick the file by
architecture installs, on arm64, a binary that cannot run. Checked while the stages are read."""

from __future__ import annotations

import re

from scanners.dockerfile.tokenizer import Instruction
from scanners.findings import Finding

__all__ = ["check_download"]

_URL = re.compile(r"(?:https?|ftp)://[^\s'\"<>|;&)]+", re.IGNORECASE)
_AMD64_WORD = re.compile(r"(?<![a-z0-9])(amd64|x86[_-]64|x64|linux64)(?![a-z0-9])", re.IGNORECASE)
_ARCH_AWARE = re.compile(
    r"TARGETARCH|TARGETPLATFORM|TARGETVARIANT|uname\s+-[a-z]*m|dpkg\s+--print-architecture"
    r"|apk\s+--print-arch|\$\(\s*arch\s*\)|`\s*arch\s*`",
)


def check_download(path: str, instruction: Instruction, text: str, findings: list[Finding]) -> None:
    if _ARCH_AWARE.search(text):
        return
    if instruction.keyword == "RUN" and not re.search(r"\b(curl|wget)\b", text):
        return
    for url in _URL.findall(text):
        arch = _AMD64_WORD.search(url)
        if arch:
            findings.append(
                Finding(path, instruction.line, "arch-specific-download", "warning",
                        f"{instruction.keyword} downloads {url}, an {arch[1]} build: on arm64 it installs "
                        f"a binary that cannot run. Use ARG TARGETARCH (amd64/arm64) in the URL, or "
                        f"`uname -m`/`dpkg --print-architecture` to pick the file")
            )  # fmt: skip
            return
