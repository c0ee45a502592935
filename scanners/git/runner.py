"""Running git for one public call: a shared deadline, a clean environment, and errors that
are one redacted line and say whether a retry may help.

Credentials in URLs (``https://user:token@host/…``) never appear in messages, logs or a
snapshot's ``source``: :func:`redact_url` (the engine's one redactor, :func:`scanners.http.redact`)
is applied to every message the runner produces.
:func:`_rev_parse` lives here too because every part of the package asks it (the clone cache,
the local-directory entry points, history): the one git question that is not about one part.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from scanners.http import redact

# Variables that point git at another repository than the one we name: set when running
# inside a git hook or a CI step, they would silently make every command read the wrong repo.
_REPO_ENV_VARS = frozenset(
    {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_COMMON_DIR",
        "GIT_NAMESPACE",
        "GIT_PREFIX",
    }
)

# Failures that retrying cannot fix (checked first) and failures worth retrying. Messages come
# from git, curl and ssh with LC_ALL=C. Anything unmatched from a network command counts as
# transient: a retry costs little, a scan marked failed for good costs a human.
_PERMANENT_MARKERS = (
    "couldn't find remote ref",
    "not our ref",
    "does not appear to be a git repository",
    "repository not found",
    "not found",
    "could not read username",
    "could not read password",
    "authentication failed",
    "invalid username or password",
    "permission denied",
    "returned error: 40",
    "not a git repository",
    "unknown revision",
    "bad revision",
    "invalid object name",
    "dubious ownership",
    "unsupported protocol",
    "transport '",
)
_TRANSIENT_MARKERS = (
    "could not resolve host",
    "could not resolve hostname",
    "timed out",
    "connection refused",
    "connection reset",
    "failed to connect",
    "early eof",
    "hung up unexpectedly",
    "rpc failed",
    "returned error: 5",
    "returned error: 429",
    "temporary failure",
    "network is unreachable",
    "unexpected disconnect",
)


class GitError(RuntimeError):
    """Git could not give us the repository.

    The message is one line naming the (redacted) source and the ref. ``transient`` is
    ``True`` for failures a retry may fix (network errors, timeouts, a busy cache) and
    ``False`` for an unknown repository, a bad ref or missing access.
    """

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


# The name callers (and scanners.git's exports) know; one redactor for git and HTTP messages alike,
# so a token is hidden the same way wherever it turns up.
redact_url = redact


@dataclass(frozen=True, slots=True)
class _Runner:
    """Runs git for one call: a shared deadline, a clean environment and the redacted names
    that every error message must carry."""

    label: str
    ref: str | None
    deadline: float
    file_url: bool

    def renewed(self, deadline: float) -> _Runner:
        return _Runner(self.label, self.ref, deadline, self.file_url)

    def error(self, what: str, *, transient: bool) -> GitError:
        at = f" at ref {self.ref!r}" if self.ref is not None else ""
        return GitError(redact_url(f"{self.label}{at}: {what}"), transient=transient)

    def run(
        self,
        args: Sequence[str],
        *,
        cwd: Path | None = None,
        stdin: bytes | None = None,
        network: bool = False,
        check: bool = True,
        config: Sequence[str] = (),
    ) -> subprocess.CompletedProcess[bytes]:
        """Run ``git args``; a failure raises :class:`GitError` classified from git's message
        unless ``check`` is false. ``config`` holds ``name=value`` settings for this run only."""
        settings = [*config, "protocol.file.allow=always"] if self.file_url else list(config)
        command = ["git", *(arg for setting in settings for arg in ("-c", setting)), *args]
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise self.error(f"timed out before git {args[0]}", transient=True)
        # A session of its own, so that a timeout kills git's helpers (ssh, git-remote-https,
        # upload-pack) too: killing only git leaves them holding our pipes open.
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=_git_env(),
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            stdout, stderr = process.communicate(stdin, timeout=remaining)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            raise self.error(f"git {args[0]} timed out", transient=True) from None
        except BaseException:
            _kill_group(process)
            raise
        result = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
        if check and result.returncode != 0:
            raise self.failure(args[0], result.stderr, network=network)
        return result

    def failure(self, command: str, stderr: bytes, *, network: bool) -> GitError:
        message = _first_error_line(stderr) or f"git {command} failed"
        lower = message.lower()
        if any(marker in lower for marker in _PERMANENT_MARKERS):
            transient = False
        elif any(marker in lower for marker in _TRANSIENT_MARKERS):
            transient = True
        else:
            transient = network
        return self.error(message, transient=transient)


def _git_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in _REPO_ENV_VARS}
    env["GIT_TERMINAL_PROMPT"] = "0"  # a worker has no terminal: fail instead of waiting forever
    env["LC_ALL"] = "C"  # English messages, which _PERMANENT_MARKERS and _TRANSIENT_MARKERS match
    if "GIT_SSH" not in env and "GIT_SSH_COMMAND" not in env:
        env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes"  # no password or host-key prompts either
    return env


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()


def _first_error_line(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    lines = [line for line in lines if not line.lower().startswith(("hint:", "trace:", "warning:"))]
    for line in lines:
        for prefix in ("fatal: ", "error: "):
            if line.startswith(prefix):
                return line[len(prefix) :]
    return lines[-1] if lines else ""


def _start(source: str, ref: str | None, timeout: float) -> _Runner:
    """The runner of one public call: its deadline starts now, its messages name the source
    without credentials, and a ref that git would misread is refused before any command."""
    runner = _Runner(
        label=redact_url(source), ref=ref, deadline=time.monotonic() + timeout, file_url=_is_file_url(source)
    )
    _check_ref(runner, ref)
    return runner


def _check_ref(runner: _Runner, ref: str | None) -> None:
    # A ref starting with "-" would be read as an option; whitespace never appears in refs.
    if ref is not None and (not ref or ref.startswith("-") or any(c.isspace() or ord(c) < 32 for c in ref)):
        raise runner.error("invalid ref", transient=False)


def _is_file_url(source: str) -> bool:
    # file:// clones are how tests (and on-premise mirrors) reach repositories; git restricts
    # the file protocol in some contexts since 2.38.1, so allow it explicitly for these URLs.
    return source.lower().startswith("file://")


def _rev_parse(runner: _Runner, cwd: Path, rev: str) -> str | None:
    result = runner.run(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], cwd=cwd, check=False)
    if result.returncode != 0:
        return None
    return result.stdout.decode().strip() or None
