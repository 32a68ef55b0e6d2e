"""The SDK's one error tree, and the one function that maps a response to its error.

```
JulepError
├── ArgumentTypeError (also TypeError)      a call's argument has the wrong type
├── ArgumentValueError (also ValueError)    a call's argument has a bad value
└── APIError
    ├── APIConnectionError                  the request never got an answer
    │   └── APITimeoutError
    ├── APIStreamError                      the server reported an error mid-stream
    ├── APIResponseValidationError          a 2xx body the SDK cannot read
    └── APIStatusError                      the server answered with a 4xx/5xx status
        ├── BadRequestError (400)
        ├── AuthenticationError (401)
        ├── PermissionDeniedError (403)
        ├── NotFoundError (404)
        │   ├── AgentNotFoundError, UserNotFoundError, SessionNotFoundError,
        │   └── DocNotFoundError, ToolNotFoundError, JobNotFoundError
        ├── ConflictError (409)
        ├── UnprocessableEntityError (422)
        ├── RateLimitError (429)
        └── InternalServerError (>= 500)
```
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APIStreamError",
    "APITimeoutError",
    "AgentNotFoundError",
    "ArgumentTypeError",
    "ArgumentValueError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "DocNotFoundError",
    "InternalServerError",
    "JobNotFoundError",
    "JulepError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "SessionNotFoundError",
    "ToolNotFoundError",
    "UnprocessableEntityError",
    "UserNotFoundError",
    "make_status_error",
]


class JulepError(Exception):
    """Root of every error the SDK raises."""


class _ArgumentError(JulepError):
    def __init__(self, message: str, errors: list[Any] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []  # pydantic's error dicts, when pydantic found the problem


class ArgumentTypeError(_ArgumentError, TypeError):
    """A method was called with an argument of the wrong type (checked before any request)."""


class ArgumentValueError(_ArgumentError, ValueError):
    """A method was called with an argument of the right type but a bad value."""


class APIError(JulepError):
    """Something went wrong talking to the server."""

    def __init__(self, message: str, request: httpx.Request, *, body: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.request = request
        self.body = body


class APIConnectionError(APIError):
    def __init__(self, request: httpx.Request, message: str = "Connection error.") -> None:
        super().__init__(message, request)


class APITimeoutError(APIConnectionError):
    def __init__(self, request: httpx.Request) -> None:
        super().__init__(request, "Request timed out.")


class APIStreamError(APIError):
    """An error event inside a chat stream (the status was already 200)."""


class APIResponseValidationError(APIError):
    """A successful response whose body does not fit the expected model."""

    def __init__(self, response: httpx.Response, reason: str) -> None:
        message = f"Unexpected {response.status_code} response body: {reason}"
        super().__init__(message, response.request, body=response.text)
        self.response = response


class APIStatusError(APIError):
    """The server answered with a 4xx or 5xx status."""

    def __init__(self, message: str, *, response: httpx.Response, body: Any) -> None:
        super().__init__(message, response.request, body=body)
        self.response = response
        self.status_code = response.status_code
        self.code = _error_field(body, "code")


class BadRequestError(APIStatusError):
    pass


class AuthenticationError(APIStatusError):
    pass


class PermissionDeniedError(APIStatusError):
    pass


class NotFoundError(APIStatusError):
    pass


class AgentNotFoundError(NotFoundError):
    pass


class UserNotFoundError(NotFoundError):
    pass


class SessionNotFoundError(NotFoundError):
    pass


class DocNotFoundError(NotFoundError):
    pass


class ToolNotFoundError(NotFoundError):
    pass


class JobNotFoundError(NotFoundError):
    pass


class ConflictError(APIStatusError):
    pass


class UnprocessableEntityError(APIStatusError):
    pass


class RateLimitError(APIStatusError):
    pass


class InternalServerError(APIStatusError):
    pass


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}

# Resource word (as in a server message "Session <id> not found", or a path segment) → error.
_NOT_FOUND: dict[str, type[NotFoundError]] = {
    "agent": AgentNotFoundError,
    "user": UserNotFoundError,
    "session": SessionNotFoundError,
    "doc": DocNotFoundError,
    "tool": ToolNotFoundError,
    "job": JobNotFoundError,
}
_MESSAGE_RESOURCE = re.compile(r"^\s*(agent|user|session|doc|tool|job)s?\b", re.IGNORECASE)


def make_status_error(response: httpx.Response) -> APIStatusError:
    """The one mapping from an error response (status + JSON body) to its SDK error."""
    body = _body(response)
    message = _message(body, response)
    cls = _BY_STATUS.get(response.status_code)
    if cls is None:
        cls = InternalServerError if response.status_code >= 500 else APIStatusError
    if cls is NotFoundError:
        cls = _not_found_class(message, response.request.url.path)
    return cls(message, response=response, body=body)


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return response.text or None


def _error_field(body: Any, key: str) -> str | None:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        value = body["error"].get(key)
        return str(value) if value is not None else None
    return None


def _message(body: Any, response: httpx.Response) -> str:
    """``error.message`` (v1), else ``detail`` (FastAPI), else ``message``, else the text."""
    found = _error_field(body, "message")
    if found is None and isinstance(body, dict):
        detail = body.get("detail", body.get("message"))
        found = detail if isinstance(detail, str) else (json.dumps(detail) if detail else None)
    if found is None and isinstance(body, str) and body.strip():
        found = body.strip()[:500]
    reason = found or response.reason_phrase or "error"
    return f"Error code: {response.status_code} - {reason}"


def _not_found_class(message: str, path: str) -> type[NotFoundError]:
    """Which resource was missing: the server's message says first, else the URL path."""
    text = message.split(" - ", 1)[-1]
    match = _MESSAGE_RESOURCE.match(text)
    if match:
        return _NOT_FOUND[match.group(1).lower()]
    segments = [s for s in path.split("/") if s]
    for index in range(len(segments) - 2, -1, -1):
        word = segments[index].rstrip("s").lower()
        if word in _NOT_FOUND:
            return _NOT_FOUND[word]
    return NotFoundError
