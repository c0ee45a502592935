"""``archcheck``: check one repository (path or git URL) and print its verdicts.

A thin wrapper: the command is :mod:`scanners.archcheck` (also ``python -m scanners``, without
Django), run here with Django's settings (``readiness.engine.archcheck_settings``); both print
the same bytes. The archcheck/1 contract (README): ``--format json`` prints exactly one
``archcheck/1`` document on stdout, logs go to stderr; exit 0, 1 when ``--fail-on`` is met, 2 on
bad input with a one-line reason.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError, DjangoHelpFormatter

from readiness import engine
from scanners import archcheck
from scanners.archcheck import BAD_INPUT


class _HelpFormatter(DjangoHelpFormatter, archcheck.HelpFormatter):
    """Django's option order, with the line breaks of a help text that has them (``--fail-on``)."""


class Command(BaseCommand):
    help = "Predict, per locked package and target, whether pip installs a wheel, builds an sdist or fails."

    def create_parser(self, prog_name, subcommand, **kwargs):
        return super().create_parser(prog_name, subcommand, formatter_class=_HelpFormatter, **kwargs)

    def add_arguments(self, parser):
        archcheck.add_arguments(parser)

    def handle(self, *args, **opts):
        try:
            code = archcheck.run(opts, engine.archcheck_settings(), stdout=self.stdout, stderr=self.stderr)
        except archcheck.BadInput as exc:
            raise CommandError(str(exc), returncode=BAD_INPUT) from None
        if code:
            sys.exit(code)
