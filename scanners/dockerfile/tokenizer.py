"""The Dockerfile tokenizer: parser directives, line continuations, comments and heredocs.

:func:`tokenize` turns the text into :class:`Instruction` values, one per logical line, with
the bodies of the heredocs each ``RUN``/``COPY``/``ADD`` opens; it knows nothing of what the
instructions mean (:mod:`scanners.dockerfile.stages` does). Line numbers are 1-based and always
the instruction's first line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from scanners.findings import Finding

__all__ = ["DockerfileError", "Instruction", "tokenize"]


class DockerfileError(ValueError):
    """The file cannot be read as a Dockerfile at all (binary, empty, no ``FROM``)."""


_INSTRUCTION = re.compile(r"^\s*([A-Za-z]+)(?:\s+(.*))?$", re.DOTALL)
_DIRECTIVE = re.compile(r"^#\s*([A-Za-z_]+)\s*=\s*(\S+)\s*$")
_HEREDOC = re.compile(r"(?<![<\w])<<(-?)(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\2")


@dataclass(slots=True)
class Instruction:
    """One instruction: its keyword in upper case, its arguments on one line, where it starts."""

    keyword: str
    args: str
    line: int
    heredocs: list[str] = field(default_factory=list)

    def script(self) -> str:
        """The instruction's text with its heredoc bodies, which run as part of it."""
        return "\n".join([self.args, *self.heredocs])


def tokenize(path: str, text: str) -> tuple[list[Instruction], list[Finding]]:
    """Split the file into instructions: directives, continuations, comments and heredocs."""
    lines = text.splitlines()
    escape = "\\"
    findings: list[Finding] = []
    start = 0
    # Parser directives are only recognised before anything else, even a blank line.
    while start < len(lines):
        match = _DIRECTIVE.match(lines[start].strip())
        if match is None:
            break
        if match[1].lower() == "escape":
            if match[2] not in ("\\", "`"):
                raise DockerfileError(f"{path}:{start + 1}: escape directive must be \\ or `, not {match[2]!r}")
            escape = match[2]
        start += 1

    instructions: list[Instruction] = []
    index = start
    while index < len(lines):
        raw = lines[index]
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            index += 1
            continue
        first_line = index + 1
        parts: list[str] = []
        while True:
            current = lines[index].rstrip()
            continued = current.endswith(escape)
            parts.append(current[:-1] if continued else current)
            index += 1
            if not continued:
                break
            # Inside a continuation, comment lines are dropped and blank lines skipped (BuildKit).
            while index < len(lines) and (not lines[index].strip() or lines[index].lstrip().startswith("#")):
                index += 1
            if index >= len(lines):
                break
        logical = "".join(parts)
        match = _INSTRUCTION.match(logical)
        if match is None:
            findings.append(
                Finding(path, first_line, "unparsed-instruction", "info",
                        f"line {first_line} is not an instruction ({stripped[:60]!r}); it was skipped")
            )  # fmt: skip
            continue
        instruction = Instruction(match[1].upper(), (match[2] or "").strip(), first_line)
        if instruction.keyword in ("RUN", "COPY", "ADD") and not instruction.args.startswith("["):
            for heredoc in _HEREDOC.finditer(instruction.args):
                strip_tabs, name = heredoc[1] == "-", heredoc[3]
                body: list[str] = []
                while index < len(lines):
                    body_line = lines[index]
                    index += 1
                    if (body_line.lstrip("\t") if strip_tabs else body_line).rstrip("\r") == name:
                        break
                    body.append(body_line.lstrip("\t") if strip_tabs else body_line)
                else:
                    findings.append(
                        Finding(path, first_line, "unparsed-instruction", "info",
                                f"heredoc <<{name} opened on line {first_line} is never closed")
                    )  # fmt: skip
                instruction.heredocs.append("\n".join(body))
        instructions.append(instruction)
    return instructions, findings
