"""``archcheck``: check one repository (path or git URL) and print its verdicts.

The archcheck/1 contract (README): ``--format json`` prints exactly one ``archcheck/1`` document on stdout,
logs go to stderr; exit 0, 1 when ``--fail-on`` is met, 2 on bad input with a one-line reason.
"""

from __future__ import annotations

import contextlib
import json
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, DjangoHelpFormatter

from readiness import engine
from readiness.clients import cli_index_client, http_client, http_deadline, registry_client
from scanners.check import LOCKFILE_NAMES, check_snapshot, is_relevant_path
from scanners.compare import compare_reports, comparison_json, render_changes
from scanners.deep_check import deep_check_wheel
from scanners.git import GitError, fetch_snapshot
from scanners.http import redact
from scanners.lockfiles import detect_format
from scanners.project_metadata import metadata_reader
from scanners.report import FAIL_ON, fail_on_met, render_table, report_to_json
from scanners.targets import Target

BAD_INPUT = 2
FAIL_ON_NEW = "a change that adds a blocker against --base (what was broken there already passes)"


class _HelpFormatter(DjangoHelpFormatter):
    """Keeps the line breaks of a help text that has them (one line per ``--fail-on`` level)."""

    def _split_lines(self, text, width):
        return text.splitlines() if "\n" in text else super()._split_lines(text, width)


class Command(BaseCommand):
    help = "Predict, per locked package and target, whether pip installs a wheel, builds an sdist or fails."

    def create_parser(self, prog_name, subcommand, **kwargs):
        return super().create_parser(prog_name, subcommand, formatter_class=_HelpFormatter, **kwargs)

    def add_arguments(self, parser):
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
        parser.add_argument(
            "--index-url", help="package index (default: READINESS_INDEX_URL, pip's, or the public index)"
        )
        parser.add_argument(
            "--no-index-cache", action="store_true", help="ask the index again, ignoring the on-disk cache"
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

    def handle(self, *args, **opts):
        platforms = opts["platforms"] or list(settings.READINESS_PLATFORMS)
        self._validate_targets(platforms, opts["python"], opts["libc"])
        if opts["fail_on"] == "new" and not opts["base"]:
            raise CommandError("--fail-on new needs --base REF: the ref to compare with", returncode=BAD_INPUT)
        snapshot = self._snapshot(opts["source"], opts["ref"])
        self._require_lockfile(snapshot, opts["source"], opts["ref"])
        base_snapshot = self._snapshot(opts["source"], opts["base"]) if opts["base"] else None
        interactive = opts["format"] == "table" and sys.stderr.isatty()
        registry = None if opts["no_registry"] else registry_client(database=False)
        http = http_client()
        with (
            cli_index_client(url=opts["index_url"], cache=not opts["no_index_cache"]) as index,
            registry or contextlib.nullcontext(),
        ):

            def check(snapshot):
                return check_snapshot(
                    snapshot,
                    deep_check=(lambda f: deep_check_wheel(f, http=http)) if opts["deep"] else None,
                    image_platforms=registry.platforms_many if registry is not None else None,
                    read_metadata=metadata_reader(http, deadline=http_deadline()),
                    index=index,
                    defaults=engine.target_defaults(),
                    limits=engine.check_limits(),
                    platforms=platforms,
                    python=opts["python"],
                    libc=opts["libc"],
                    progress=self._progress if interactive else None,
                )

            report = check(snapshot)
            # The base is checked with the same targets, index and registry answers: only the change differs.
            comparison = (
                compare_reports(report_to_json(check(base_snapshot)), report_to_json(report)) if base_snapshot else None
            )
        if interactive:
            sys.stderr.write("\r\x1b[K")
        if opts["format"] == "json":
            doc = report_to_json(report)
            if comparison is not None:
                doc |= comparison_json(comparison, ref=opts["base"])
            self.stdout.write(json.dumps(doc, indent=2))
        else:
            if comparison is not None:
                self.stdout.write(render_changes(comparison, base=opts["base"]) + "\n\n")
            self.stdout.write(render_table(report, colour=self.stdout.isatty()))
        for problem in report.problems:
            self.stderr.write(f"warning: {problem}")
        self._index_warnings(report.index_errors)
        if comparison is not None and opts["fail_on"] == "new":
            if comparison["worse"]:
                sys.exit(1)
        elif fail_on_met(report, opts["fail_on"]):
            sys.exit(1)

    def _validate_targets(self, platforms, python, libc):
        for platform in platforms:
            try:
                Target.from_flags(platform, python or "3.12", libc or "glibc:2.36", origin="flag")
            except ValueError as exc:
                raise CommandError(str(exc), returncode=BAD_INPUT) from None

    def _snapshot(self, source: str, ref: str | None):
        is_url = "://" in source or source.startswith("git@")
        if not is_url and not Path(source).exists():
            raise CommandError(f"{source}: no such file or directory", returncode=BAD_INPUT)
        if not is_url and Path(source).is_file():
            raise CommandError(f"{source}: give the repository directory, not a file", returncode=BAD_INPUT)
        cache_dir = settings.READINESS_GIT_CACHE_DIR
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
                max_file_bytes=settings.READINESS_MAX_FILE_BYTES,
            )
        except GitError as exc:
            raise CommandError(str(exc), returncode=BAD_INPUT) from None

    def _require_lockfile(self, snapshot, source: str, ref: str | None) -> None:
        """No lockfile at all is bad input (exit 2): a check that saw nothing must not pass."""
        if any(detect_format(f.path) for f in (*snapshot.files, *snapshot.skipped)):
            return
        # The source as given may be a URL with a token: the message names it redacted.
        where = f"{redact(source)} at {ref}" if ref else redact(source)
        raise CommandError(
            f"no lockfile found in {where} (looked for {', '.join(LOCKFILE_NAMES)})", returncode=BAD_INPUT
        )

    def _index_warnings(self, errors: dict[str, str], *, limit: int = 5) -> None:
        """One line per package the index could not answer for; an outage is summarised, not repeated."""
        for name, error in sorted(errors.items())[:limit]:
            self.stderr.write(f"warning: {name} is unknown: {error}")
        if len(errors) > limit:
            self.stderr.write(f"warning: … and {len(errors) - limit} more packages the index did not answer for")

    def _progress(self, step: str, done: int, total: int) -> None:
        sys.stderr.write(f"\rquerying the package index: {done}/{total} packages")
        sys.stderr.flush()
