"""``import_repos``: make the configured repositories match a TOML file or a GitHub organisation.

Safe to run twice (the second run reports ``0 created, 0 updated, N unchanged, 0 disabled``)
and never deletes: repos that left the source are disabled. Exit 0 on success, 1 when GitHub
refuses or fails, 2 on bad input (file, options), each with a one-line reason on stderr and
nothing written.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from readiness.clients import github_client
from readiness.services.github import GitHubError, github_org_import, org_name_problem
from readiness.services.repos import (
    ImportResult,
    RepoConfigError,
    RepoImportError,
    credentials_ref_problem,
    repo_entries_from_toml_file,
    repos_import,
    source_for_toml,
)

REMOTE_FAILED = 1
BAD_INPUT = 2


class Command(BaseCommand):
    help = "Create, update and disable configured repositories from a TOML file or a GitHub organisation."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", type=Path, help="a TOML file of [[repo]] tables")
        parser.add_argument("--github-org", metavar="ORG", help="import the repositories of this GitHub organisation")
        parser.add_argument("--include-forks", action="store_true", help="with --github-org: import forks too")
        parser.add_argument(
            "--credentials",
            default="GITHUB_TOKEN",
            metavar="ENV_VAR",
            help="with --github-org: the environment variable whose token clones private repos (default: GITHUB_TOKEN)",
        )
        parser.add_argument("--dry-run", action="store_true", help="print what would change, write nothing")

    def handle(self, *args, **opts) -> None:
        if bool(opts["file"]) == bool(opts["github_org"]):
            raise CommandError("give either a TOML file or --github-org ORG", returncode=BAD_INPUT)
        if opts["file"]:
            result = self._from_file(opts["file"], dry_run=opts["dry_run"])
        else:
            result = self._from_github(opts)
        self._report(result)

    def _from_file(self, path: Path, *, dry_run: bool) -> ImportResult:
        try:
            entries = repo_entries_from_toml_file(path)
            return repos_import(entries=entries, source=source_for_toml(path), dry_run=dry_run)
        except (RepoConfigError, RepoImportError) as exc:
            raise CommandError(str(exc), returncode=BAD_INPUT) from None

    def _from_github(self, opts) -> ImportResult:
        if problem := org_name_problem(opts["github_org"]):
            raise CommandError(f"--github-org: {problem}", returncode=BAD_INPUT)
        if problem := credentials_ref_problem(opts["credentials"]):
            raise CommandError(f"--credentials: {problem}", returncode=BAD_INPUT)
        if not settings.GITHUB_TOKEN:
            self.stderr.write("warning: GITHUB_TOKEN is not set: only public repositories are listed")
        try:
            with github_client() as client:
                imported = github_org_import(
                    client=client,
                    org=opts["github_org"],
                    include_forks=opts["include_forks"],
                    credentials_ref=opts["credentials"],
                    dry_run=opts["dry_run"],
                )
        except GitHubError as exc:
            raise CommandError(str(exc), returncode=REMOTE_FAILED) from None
        except RepoImportError as exc:
            raise CommandError(str(exc), returncode=BAD_INPUT) from None
        self.stdout.write(f"{opts['github_org']}: {imported.listed} repositories listed")
        for full_name, reason in imported.skipped:
            self.stdout.write(f"skipped {full_name} ({reason})")
        return imported.result

    def _report(self, result: ImportResult) -> None:
        would = "would be " if result.dry_run else ""
        for name in result.created:
            self.stdout.write(f"{would}created {name}")
        for change in result.changes:
            self.stdout.write(f"{would}updated {change}")
        for name in result.disabled:
            self.stdout.write(f"{would}disabled {name}")
        prefix = "dry run, nothing written: " if result.dry_run else ""
        self.stdout.write(f"{prefix}{result.summary()}")
