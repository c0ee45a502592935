"""CSV and JSON exports, streamed: an organisation's matrix is about a million rows."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator

from django.http import HttpRequest, StreamingHttpResponse

from readiness.access import viewer_required
from readiness.queries.exports import blockers_csv, matrix_csv, matrix_json_chunks, trends_csv
from readiness.queries.trends import DEFAULT_PERIOD, parse_period
from readiness.views._filters import page_filters

__all__ = ["export_blockers_csv", "export_matrix_csv", "export_matrix_json", "export_trends_csv"]


class _Echo:
    """A file-like object whose write() returns the line, so csv.writer yields instead of buffering."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(rows: Iterable[list]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow(row)


def csv_response(rows: Iterable[list], filename: str) -> StreamingHttpResponse:
    """``rows`` (already spreadsheet-safe) streamed as the attachment ``filename``."""
    response = StreamingHttpResponse(_csv_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _suffix(team: str | None) -> str:
    return f"-{team}" if team and team.replace("-", "").replace("_", "").isalnum() else ""


def _team_csv(request: HttpRequest, name: str, rows: Callable[[str | None], Iterable[list]]) -> StreamingHttpResponse:
    """``rows(team)`` for the ``?team=`` filter as ``<name>[-<team>].csv``."""
    team = page_filters(request).team
    return csv_response(rows(team), f"{name}{_suffix(team)}.csv")


@viewer_required
def export_matrix_csv(request: HttpRequest) -> StreamingHttpResponse:
    return _team_csv(request, "matrix", lambda team: matrix_csv(team=team))


@viewer_required
def export_matrix_json(request: HttpRequest) -> StreamingHttpResponse:
    team = page_filters(request).team
    response = StreamingHttpResponse(matrix_json_chunks(team=team), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="matrix{_suffix(team)}.json"'
    return response


@viewer_required
def export_blockers_csv(request: HttpRequest) -> StreamingHttpResponse:
    return _team_csv(request, "blockers", lambda team: blockers_csv(team=team))


@viewer_required
def export_trends_csv(request: HttpRequest) -> StreamingHttpResponse:
    weeks = parse_period(request.GET.get("period")) or parse_period(DEFAULT_PERIOD)
    return _team_csv(request, "trends", lambda team: trends_csv(team=team, weeks=weeks))
