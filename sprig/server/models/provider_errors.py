"""Map a provider's exception (LiteLLM / OpenAI client) onto the server's error tree.

| provider says                               | Sprig raises                | status |
|---------------------------------------------|-----------------------------|--------|
| 400, 404, 409, 413, 422 (bad request,       | ProviderRequestError        | 400    |
|   unknown model, context too long, policy)  |                             |        |
| 401, 403 (key refused)                      | ProviderAuthenticationError | 400    |
| 429                                         | ProviderRateLimitError      | 429    |
| timeout, 408, 504                           | UpstreamTimeoutError        | 504    |
| anything else (5xx, connection)             | UpstreamError               | 502    |

The provider's message is kept (with any configured secret blanked out).
"""

from __future__ import annotations

from collections.abc import Iterable

from sprig.server.errors import SprigError, UpstreamError, UpstreamTimeoutError
from sprig.server.models.errors import (
    ProviderAuthenticationError,
    ProviderRateLimitError,
    ProviderRequestError,
)

_BAD_REQUEST = {400, 404, 409, 413, 422}
_AUTH = {401, 403}
_TIMEOUT = {408, 504}


def is_provider_error(exc: BaseException) -> bool:
    """True for exceptions raised by LiteLLM or the OpenAI client it wraps."""
    root = type(exc).__module__.split(".", 1)[0]
    return root in {"litellm", "openai", "httpx", "httpcore"}


def map_provider_error(exc: BaseException, model: str, secrets: Iterable[str] = ()) -> SprigError:
    status = getattr(exc, "status_code", None)
    message = _redact(_message(exc), secrets)
    text = f"Model {model!r}: {message}"
    if _is_timeout(exc) or status in _TIMEOUT:
        return UpstreamTimeoutError(text)
    if status in _BAD_REQUEST:
        return ProviderRequestError(text)
    if status in _AUTH:
        return ProviderAuthenticationError(text)
    if status == 429:
        return ProviderRateLimitError(text)
    return UpstreamError(text)


def _is_timeout(exc: BaseException) -> bool:
    return "timeout" in type(exc).__name__.lower()


def _message(exc: BaseException) -> str:
    message = getattr(exc, "message", None)
    return str(message) if message else (str(exc) or type(exc).__name__)


def _redact(message: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            message = message.replace(secret, "***")
    return message
