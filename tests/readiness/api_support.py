"""Helpers for the read-API tests: a token client and a checker of answers against the OpenAPI document."""

from __future__ import annotations

from jsonschema import Draft202012Validator

from readiness.openapi import openapi_document
from readiness.services.api_tokens import token_create
from tests.readiness.factories import make_user

__all__ = ["api_headers", "assert_matches_schema"]

_DOCUMENT = openapi_document(server="http://testserver/api/v1")


def api_headers(username: str = "api-user", *, role: str | None = None) -> dict[str, str]:
    """Headers for the test client carrying a fresh token of a new user."""
    made = token_create(user=make_user(username, role=role), name="tests")
    return {"Authorization": f"Bearer {made.secret}"}


def assert_matches_schema(body: object, schema: str) -> None:
    """``body`` is valid against ``#/components/schemas/<schema>`` of the served document (formats checked)."""
    validator = Draft202012Validator(
        {"$ref": f"#/components/schemas/{schema}", "components": _DOCUMENT["components"]},
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
