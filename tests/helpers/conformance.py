"""Every JSON 2xx body the API tests receive is held to its operation's schema in
``/openapi.json`` (jsonschema, 2020-12 as OpenAPI 3.1 uses), by a hook on httpx's clients
(see ``fixtures.check_responses``): the document says what the server really sends."""

from __future__ import annotations

import functools
import re
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import jsonschema

from tests.helpers.app import build_app, make_settings

API_PREFIX = "/api"
FORMATS = jsonschema.FormatChecker()  # uuid is checked; date-time is, below
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True  # formats apply to strings only
    if not RFC3339.match(value):
        return False
    datetime.fromisoformat(value)  # a real date and time (raises ValueError otherwise)
    return True


@functools.cache
def document() -> dict[str, Any]:
    """The app's own document (every app has the same routes)."""
    app = build_app(make_settings(Path(tempfile.mkdtemp()) / "data"))
    return app.openapi()


@functools.cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    """Path templates as patterns, static ones first (``/agents/models`` before ``{id}``)."""
    paths = sorted(document()["paths"], key=lambda p: (p.count("{"), p))
    return [(re.compile("^" + re.sub(r"\{\w+\}", "[^/]+", p) + "$"), p) for p in paths]


def operation(method: str, path: str) -> dict[str, Any] | None:
    if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
        path = path[len(API_PREFIX) :]
    for pattern, template in _templates():
        if pattern.match(path):
            found: dict[str, Any] | None = document()["paths"][template].get(method.lower())
            return found
    return None


def success_schema(op: dict[str, Any], status: int) -> dict[str, Any] | None:
    """The JSON schema of a 2xx answer, or None when the operation documents none."""
    response = op.get("responses", {}).get(str(status))
    if response is None:
        return None
    schema: dict[str, Any] | None = (
        response.get("content", {}).get("application/json", {}).get("schema")
    )
    return schema


def validate(method: str, path: str, status: int, body: Any) -> None:
    """Raise `AssertionError` unless `body` is what the document says this answer is."""
    op = operation(method, path)
    if op is None:
        return  # not an API route (docs pages, /openapi.json)
    schema = success_schema(op, status)
    assert schema is not None, f"{method} {path}: {status} is not documented"
    rooted = {**schema, "components": document()["components"]}
    validator = jsonschema.Draft202012Validator(rooted, format_checker=FORMATS)
    error = jsonschema.exceptions.best_match(validator.iter_errors(body))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(body)"
        raise AssertionError(
            f"{method} {path} -> {status}: the body does not match its documented schema "
            f"at {where}: {error.message}"
        )


def check_response(response: httpx.Response) -> bool:
    """Validate a read JSON 2xx response; whether it was one."""
    content_type = response.headers.get("content-type", "")
    if not (200 <= response.status_code < 300 and content_type.startswith("application/json")):
        return False
    request = response.request
    validate(request.method, request.url.path, response.status_code, response.json())
    return True
