"""``matrix [REPO…] --format json|csv``: the stored matrix of each repo's latest finished scan."""

from __future__ import annotations

import csv
import json

from django.core.management.base import BaseCommand, CommandError

from readiness.models import Repo
from readiness.queries.exports import spreadsheet_safe
from readiness.queries.matrix import CSV_COLUMNS, matrix_csv_rows, matrix_documents, matrix_repos


class Command(BaseCommand):
    help = "Print the stored matrix: JSON (an array of archcheck/1 documents) or CSV."

    def add_arguments(self, parser):
        parser.add_argument("repos", nargs="*", metavar="REPO")
        parser.add_argument("--format", choices=["json", "csv"], default="json")
        parser.add_argument("--team")

    def handle(self, *args, **opts):
        if opts["repos"]:
            known = set(Repo.objects.filter(name__in=opts["repos"]).values_list("name", flat=True))
            missing = [n for n in opts["repos"] if n not in known]
            if missing:
                raise CommandError(f"unknown repositories: {', '.join(missing)}", returncode=2)
        repos = matrix_repos(names=opts["repos"], team=opts["team"])
        if opts["format"] == "csv":
            writer = csv.writer(self.stdout, lineterminator="\n")
            writer.writerow(CSV_COLUMNS)
            for row in spreadsheet_safe(matrix_csv_rows(repos)):
                writer.writerow(row)
        else:
            self.stdout.write(json.dumps(matrix_documents(repos), indent=2))
