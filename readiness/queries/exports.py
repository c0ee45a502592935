"""Exports: the same queries as the pages, as rows or JSON chunks to stream.

Each function returns an iterator so the view can hand it to ``StreamingHttpResponse``;
the matrix rows come from the database with ``iterator()`` (an organisation's matrix is about
a million rows and is never held in memory as model instances).

Queries: matrix CSV 2 (repos, verdict rows); matrix JSON 3 (repos, verdicts, findings);
blockers CSV 2 (as the next actions); trends CSV 2 (organisation/team rollups, team rollups).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from django.core.serializers.json import DjangoJSONEncoder

from readiness.queries.actions import BLOCKER_CSV_COLUMNS, blocker_csv_rows
from readiness.queries.matrix import CSV_COLUMNS, matrix_csv_rows, matrix_documents, matrix_repos
from readiness.queries.trends import TRENDS_CSV_COLUMNS, trends_csv_rows

__all__ = [
    "blockers_csv",
    "matrix_csv",
    "matrix_json_chunks",
    "trends_csv",
]



def matrix_csv(*, team: str | None) -> Iterator[list]:
    """Header, then ``repo,team,package,version,target,status,file,fix_version`` per cell."""
    yield CSV_COLUMNS
    yield from matrix_csv_rows(matrix_repos(team=team))


def matrix_json_chunks(*, team: str | None) -> Iterator[str]:
    """A JSON array of ``archcheck/1`` documents (one per repo, with name and team), in chunks."""
    yield "["
    for i, doc in enumerate(matrix_documents(matrix_repos(team=team))):
        yield ("," if i else "") + "\n" + json.dumps(doc, cls=DjangoJSONEncoder)
    yield "\n]\n"


def blockers_csv(*, team: str | None) -> Iterator[list]:
    """One row per (repo, blocker): the package (or Dockerfile rule), where, and the next action that fixes it."""
    yield BLOCKER_CSV_COLUMNS
    yield from blocker_csv_rows(team=team)


def trends_csv(*, team: str | None, weeks: int) -> Iterator[list]:
    yield TRENDS_CSV_COLUMNS
    yield from trends_csv_rows(team=team, weeks=weeks)
