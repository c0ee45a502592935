"""``archcheck``: check one repository (path or git URL) and print its verdicts, without Django.

``python -m scanners`` runs it from the environment's settings (:mod:`scanners.archcheck_settings`);
``manage.py archcheck`` is a thin wrapper that passes Django's. Both print the same bytes.

The archcheck/1 contract (README): ``--format json`` prints exactly one ``archcheck/1`` document on stdout,
logs go to stderr; exit 0, 1 when ``--fail-on`` is met, 2 on bad input with a one-line reason.

What a warm run costs is what the caches under ``READINESS_VAR_DIR`` answer: index pages within
their period (parsed, :class:`~scanners.index_cache.FileIndexCache`), core metadata forever
(:mod:`scanners.metadata_cache`), registry answers and failures within theirs
(:class:`~scanners.registry.FileRegistryCache`); ``--refresh`` asks again. Imports are paid
where used: no HTML parser unless the index answers HTML, no deep check unless ``--deep``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO, cast

import httpx

from scanners.archcheck_settings import ArchcheckSettings, docker_config_credentials, settings_from_environ
from scanners.check import LOCKFILE_NAMES, CheckLimits, TargetDefaults, check_snapshot, is_relevant_path
from scanners.compare import compare_reports, comparison_json, render_changes
from scanners.git import GitError, fetch_snapshot
from scanners.http import new_client, redact
from scanners.index import FileIndexCache, IndexClient, default_index_url
from scanners.lockfiles import detect_format
from scanners.metadata_cache import FileMetadataCache
from scanners.project_metadata import metadata_reader
from scanners.registry import FileRegistryCache, RegistryClient
from scanners.report import FAIL_ON, fail_on_met, render_table, report_to_json
from scanners.targets import Target

__all__ = ["BAD_INPUT", "BadInput", "HelpFormatter", "add_arguments", "main", "run"]

BAD_INPUT = 2
FAIL_ON_NEW = "a change that adds a blocker against --base (what was broken there already passes)"


class BadInput(Exception):
    """Exit 2 with this one-line reason."""


class HelpFormatter(argparse.HelpFormatter):
    """Keeps the line breaks of a help text that has them (one line per ``--fail-on`` level)."""

    def _split_lines(self, text, width):
        return text.splitlines() if "\n" in text else super()._split_lines(text, width)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", help="a local path or a git URL")
    parser.add_argument("--ref", help="branch, tag or commit (default: the work tree, or the remote's HEAD)")
    parser.add_argument(
        "--platform",
        action="append",
        dest="platforms",
        metavar="PLATFORM",
        help="target platform, repeatable (default: linux/amd64 and linux/arm64)",
    )
    parser.add_argument("--python", help="target CPython version, e.g. 3.11 (default: from the Dockerfile)")
    parser.add_argument("--libc", help="glibc:2.36 or musl:1.2 (default: from the Dockerfile)")
    parser.add_argument("--format", choices=["table", "json"], default="table")
    parser.add_argument(
        "--base",
        metavar="REF",
        help="also check REF (a branch, tag or commit of the same repository) and report what changed",
    )
    parser.add_argument(
        "--fail-on",
        choices=[*FAIL_ON, "new"],
        metavar="{" + ",".join([*FAIL_ON, "new"]) + "}",
        help="exit 1 when the check meets this level; each includes the ones before it:\n"
        + "\n".join(f"  {level:8} {words}" for level, words in {**FAIL_ON, "new": FAIL_ON_NEW}.items()),
    )
    parser.add_argument("--index-url", help="package index (default: READINESS_INDEX_URL, pip's, or the public index)")
    parser.add_argument("--no-index-cache", action="store_true", help="ask the index again, ignoring the on-disk cache")
    parser.add_argument(
        "--refresh",
        action="store_true",
        help="ask the index and registries again about everything the on-disk caches hold (revalidation)",
    )
    parser.add_argument(
        "--no-registry",
        action="store_true",
        help="do not ask container registries whether the base images exist for each platform",
    )
    parser.add_argument(
        "--deep",
        action="store_true",
        help="also read pure and universal2 wheels (HTTP range requests) for native code their tags hide",
    )


def run(opts: dict, settings: ArchcheckSettings, *, stdout: TextIO, stderr: TextIO) -> int:
    """Check ``opts["source"]`` and print the answer; the exit code (0 or 1). :raises BadInput:"""
    platforms = opts["platforms"] or list(settings.platforms)
    _validate_targets(platforms, opts["python"], opts["libc"])
    if opts["fail_on"] == "new" and not opts["base"]:
        raise BadInput("--fail-on new needs --base REF: the ref to compare with")
    refresh = opts["refresh"]
    interactive = opts["format"] == "table" and stderr.isatty()
    http = cast(httpx.Client, _OnFirstUse(lambda: new_client(max_connections=16)))
    deadline = float(settings.http_deadline)
    index = IndexClient(
        opts["index_url"] or settings.index_url or default_index_url(),
        cache=None if opts["no_index_cache"] else FileIndexCache(settings.var_dir / "index-cache"),
        cache_period=0 if refresh else settings.index_cache_seconds,
        retries=settings.index_retries,
        http=http,
        deadline=deadline,
    )
    registry = None if opts["no_registry"] or not settings.registry_lookups else _registry(settings, http, refresh)
    metadata_cache = FileMetadataCache(settings.var_dir / "metadata-cache", absent_period=settings.index_cache_seconds)
    with http, index, registry or contextlib.nullcontext():
        snapshot = _snapshot(opts["source"], opts["ref"], settings)
        _require_lockfile(snapshot, opts["source"], opts["ref"])
        base_snapshot = _snapshot(opts["source"], opts["base"], settings) if opts["base"] else None

        def check(snapshot):
            return check_snapshot(
                snapshot,
                deep_check=_deep_check(http) if opts["deep"] else None,
                image_platforms=registry.platforms_many if registry is not None else None,
                read_metadata=metadata_reader(http, deadline=deadline, cache=metadata_cache, refresh=refresh),
                index=index,
                defaults=TargetDefaults(
                    python=settings.default_python, libc=settings.default_libc, platforms=tuple(settings.platforms)
                ),
                limits=CheckLimits(
                    packages_per_lockfile=settings.max_packages_per_lockfile,
                    packages_per_repo=settings.max_packages_per_repo,
                ),
                platforms=platforms,
                python=opts["python"],
                libc=opts["libc"],
                progress=_progress(stderr) if interactive else None,
            )

        report = check(snapshot)
        # The base is checked with the same targets, index and registry answers: only the change differs.
        comparison = (
            compare_reports(report_to_json(check(base_snapshot)), report_to_json(report)) if base_snapshot else None
        )
    if interactive:
        stderr.write("\r\x1b[K")
    if opts["format"] == "json":
        doc = report_to_json(report)
        if comparison is not None:
            doc |= comparison_json(comparison, ref=opts["base"])
        stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        if comparison is not None:
            stdout.write(render_changes(comparison, base=opts["base"]) + "\n\n")
        stdout.write(render_table(report, colour=stdout.isatty()) + "\n")
    for problem in report.problems:
        stderr.write(f"warning: {problem}\n")
    _index_warnings(report.index_errors, stderr)
    if comparison is not None and opts["fail_on"] == "new":
        return 1 if comparison["worse"] else 0
    return 1 if fail_on_met(report, opts["fail_on"]) else 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m scanners SOURCE [options]``: the command line without Django."""
    parser = argparse.ArgumentParser(
        prog="archcheck",
        description="Predict, per locked package and target, whether pip installs a wheel, builds an sdist or fails.",
        formatter_class=HelpFormatter,
    )
    add_arguments(parser)
    opts = vars(parser.parse_args(argv))
    _hand_back_freed_memory()
    try:
        return run(opts, settings_from_environ(), stdout=sys.stdout, stderr=sys.stderr)
    except (BadInput, ValueError) as exc:
        sys.stderr.write(f"archcheck: error: {exc}\n")
        return BAD_INPUT


