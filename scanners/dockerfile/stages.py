"""Stage resolution: which image a Dockerfile builds, with ARG/ENV substituted, and what it means for pip.

:func:`parse_dockerfile` walks the instructions of :mod:`scanners.dockerfile.tokenizer`: ``ARG``
and ``ENV`` values (``build_args`` override ``ARG`` defaults), each ``FROM`` and the stage it
builds on, what each ``RUN`` installs (:mod:`scanners.dockerfile.shell`). The final stage's
chain of ``FROM``s gives the :class:`ImageContext`: its base image, Python, libc and compiler.
The findings about stages (a pinned platform, an unknown or empty base image) come out here.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from scanners.base_images import BaseImageFacts, lookup_base_image
from scanners.dockerfile.downloads import check_download
from scanners.dockerfile.shell import COMPILER_PACKAGE, PIP_RUN, PYTHON_PACKAGE, installed_packages
from scanners.dockerfile.tokenizer import DockerfileError, Instruction, tokenize
from scanners.findings import Finding, Severity

__all__ = ["ImageContext", "PLATFORM_ARGS", "parse_dockerfile", "substitute"]


@dataclass(frozen=True, slots=True)
class ImageContext:
    """What the final stage of a Dockerfile means for pip; see the module docstring."""

    path: str
    base_image: str | None
    base_line: int | None
    python: str | None
    libc: Literal["glibc", "musl"] | None
    libc_version: str | None
    platform_pin: str | None
    installs_compiler: bool
    stages: tuple[str, ...]
    findings: tuple[Finding, ...]
    stage_lines: tuple[tuple[str, int], ...] = ()
    """``(image, line)`` of every real-image ``FROM`` (not ``scratch``, not a stage name), for registry lookups."""


# Names that BuildKit fills in itself; a FROM or RUN that uses them adapts to the target.
PLATFORM_ARGS = frozenset(
    {
        "TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT",
        "BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT",
    }
)  # fmt: skip

_VARIABLE = re.compile(r"\\\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(slots=True)
class _Stage:
    index: int
    line: int
    image: str  # after ARG substitution
    name: str | None
    platform: str | None  # after substitution, or the raw text when it uses a BuildKit arg
    platform_literal: bool
    parent: int | None  # index of the stage this one is FROM, if any
    variables: dict[str, str]
    installs_compiler: bool = False
    runs_pip: bool = False
    python_packages: list[str | None] = field(default_factory=list)  # None = the distro's python3


MAX_EXPANDED_CHARS = 1_000_000
"""Longest text one substitution may produce. Each ``ARG X2=${X1}${X1}`` doubles a value, so sixty
such lines ask for 10^19 bytes; real Dockerfiles expand to a few kilobytes."""


class ExpansionTooLarge(ValueError):
    """A substitution would produce more than :data:`MAX_EXPANDED_CHARS` characters."""


def substitute(text: str, variables: Mapping[str, str], *, keep: frozenset[str] = frozenset()) -> str:
    """Expand ``$VAR``, ``${VAR}``, ``${VAR:-word}``, ``${VAR:+word}`` as the Dockerfile reference
    says; names in ``keep`` (BuildKit's platform args) and unknown names are left as written so a
    caller can still see that the text depends on them.

    Raises :class:`ExpansionTooLarge` as soon as the result would pass :data:`MAX_EXPANDED_CHARS`,
    before building it: the size is counted replacement by replacement.
    """
    size = len(text)

    def replace(match: re.Match[str]) -> str:
        nonlocal size
        out = _replacement(match)
        size += len(out) - len(match[0])
        if size > MAX_EXPANDED_CHARS:
            raise ExpansionTooLarge(f"expanding its variables makes more than {MAX_EXPANDED_CHARS:,} characters")
        return out

    def _replacement(match: re.Match[str]) -> str:
        if match[0] == "\\$":
            return "$"
        name = match[1] or match[4]
        if name in keep or (name not in variables and not match[2]):
            return match[0]
        value = variables.get(name)
        operator, word = match[2], match[3] or ""
        if operator in (":-", "-"):
            unset = value is None or (operator == ":-" and value == "")
            return substitute(word, variables, keep=keep) if unset or value is None else value
        if operator in (":+", "+"):
            set_ = value is not None and (operator == "+" or value != "")
            return substitute(word, variables, keep=keep) if set_ else ""
        return value if value is not None else match[0]

    return _VARIABLE.sub(replace, text)


def _arg_pairs(args: str) -> list[tuple[str, str | None]]:
    """``ARG A=1 B="two words" C`` -> [(A, "1"), (B, "two words"), (C, None)]."""
    try:
        words = shlex.split(args, comments=False, posix=True)
    except ValueError:
        words = args.split()
    pairs: list[tuple[str, str | None]] = []
    for word in words:
        name, sep, value = word.partition("=")
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            pairs.append((name, value if sep else None))
    return pairs


def _env_pairs(args: str) -> list[tuple[str, str]]:
    """``ENV A=1 B=2`` or the legacy ``ENV A 1 2`` form."""
    first = args.split(None, 1)
    if first and "=" not in first[0]:
        return [(first[0], first[1].strip() if len(first) > 1 else "")]
    return [(name, value or "") for name, value in _arg_pairs(args)]


def _platform_is_amd64(platform: str) -> bool:
    return bool(re.fullmatch(r"linux/(amd64|x86_64|x86-64)(/v\d)?", platform.strip().lower()))


def _stage_chain(stages: list[_Stage], index: int) -> list[_Stage]:
    chain = []
    seen: set[int] = set()
    current: int | None = index
    while current is not None and current not in seen:
        seen.add(current)
        chain.append(stages[current])
        current = stages[current].parent
    return chain


def parse_dockerfile(path: str, text: str, *, build_args: Mapping[str, str] | None = None) -> ImageContext:
    """Parse ``text`` (the Dockerfile at ``path``) into the final image's :class:`ImageContext`.

    ``build_args`` overrides ``ARG`` defaults, as ``docker build --build-arg`` does (only for
    ARGs the file declares). Raises :class:`DockerfileError` when the text is binary, empty or
    has no ``FROM``; anything else odd becomes a :class:`Finding` and parsing goes on.
    """
    if "\x00" in text:
        raise DockerfileError(f"{path}: binary file (NUL bytes), not a Dockerfile")
    if not text.strip():
        raise DockerfileError(f"{path}: empty file, not a Dockerfile")
    build_args = dict(build_args or {})
    instructions, findings = tokenize(path, text)

    global_args: dict[str, str] = {}
    declared_globals: set[str] = set()
    stages: list[_Stage] = []
    names: dict[str, int] = {}
    try:
        for instruction in instructions:
            keyword = instruction.keyword
            if keyword == "ARG":
                for name, default in _arg_pairs(instruction.args):
                    target = global_args if not stages else stages[-1].variables
                    if name in build_args:
                        value: str | None = build_args[name]
                    elif default is not None:
                        value = substitute(default, global_args if not stages else stages[-1].variables)
                    elif stages and name in global_args:
                        value = global_args[name]  # a bare ARG in a stage re-imports the global value
                    else:
                        value = None
                    if not stages:
                        declared_globals.add(name)
                    if value is not None and name not in PLATFORM_ARGS:
                        target[name] = value
                continue
            if keyword == "FROM":
                stages.append(_parse_from(path, instruction, global_args, stages, names, findings))
                continue
            if not stages:
                continue  # only ARG may precede the first FROM; BuildKit rejects the rest, we ignore it
            stage = stages[-1]
            if keyword == "ENV":
                for name, value in _env_pairs(instruction.args):
                    stage.variables[name] = substitute(value, stage.variables)
            elif keyword == "RUN":
                _scan_run(path, instruction, stage, findings)
            elif keyword == "ADD":
                _scan_add(path, instruction, stage, findings)
    except ExpansionTooLarge as exc:  # the loop's instruction is the one that overflowed
        raise DockerfileError(f"{path}:{instruction.line}: {instruction.keyword} {exc}: not read") from None

    if not stages:
        raise DockerfileError(f"{path}: no FROM instruction, not a Dockerfile")
    return _image_context(path, stages, findings)


def _parse_from(
    path: str,
    instruction: Instruction,
    global_args: Mapping[str, str],
    stages: list[_Stage],
    names: dict[str, int],
    findings: list[Finding],
) -> _Stage:
    words = instruction.args.split()
    platform_raw: str | None = None
    rest: list[str] = []
    position = 0
    while position < len(words):
        word = words[position]
        if word.startswith("--platform="):
            platform_raw = word.split("=", 1)[1]
        elif word == "--platform" and position + 1 < len(words):
            position += 1
            platform_raw = words[position]
        elif not word.startswith("--"):
            rest.append(word)
        position += 1
    image = substitute(rest[0], global_args) if rest else ""
    name = rest[2].lower() if len(rest) >= 3 and rest[1].lower() == "as" else None
    if not image or "$" in image:
        findings.append(
            Finding(path, instruction.line, "unknown-base-image", "info",
                    f"FROM {rest[0] if rest else '(nothing)'}: the image name uses a build argument with no "
                    f"default; pass it in build_args to know the target")
        )  # fmt: skip
    platform = None
    literal = False
    if platform_raw is not None:
        platform = substitute(platform_raw, global_args, keep=PLATFORM_ARGS)
        literal = "$" not in platform
    parent = names.get(image.lower())
    index = len(stages)
    stage = _Stage(
        index=index,
        line=instruction.line,
        image=image,
        name=name,
        platform=platform,
        platform_literal=literal,
        parent=parent,
        # Global ARGs are not visible in a stage until it re-declares them; ENV is inherited.
        variables={} if parent is None else dict(stages[parent].variables),
    )
    if name:
        names[name] = index
    return stage


def _scan_run(path: str, instruction: Instruction, stage: _Stage, findings: list[Finding]) -> None:
    script = instruction.script()
    if instruction.args.startswith("["):
        try:
            words = json.loads(instruction.args)
            script = " ".join(str(word) for word in words) if isinstance(words, list) else script
        except ValueError:
            pass  # not valid JSON: Docker runs it as a shell command, and so do we
    # Expand ARG/ENV values so `apt-get install $BUILD_DEPS` and `.../tool-${ARCH}.tgz` are seen.
    expanded = substitute(script, stage.variables, keep=PLATFORM_ARGS)
    packages = installed_packages(expanded)
    if any(COMPILER_PACKAGE.match(package) for package in packages):
        stage.installs_compiler = True
    for package in packages:
        match = PYTHON_PACKAGE.match(package)
        if match:
            minor = match["dotted"] or match["compact"]
            stage.python_packages.append(f"3.{minor}" if minor else None)
    if PIP_RUN.search(expanded):
        stage.runs_pip = True
    check_download(path, instruction, expanded, findings)


def _scan_add(path: str, instruction: Instruction, stage: _Stage, findings: list[Finding]) -> None:
    expanded = substitute(instruction.args, stage.variables, keep=PLATFORM_ARGS)
    check_download(path, instruction, expanded, findings)


def _image_context(path: str, stages: list[_Stage], findings: list[Finding]) -> ImageContext:
    final = stages[-1]
    chain = _stage_chain(stages, final.index)
    root = chain[-1]
    chain_indexes = {stage.index for stage in chain}

    platform_pin = None
    for stage in stages:
        if stage.platform is None or not stage.platform_literal:
            continue
        in_final = stage.index in chain_indexes
        if in_final and platform_pin is None:
            platform_pin = stage.platform
        amd64 = _platform_is_amd64(stage.platform)
        if in_final:
            severity: Severity = "blocker" if amd64 else "warning"
            message = (
                f"FROM --platform={stage.platform} pins the final image to {stage.platform}: it is "
                f"emulated on {'arm64' if amd64 else 'other'} hosts; use --platform=$TARGETPLATFORM or drop it"
            )
        else:
            severity = "warning"
            message = (
                f"build stage {stage.name or stage.index} is pinned to --platform={stage.platform}: its RUN "
                f"steps are emulated when building on other hosts (slow); use --platform=$BUILDPLATFORM"
            )
        findings.append(Finding(path, stage.line, "platform-pinned", severity, message))

    image = root.image or None
    facts: BaseImageFacts | None = None
    python: str | None = None
    if image is None or "$" in (image or ""):
        image = None
    elif image.lower() == "scratch":
        findings.append(
            Finding(path, root.line, "no-python-in-image", "info",
                    "the final stage is FROM scratch: there is no Python in it, so no target is derived from it")
        )  # fmt: skip
    else:
        facts = lookup_base_image(image)
        if facts is None:
            findings.append(
                Finding(path, root.line, "unknown-base-image", "info",
                        f"base image {image} is not in the known-image table: its Python and libc are "
                        f"unknown, so the default target settings are used")
            )  # fmt: skip

    if facts is not None:
        python = facts.python
        if python is None:
            installed = [version for stage in chain for version in stage.python_packages]
            if installed:
                explicit = [version for version in installed if version]
                python = explicit[-1] if explicit else facts.distro_python
            if python is None:
                reason = (
                    "no RUN installs python3 from its packages"
                    if not installed
                    else "the version of its python3 package is not in the table"
                )
                findings.append(
                    Finding(path, root.line, "unknown-base-image", "info",
                            f"{image} ships no Python and {reason}: the default Python version is used")
                )  # fmt: skip

    ships_compiler = facts.ships_compiler if facts else False
    builder_compiles = any(
        stage.runs_pip
        and (stage.installs_compiler or any(_stage_ships_compiler(s) for s in _stage_chain(stages, stage.index)))
        for stage in stages
        if stage.index not in chain_indexes
    )
    installs_compiler = ships_compiler or any(stage.installs_compiler for stage in chain) or builder_compiles

    return ImageContext(
        path=path,
        base_image=image,
        base_line=root.line,
        python=python,
        libc=facts.libc if facts else None,
        libc_version=facts.libc_version if facts else None,
        platform_pin=platform_pin,
        installs_compiler=installs_compiler,
        # Real images only: a `FROM builder` stage reference is not something a registry knows.
        stages=tuple(stage.image for stage in stages if stage.parent is None and stage.image),
        findings=tuple(sorted(findings, key=lambda finding: finding.line)),
        stage_lines=tuple(
            (stage.image, stage.line)
            for stage in stages
            if stage.parent is None and stage.image and stage.image.lower() != "scratch" and "$" not in stage.image
        ),
    )


def _stage_ships_compiler(stage: _Stage) -> bool:
    facts = lookup_base_image(stage.image) if stage.image and "$" not in stage.image else None
    return bool(facts and facts.ships_compiler)
