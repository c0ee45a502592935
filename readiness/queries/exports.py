"""Exports: the same queries as the pages, as rows or JSON chunks to stream.

Each function returns an iterator so the view can hand it to ``StreamingHttpResponse``;
the matrix rows come from the database with ``iterator()`` (an organisation's matrix is about
a million rows and is never held in memory as model instances).

Every CSV cell goes through :func:`spreadsheet_safe`: names, teams, files and reasons come
from outside (repos.toml, lockfiles, the index), and a spreadsheet runs a cell that starts
with ``=``, ``+``, ``-`` or ``@`` as a formula (``=HYPERLINK(…)`` as a repo name). OWASP's
advice is followed: such a cell, and one starting with a tab or carriage return, is written
with a leading ``'``, which spreadsheets show as text and do not display.

Queries: matrix CSV 2 (repos, verdict rows); matrix JSON 3 (repos, verdicts, findings);
blockers CSV 2 (as the next actions); trends CSV 2 (organisation/team rollups, team rollups).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from django.core.serializers.json import DjangoJSONEncoder

from readiness.queries.actions import BLOCKER_CSV_COLUMNS, blocker_csv_rows
from readiness.queries.matrix import CSV_COLUMNS, matrix_csv_rows, matrix_documents, matrix_repos
from readiness.queries.trends import TRENDS_CSV_COLUMNS, trends_csv_rows

__all__ = [
    "blockers_csv",
    "matrix_csv",
    "matrix_json_chunks",
    "spreadsheet_safe",
    "trends_csv",
]

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(rows: Iterable[list]) -> Iterator[list]:
    """``rows`` with every text cell that a spreadsheet would run as a formula made inert.

    Numbers stay numbers (a count of -1 is not text a user wrote); only strings are escaped.
    """
    for row in rows:
        yield [f"'{cell}" if isinstance(cell, str) and cell.startswith(_FORMULA_STARTS) else cell for cell in row]


def matrix_csv(*, team: str | None) -> Iterator[list]:
    """Header, then ``repo,team,package,version,target,status,file,fix_version`` per cell."""
    yield CSV_COLUMNS
    yield from spreadsheet_safe(matrix_csv_rows(matrix_repos(team=team)))


def matrix_json_chunks(*, team: str | None) -> Iterator[str]:
    """A JSON array of ``archcheck/1`` documents (one per repo, with name and team), in chunks."""
    yield "["
    for i, doc in enumerate(matrix_documents(matrix_repos(team=team))):
        yield ("," if i else "") + "\n" + json.dumps(doc, cls=DjangoJSONEncoder)
    yield "\n]\n"


def blockers_csv(*, team: str | None) -> Iterator[list]:
    """One row per (repo, blocker): the package (or Dockerfile rule), where, and the next action that fixes it."""
    yield BLOCKER_CSV_COLUMNS
    yield from spreadsheet_safe(blocker_csv_rows(team=team))


def trends_csv(*, team: str | None, weeks: int) -> Iterator[list]:
    yield TRENDS_CSV_COLUMNS
    yield from spreadsheet_safe(trends_csv_rows(team=team, weeks=weeks))
