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
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from packaging.utils import canonicalize_name

from scanners.base_images import BaseImageFacts, lookup_base_image, parse_image_reference
from scanners.findings import Finding, Severity

__all__ = [
    "DockerfileError",
    "ImageContext",
    "MACOS_ONLY_PACKAGES",
    "is_dockerfile",
    "parse_dockerfile",
    "verdict_findings",
]

class DockerfileError(ValueError):
    """The file cannot be read as a Dockerfile at all (binary, empty, no ``FROM``)."""


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


# Packages that only ever install on macOS. Sources, as of 2026-11: tensorflow-macos and
# tensorflow-metal publish macOS wheels only and no sdist (their release file lists on the
# public index; Apple's "tensorflow-metal" developer page); PyObjC's setup refuses to build
# on anything but macOS (pyobjc.readthedocs.io "Installing PyObjC"). appnope is NOT listed: it
# is a pure-Python no-op off macOS and installs fine on Linux.
MACOS_ONLY_PACKAGES: frozenset[str] = frozenset({"tensorflow-macos", "tensorflow-metal", "pyobjc", "pyobjc-core"})
_MACOS_ONLY_PREFIXES = ("pyobjc-framework-",)

# Names that BuildKit fills in itself; a FROM or RUN that uses them adapts to the target.
_PLATFORM_ARGS = frozenset(
    {
        "TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT",
        "BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT",
    }
)  # fmt: skip