_M_MMAP_THRESHOLD, _M_ARENA_MAX = -3, -8  # glibc's mallopt parameters (malloc.h)


def _hand_back_freed_memory() -> None:
    """Have glibc's malloc give freed memory back instead of keeping it for later (a cold run of a
    365-package lock peaked at 205 MB resident with 81 MB of live objects): a page body or a parsed
    page's blob of megabytes is mapped on its own and unmapped when freed (glibc would raise its
    threshold to the largest such block freed, and later ones fragment its heaps), and the index's
    threads share two arenas rather than one each. No-op on other C libraries."""
    import ctypes
    import platform

    if platform.libc_ver()[0] != "glibc":
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_MMAP_THRESHOLD, 256 << 10)
    mallopt(_M_ARENA_MAX, 2)


class _OnFirstUse:
    """An ``httpx.Client`` made when first used: a warm run asks nothing, and building one (its TLS
    context reads the system's certificates) is a tenth of such a run."""

    def __init__(self, make) -> None:
        self._make = make
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def __getattr__(self, name: str):
        with self._lock:
            if self._client is None:
                self._client = self._make()
        return getattr(self._client, name)

    def __enter__(self) -> _OnFirstUse:
        return self

    def __exit__(self, *exc_info) -> None:
        if self._client is not None:
            self._client.close()


