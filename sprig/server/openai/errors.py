"""OpenAI's error shape for the ``/v1`` routes: ``{"error": {"message", "type", "param",
"code"}}``, what the ``openai`` SDKs read into ``APIError.message``/``.param``/``.code``.

The app's handlers (app.py) answer in this shape for a request under ``/v1``; a request
body OpenAI would refuse is a 400 naming the ``param`` (Sprig's own routes say 422).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.types import Scope

PREFIX = "/v1"


def is_openai(scope: Scope) -> bool:
    """Whether the request is for the OpenAI-compatible routes (``/v1``, ``/api/v1``)."""
    root: str = scope.get("root_path", "")
    path: str = scope.get("path", "")
    relative = path[len(root) :] if root and path.startswith(root) else path
    return relative == PREFIX or relative.startswith(PREFIX + "/")


def error_payload(
    message: str, type_: str, code: str | None, param: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def validation_payload(errors: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A request body's validation errors as OpenAI words them: the first one, its field
    as ``param`` (``messages[0].role``)."""
    if not errors:
        return error_payload("Invalid request", "invalid_request_error", "invalid_value")
    first = errors[0]
    param = _param(first.get("loc", ()))
    if first.get("type") == "missing":
        message, code = f"Missing required parameter: '{param}'.", "missing_required_parameter"
    else:
        message, code = f"Invalid value for '{param}': {first.get('msg', '')}", "invalid_value"
    return error_payload(message, "invalid_request_error", code, param or None)


def _param(loc: Sequence[Any]) -> str:
    parts = list(loc[1:] if loc and loc[0] == "body" else loc)
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not str(part).startswith(("function-", "tagged-union")):  # pydantic's union tags
            out += f".{part}" if out else str(part)
    return out
