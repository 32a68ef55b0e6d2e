"""One error tree for the server.

Services raise these domain errors; one handler in `app.py` turns each into the
single JSON error shape ``{"error": {"message", "code", "type"}, "detail": message}``.
"""

from __future__ import annotations

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
