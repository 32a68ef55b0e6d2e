"""One error tree for the server.

Services raise these domain errors; one handler in `app.py` turns each into the
single JSON error shape ``{"error": {"message", "code", "type"}, "detail": message}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class SprigError(Exception):
    """Base of every error the server raises on purpose."""

    status_code = 500
    code = "internal_error"
    type = "server_error"

    def __init__(
        self,
        message: str,
        *,
        details: list[dict[str, Any]] | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.param = param  # the request field at fault, for OpenAI's error shape

    def response_headers(self) -> dict[str, str]:
        """Headers the error's response carries besides the usual ones."""
        return {}


class BadRequestError(SprigError):
    status_code = 400
    code = "bad_request"
    type = "invalid_request_error"


class AuthenticationError(SprigError):
    status_code = 401
    code = "unauthorized"
    type = "authentication_error"


class PermissionDeniedError(SprigError):
    status_code = 403
    code = "forbidden"
    type = "authentication_error"


class NotFoundError(SprigError):
    status_code = 404
    code = "not_found"
    type = "invalid_request_error"


class ConflictError(SprigError):
    status_code = 409
    code = "conflict"
    type = "invalid_request_error"


class ValidationError(SprigError):
    status_code = 422
    code = "validation_error"
    type = "invalid_request_error"


class PayloadTooLargeError(SprigError):
    status_code = 413
    code = "payload_too_large"
    type = "invalid_request_error"


class RateLimitError(SprigError):
    """A limit of the tenant was reached (sprig/server/usage): 429, nothing done or saved.

    ``type`` is OpenAI's word for what ran out (``requests``, ``tokens``); ``headers`` say
    when to retry (``retry-after``, ``retry-after-ms``) and the ``x-ratelimit-*`` state."""

    status_code = 429
    code = "rate_limit_exceeded"
    type = "requests"

    def __init__(
        self,
        message: str,
        *,
        type_: str = "requests",
        code: str = "rate_limit_exceeded",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.type = type_
        self.code = code
        self.headers = dict(headers or {})

    def response_headers(self) -> dict[str, str]:
        return self.headers


class NotImplementedFeatureError(SprigError):
    """A declared feature Sprig does not do yet: answers 501 with a clear message."""

    status_code = 501
    code = "not_implemented"
    type = "server_error"


class UpstreamError(SprigError):
    """A model provider or other upstream service failed (502)."""

    status_code = 502
    code = "upstream_error"
    type = "upstream_error"


class UpstreamTimeoutError(UpstreamError):
    status_code = 504
    code = "upstream_timeout"


class ServiceUnavailableError(SprigError):
    status_code = 503
    code = "unavailable"
    type = "server_error"