_INSTRUCTION = re.compile(r"^\s*([A-Za-z]+)(?:\s+(.*))?$", re.DOTALL)
_DIRECTIVE = re.compile(r"^#\s*([A-Za-z_]+)\s*=\s*(\S+)\s*$")
_HEREDOC = re.compile(r"(?<![<\w])<<(-?)(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\2")
_VARIABLE = re.compile(r"\\\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")
_URL = re.compile(r"(?:https?|ftp)://[^\s'\"<>|;&)]+", re.IGNORECASE)
_AMD64_WORD = re.compile(r"(?<![a-z0-9])(amd64|x86[_-]64|x64|linux64)(?![a-z0-9])", re.IGNORECASE)
_ARCH_AWARE = re.compile(
    r"TARGETARCH|TARGETPLATFORM|TARGETVARIANT|uname\s+-[a-z]*m|dpkg\s+--print-architecture"
    r"|apk\s+--print-arch|\$\(\s*arch\s*\)|`\s*arch\s*`",
)
_PIP_RUN = re.compile(
    r"(?:\bpip3?(?:\.\d+)?|-m\s+pip|\buv\s+pip|\bpipenv|\bpdm|\bpoetry)\s+(?:[^\n;&|]*\s)?(?:install|wheel|sync)\b"
    r"|\buv\s+(?:sync|pip\s+install)\b"
)
_COMPILER_PACKAGE = re.compile(
    r"^(?:gcc|g\+\+|cc|clang|build-essential|build-base|alpine-sdk|gcc-c\+\+|gcc-gfortran|gfortran"
    r"|(?:gcc|g\+\+|clang|gfortran)-\d+(?:\.\d+)?|gcc-toolset-\d+|devtoolset-\d+|@development-tools)$"
)
_PYTHON_PACKAGE = re.compile(
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


@dataclass(slots=True)
class _Instruction:
    keyword: str
    args: str
    line: int
    heredocs: list[str] = field(default_factory=list)

    def script(self) -> str:
        """The instruction's text with its heredoc bodies, which run as part of it."""
        return "\n".join([self.args, *self.heredocs])


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


def _substitute(text: str, variables: Mapping[str, str], *, keep: frozenset[str] = frozenset()) -> str:
    """Expand ``$VAR``, ``${VAR}``, ``${VAR:-word}``, ``${VAR:+word}`` as the Dockerfile reference
    says; names in ``keep`` (BuildKit's platform args) and unknown names are left as written so a
    caller can still see that the text depends on them."""

    def replace(match: re.Match[str]) -> str:
        if match[0] == "\\$":
            return "$"
        name = match[1] or match[4]
        if name in keep or (name not in variables and not match[2]):
            return match[0]
        value = variables.get(name)
        operator, word = match[2], match[3] or ""
        if operator in (":-", "-"):
            unset = value is None or (operator == ":-" and value == "")
            return _substitute(word, variables, keep=keep) if unset else value  # type: ignore[return-value]
        if operator in (":+", "+"):
            set_ = value is not None and (operator == "+" or value != "")
            return _substitute(word, variables, keep=keep) if set_ else ""
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


def _tokenize(path: str, text: str) -> tuple[list[_Instruction], list[Finding]]:
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

    instructions: list[_Instruction] = []
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
        instruction = _Instruction(match[1].upper(), (match[2] or "").strip(), first_line)
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


def _split_commands(script: str) -> list[list[str]]:
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


def _installed_packages(script: str) -> list[str]:
    """Packages named by apt-get/apt/apk/yum/dnf install commands in a RUN script."""
    packages: list[str] = []
    for words in _split_commands(script):
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
    instructions, findings = _tokenize(path, text)

    global_args: dict[str, str] = {}
    declared_globals: set[str] = set()
    stages: list[_Stage] = []
    names: dict[str, int] = {}
    for instruction in instructions:
        keyword = instruction.keyword
        if keyword == "ARG":
            for name, default in _arg_pairs(instruction.args):
                target = global_args if not stages else stages[-1].variables
                if name in build_args:
                    value: str | None = build_args[name]
                elif default is not None:
                    value = _substitute(default, global_args if not stages else stages[-1].variables)
                elif stages and name in global_args:
                    value = global_args[name]  # a bare ARG in a stage re-imports the global value
                else:
                    value = None
                if not stages:
                    declared_globals.add(name)
                if value is not None and name not in _PLATFORM_ARGS:
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
                stage.variables[name] = _substitute(value, stage.variables)
        elif keyword == "RUN":
            _scan_run(path, instruction, stage, findings)
        elif keyword == "ADD":
            _scan_add(path, instruction, stage, findings)

    if not stages:
        raise DockerfileError(f"{path}: no FROM instruction, not a Dockerfile")
    return _image_context(path, stages, findings)


def _parse_from(
    path: str,
    instruction: _Instruction,
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
    image = _substitute(rest[0], global_args) if rest else ""
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
        platform = _substitute(platform_raw, global_args, keep=_PLATFORM_ARGS)
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


def _scan_run(path: str, instruction: _Instruction, stage: _Stage, findings: list[Finding]) -> None:
    script = instruction.script()
    if instruction.args.startswith("["):
        try:
            words = json.loads(instruction.args)
            script = " ".join(str(word) for word in words) if isinstance(words, list) else script
        except ValueError:
            pass  # not valid JSON: Docker runs it as a shell command, and so do we
    # Expand ARG/ENV values so `apt-get install $BUILD_DEPS` and `.../tool-${ARCH}.tgz` are seen.
    expanded = _substitute(script, stage.variables, keep=_PLATFORM_ARGS)
    packages = _installed_packages(expanded)
    if any(_COMPILER_PACKAGE.match(package) for package in packages):
        stage.installs_compiler = True
    for package in packages:
        match = _PYTHON_PACKAGE.match(package)
        if match:
            minor = match["dotted"] or match["compact"]
            stage.python_packages.append(f"3.{minor}" if minor else None)
    if _PIP_RUN.search(expanded):
        stage.runs_pip = True
    _check_download(path, instruction, expanded, findings)


def _scan_add(path: str, instruction: _Instruction, stage: _Stage, findings: list[Finding]) -> None:
    expanded = _substitute(instruction.args, stage.variables, keep=_PLATFORM_ARGS)
    _check_download(path, instruction, expanded, findings)


def _check_download(path: str, instruction: _Instruction, text: str, findings: list[Finding]) -> None:
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


def _compiler_hint(image: ImageContext) -> str:
    """What to add to the Dockerfile so pip can build an sdist, for this image's distribution."""
    facts = lookup_base_image(image.base_image) if image.base_image else None
    official = facts is not None and facts.python is not None and facts.distro_python is None
    repository = parse_image_reference(image.base_image).repository if image.base_image else ""
    # The official python images carry their own headers in /usr/local/include: installing the
    # distribution's python3-dev there would pull in a second, unused Python.
    headers = "" if official and repository in ("python", "ghcr.io/astral-sh/uv") else " python3-dev"
    manager = facts.package_manager if facts else None
    if manager == "apk" or image.libc == "musl":
        return f"`RUN apk add --no-cache build-base{headers}`"
    if manager in ("dnf", "yum"):
        return f"`RUN {manager} install -y gcc gcc-c++ make{headers and ' python3-devel'}`"
    if manager == "apt" or image.libc == "glibc":
        return f"`RUN apt-get update && apt-get install -y --no-install-recommends build-essential{headers}`"
    return (
        "`RUN apt-get install -y build-essential python3-dev` (Debian/Ubuntu) or "
        "`RUN apk add build-base python3-dev` (Alpine)"
    )


def _is_macos_only(name: str) -> bool:
    return name in MACOS_ONLY_PACKAGES or name.startswith(_MACOS_ONLY_PREFIXES)


def verdict_findings(
    image: ImageContext,
    *,
    sdist_packages: Sequence[tuple[str, str]],
    package_names: Iterable[str],
) -> list[Finding]:
    """Findings that need the analyser's verdicts as well as the Dockerfile.

    ``sdist_packages`` are the (name, version) pairs whose verdict on this image's target is
    ``sdist``; ``package_names`` every package installed on the (Linux) target, markers
    already applied. A slim or Alpine image without a compiler makes each sdist a blocker,
    because pip fails with ``error: command 'gcc' failed``; when the base image is unknown
    we cannot tell whether it has gcc, so it is only a warning.
    """
    line = image.base_line or 1
    findings: list[Finding] = []
    if not image.installs_compiler:
        known = image.base_image is not None and (image.python is not None or image.libc is not None)
        severity: Severity = "blocker" if known else "warning"
        base = image.base_image or "the base image"
        hint = _compiler_hint(image)
        for name, version in sdist_packages:
            findings.append(
                Finding(image.path, line, "no-compiler-for-sdist", severity,
                        f"{canonicalize_name(name)}=={version} has no wheel for this image, so pip builds "
                        f"it from source, but {base} {'has' if known else 'may have'} no C compiler: pip "
                        f"fails with \"error: command 'gcc' failed\". Add {hint} before the pip install, "
                        f"or move to a version that has a wheel")
            )  # fmt: skip
    for raw in sorted({canonicalize_name(name) for name in package_names}):
        if _is_macos_only(raw):
            findings.append(
                Finding(image.path, line, "macos-only-package", "blocker",
                        f"{raw} only installs on macOS, but {image.base_image or 'this image'} is Linux: "
                        f"guard it with the marker `sys_platform == \"darwin\"` in the requirements, or "
                        f"use the Linux package (tensorflow instead of tensorflow-macos)")
            )  # fmt: skip
    return findings
