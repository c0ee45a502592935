"""The OpenAPI 3.1 description of the read API (``/api/v1/openapi.json``).

Written by hand, next to the views it describes, and kept true by the tests: they validate this
document (openapi-spec-validator) and check every answer of every endpoint against its schemas
(jsonschema). Schemas say what clients may rely on; objects stay open to new properties.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["API_VERSION", "openapi_document"]

API_VERSION = "1.0.0"

_NULLABLE_STRING = {"type": ["string", "null"]}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _paged(item: str) -> dict:
    return {
        "type": "object",
        "required": ["count", "page", "page_size", "next", "previous", "results"],
        "properties": {
            "count": {"type": "integer", "minimum": 0, "description": "items in all pages"},
            "page": {"type": "integer", "minimum": 1},
            "page_size": {"type": "integer", "minimum": 1},
            "next": {**_NULLABLE_STRING, "format": "uri"},
            "previous": {**_NULLABLE_STRING, "format": "uri"},
            "results": {"type": "array", "items": _ref(item)},
        },
    }


_STATUS = {"type": "string", "enum": ["wheel", "sdist", "none", "unknown", "n/a"]}

_SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
    "Target": {
        "type": "object",
        "required": ["id", "platform", "python", "libc"],
        "properties": {
            "id": {"type": "string", "examples": ["linux/arm64"]},
            "platform": {"type": "string"},
            "python": {"type": "string"},
            "libc": {"type": "string"},
            "libc_version": {"type": ["string", "null"]},
            "origin": {"type": "string"},
        },
    },
    "TargetSummary": {
        "type": "object",
        "description": "counts of verdicts by status, and whether the target is ready",
        "required": ["blockers", "ready"],
        "properties": {
            "wheel": {"type": "integer"},
            "sdist": {"type": "integer"},
            "none": {"type": "integer"},
            "unknown": {"type": "integer"},
            "n/a": {"type": "integer"},
            "blockers": {"type": "integer"},
            "ready": {"type": "boolean"},
            "complete": {"type": "boolean"},
            "no_lockfile": {"type": "boolean"},
        },
    },
    "Summary": {"type": "object", "additionalProperties": _ref("TargetSummary")},
    "Repo": {
        "type": "object",
        "required": ["name", "team", "source", "enabled", "public", "page", "latest_scan"],
        "properties": {
            "name": {"type": "string"},
            "team": _NULLABLE_STRING,
            "source": {"type": "string", "description": "the git URL, any credentials in it redacted"},
            "branch": _NULLABLE_STRING,
            "enabled": {"type": "boolean"},
            "public": {"type": "boolean", "description": "its badges are readable without a token"},
            "page": {"type": "string", "format": "uri"},
            "latest_scan": {
                "oneOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "required": ["state", "commit", "finished_at", "targets", "summary"],
                        "properties": {
                            "state": {"type": "string", "enum": ["done", "partial"]},
                            "commit": _NULLABLE_STRING,
                            "finished_at": {**_NULLABLE_STRING, "format": "date-time"},
                            "targets": {"type": "array", "items": _ref("Target")},
                            "summary": _ref("Summary"),
                        },
                    },
                ]
            },
        },
    },
    "ArchcheckDocument": {
        "type": "object",
        "description": "the archcheck/1 document of the repo's latest finished scan, as `matrix --format json` "
        "prints it (the README describes each field)",
        "required": ["schema", "name", "source", "commit", "targets", "packages", "dockerfiles", "summary"],
        "properties": {
            "schema": {"const": "archcheck/1"},
            "name": {"type": "string"},
            "team": _NULLABLE_STRING,
            "source": {"type": "string"},
            "commit": _NULLABLE_STRING,
            "scanned_at": {**_NULLABLE_STRING, "format": "date-time"},
            "state": {"type": "string"},
            "targets": {"type": "array", "items": _ref("Target")},
            "packages": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "version", "lockfile", "results"],
                    "properties": {
                        "name": {"type": "string"},
                        "version": _NULLABLE_STRING,
                        "lockfile": {"type": "string"},
                        "direct": {"type": ["boolean", "null"]},
                        "via": {"type": ["array", "null"], "items": {"type": "array", "items": {"type": "string"}}},
                        "results": {
                            "type": "object",
                            "additionalProperties": {
                                "type": "object",
                                "required": ["status"],
                                "properties": {
                                    "status": _STATUS,
                                    "file": _NULLABLE_STRING,
                                    "fix_version": _NULLABLE_STRING,
                                    "pure": {"type": "boolean"},
                                    "reason": {"type": "string"},
                                },
                            },
                        },
                    },
                },
            },
            "dockerfiles": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["path", "findings"],
                    "properties": {
                        "path": {"type": "string"},
                        "findings": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["rule", "severity", "message"],
                                "properties": {
                                    "rule": {"type": "string"},
                                    "line": {"type": ["integer", "null"]},
                                    "severity": {"type": "string", "enum": ["blocker", "warning", "info"]},
                                    "message": {"type": "string"},
                                },
                            },
                        },
                    },
                },
            },
            "summary": _ref("Summary"),
        },
    },
    "Blocker": {
        "type": "object",
        "description": "a package with nothing installable on a target (or a source build where the image has no "
        "compiler), or another blocking Dockerfile finding",
        "required": ["repo", "kind", "detail", "page"],
        "properties": {
            "repo": {"type": "string"},
            "kind": {"type": "string", "enum": ["package", "finding"]},
            "package": {"type": "string"},
            "version": _NULLABLE_STRING,
            "target": {"type": "string"},
            "status": {"type": "string", "enum": ["none", "sdist"]},
            "fix_version": _NULLABLE_STRING,
            "lockfile": {"type": "string"},
            "rule": {"type": "string"},
            "path": {"type": "string"},
            "line": {"type": ["integer", "null"]},
            "detail": _NULLABLE_STRING,
            "page": {"type": "string", "format": "uri"},
        },
    },
    "Campaign": {
        "type": "object",
        "required": ["name", "slug", "targets", "teams", "start", "due", "active", "page"],
        "properties": {
            "name": {"type": "string"},
            "slug": {"type": "string"},
            "description": {"type": "string"},
            "targets": {"type": "array", "items": {"type": "string"}},
            "python": _NULLABLE_STRING,
            "libc": _NULLABLE_STRING,
            "teams": {"type": "array", "items": {"type": "string"}, "description": "empty: the whole organisation"},
            "start": {"type": "string", "format": "date"},
            "due": {"type": "string", "format": "date"},
            "active": {"type": "boolean"},
            "page": {"type": "string", "format": "uri"},
        },
    },
    "CampaignDetail": {
        "allOf": [
            _ref("Campaign"),
            {
                "type": "object",
                "required": ["status", "now", "teams_progress"],
                "properties": {
                    "status": {
                        "type": "object",
                        "required": ["word", "text", "repos", "blocked", "projected"],
                        "properties": {
                            "word": {"type": "string", "examples": ["on track", "at risk", "done"]},
                            "text": {"type": "string"},
                            "repos": {"type": "integer"},
                            "blocked": {"type": "integer"},
                            "projected": {**_NULLABLE_STRING, "format": "date"},
                        },
                    },
                    "now": {"type": "object", "additionalProperties": {"type": "integer"}},
                    "teams_progress": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["team", "repos", "blocked", "projected", "at_risk"],
                            "properties": {
                                "team": {"type": "string"},
                                "repos": {"type": "integer"},
                                "blocked": {"type": "integer"},
                                "projected": {**_NULLABLE_STRING, "format": "date"},
                                "at_risk": {"type": "boolean"},
                            },
                        },
                    },
                },
            },
        ]
    },
    "UpstreamSuggestion": {
        "type": "object",
        "required": ["package", "platform_tags", "status", "repos_blocked", "title"],
        "properties": {
            "package": {"type": "string"},
            "platform_tags": {"type": "array", "items": {"type": "string"}},
            "status": {"type": "string", "enum": ["open", "filed", "dismissed", "resolved"]},
            "repos_blocked": {"type": "integer"},
            "versions": {"type": "array", "items": {"type": "string"}},
            "targets": {"type": "array", "items": {"type": "string"}},
            "title": {"type": "string"},
            "upstream_url": _NULLABLE_STRING,
            "new_issue_url": _NULLABLE_STRING,
            "updated_at": {"type": "string", "format": "date-time"},
        },
    },
}
for _item in ("Repo", "Blocker", "Campaign", "UpstreamSuggestion"):
    _SCHEMAS[f"{_item}Page"] = _paged(_item)

_PAGE_PARAMETERS = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
    {"name": "page_size", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100}},
]
_TEAM = {"name": "team", "in": "query", "schema": {"type": "string"}, "description": "only this team's repos"}


def _json(schema: str, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _get(summary: str, schema: str, *, parameters: list | None = None, not_found: str | None = None) -> dict:
    responses = {
        "200": _json(schema, "OK"),
        "401": _json("Error", "no token, or an unknown or revoked one"),
    }
    if parameters and any(p["name"] == "page" for p in parameters):
        responses["400"] = _json("Error", "a parameter the API cannot read")
    if not_found:
        responses["404"] = _json("Error", not_found)
    return {"get": {"summary": summary, "operationId": schema[0].lower() + schema[1:], "parameters": parameters or [],
                    "responses": responses}}  # fmt: skip


def _path_parameter(name: str, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}, "description": description}


_PATHS = {
    "/repos/": _get("Enabled repositories with their current summary per target", "RepoPage",
                    parameters=[*_PAGE_PARAMETERS, _TEAM]),
    "/repos/{name}/": _get("One repository", "Repo", parameters=[_path_parameter("name", "the repo's name")],
                           not_found="no such repository"),
    "/repos/{name}/matrix/": _get(
        "The repo's latest matrix: the archcheck/1 document of its latest finished scan",
        "ArchcheckDocument",
        parameters=[_path_parameter("name", "the repo's name")],
        not_found="no such repository, or no finished scan yet",
    ),
    "/blockers/": _get("Current blockers of every repo", "BlockerPage", parameters=[*_PAGE_PARAMETERS, _TEAM]),
    "/campaigns/": _get("Campaigns, active first", "CampaignPage", parameters=_PAGE_PARAMETERS),
    "/campaigns/{slug}/": _get("One campaign and its status now", "CampaignDetail",
                               parameters=[_path_parameter("slug", "the campaign's slug")],
                               not_found="no such campaign"),
    "/upstream/": _get(
        "Suggested upstream issues, most repos blocked first",
        "UpstreamSuggestionPage",
        parameters=[
            *_PAGE_PARAMETERS,
            {"name": "status", "in": "query", "schema": {"type": "string",
                                                         "enum": ["open", "filed", "dismissed", "resolved"]}},
        ],
    ),
}  # fmt: skip


def openapi_document(*, server: str) -> dict:
    """The document, with ``server`` (the API's absolute base URL) as its server."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Arch Readiness read API",
            "version": API_VERSION,
            "description": "Read-only JSON. Authenticate with a personal API token: `Authorization: Bearer <token>` "
            "(tokens are made and revoked on the settings page or with `manage.py api_token`).",
        },
        "servers": [{"url": server}],
        "security": [{"bearer": []}],
        "paths": copy.deepcopy(_PATHS),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": copy.deepcopy(_SCHEMAS),
        },
    }