def _registry(settings: ArchcheckSettings, http, refresh: bool) -> RegistryClient:
    try:
        credentials = docker_config_credentials(settings.registry_auth_file)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    return RegistryClient(
        http=http,
        credentials=credentials,
        cache=FileRegistryCache(settings.var_dir / "registry-cache"),
        cache_period=0 if refresh else settings.registry_cache_seconds,
        failure_period=0 if refresh else settings.registry_failure_seconds,
        endpoints=settings.registry_endpoints,
        insecure_registries=settings.registry_insecure,
        deadline=float(settings.http_deadline),
    )


def _deep_check(http):
    from scanners.deep_check import deep_check_wheel  # only with --deep

    return lambda f: deep_check_wheel(f, http=http)


def _validate_targets(platforms, python, libc) -> None:
    for platform in platforms:
        try:
            Target.from_flags(platform, python or "3.12", libc or "glibc:2.36", origin="flag")
        except ValueError as exc:
            raise BadInput(str(exc)) from None


def _snapshot(source: str, ref: str | None, settings: ArchcheckSettings):
    is_url = "://" in source or source.startswith("git@")
    if not is_url and not Path(source).exists():
        raise BadInput(f"{source}: no such file or directory")
    if not is_url and Path(source).is_file():
        raise BadInput(f"{source}: give the repository directory, not a file")
    cache_dir = settings.git_cache_dir
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError:
        cache_dir = Path(tempfile.mkdtemp(prefix="archcheck-git-"))
    try:
        return fetch_snapshot(
            source,
            ref,
            wanted=is_relevant_path,
            cache_dir=cache_dir,
            max_file_bytes=settings.max_file_bytes,
        )
    except GitError as exc:
        raise BadInput(str(exc)) from None


def _require_lockfile(snapshot, source: str, ref: str | None) -> None:
    """No lockfile at all is bad input (exit 2): a check that saw nothing must not pass."""
    if any(detect_format(f.path) for f in (*snapshot.files, *snapshot.skipped)):
        return
    # The source as given may be a URL with a token: the message names it redacted.
    where = f"{redact(source)} at {ref}" if ref else redact(source)
    raise BadInput(f"no lockfile found in {where} (looked for {', '.join(LOCKFILE_NAMES)})")


def _index_warnings(errors: Mapping[str, str], stderr: TextIO, *, limit: int = 5) -> None:
    """One line per package the index could not answer for; an outage is summarised, not repeated."""
    for name, error in sorted(errors.items())[:limit]:
        stderr.write(f"warning: {name} is unknown: {error}\n")
    if len(errors) > limit:
        stderr.write(f"warning: … and {len(errors) - limit} more packages the index did not answer for\n")


def _progress(stderr: TextIO):
    def progress(step: str, done: int, total: int) -> None:
        stderr.write(f"\rquerying the package index: {done}/{total} packages")
        stderr.flush()

    return progress
