"""The SDK's errors, where the Julep docs import them: ``from sprig.exceptions import ...``.

The same classes as ``sprig.JulepError``, ``sprig.SessionNotFoundError`` and the rest (they
live in `sprig.client.errors`); importing this module loads no server code.
"""

from sprig.client.errors import (
    AgentNotFoundError,
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APIStreamError,
    APITimeoutError,
    ArgumentTypeError,
    ArgumentValueError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    DocNotFoundError,
    InternalServerError,
    JobNotFoundError,
    JulepError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    SessionNotFoundError,
    ToolNotFoundError,
    UnprocessableEntityError,
    UserNotFoundError,
)

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
]
