"""Map a provider's exception (LiteLLM / OpenAI client) onto the server's error tree, in
Sprig's words: which model, which provider, what kind of failure.

| provider says                        | Sprig raises                | status | message says     |
|--------------------------------------|-----------------------------|--------|------------------|
| 400, 404, 409, 413, 422 (bad request,| ProviderRequestError        | 400    | rejected as      |
|   unknown model, context too long)   |                             |        | invalid: reason  |
| 401, 403 (key refused)               | ProviderAuthenticationError | 400    | authentication   |
|                                      |                             |        | failed (check …) |
| (no key set: not called)             | ProviderAuthenticationError | 400    | no API key is set|
| 429                                  | ProviderRateLimitError      | 429    | rate limited     |
| timeout, 408, 504                    | UpstreamTimeoutError        | 504    | timed out after  |
| no connection                        | UpstreamError               | 502    | could not be     |
|                                      |                             |        | reached          |
| reply broken off or not the wire's   | UpstreamError               | 502    | sent a broken    |
|   shape (direct gateway)             |                             |        | reply: reason    |
| anything else (5xx, mid-stream)      | UpstreamError               | 502    | returned an error|

The provider's original error (exception types, its message) goes to the server log, with
any configured key blanked out; the API's message never names LiteLLM or exception classes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sprig.server.errors import SprigError, UpstreamError, UpstreamTimeoutError
from sprig.server.models.errors import (
    ProviderAuthenticationError,
    ProviderRateLimitError,
    ProviderRequestError,
)

log = logging.getLogger("sprig.models")

_BAD_REQUEST = {400, 404, 409, 413, 422}
_AUTH = {401, 403}
_TIMEOUT = {408, 504}
_CONNECTION_TYPES = {"APIConnectionError", "ConnectError", "ConnectTimeout", "RemoteProtocolError"}
# The wrappers' prefixes on a provider's message: "litellm.BadRequestError: ",
# "NotFoundError: ", "OpenAIException - ", "Error code: 400 - ".
_WRAPPER_RE = re.compile(
    r"^(?:litellm\.\w+:\s*|\w*(?:Error|Exception)\s*[:-]\s*|Error code:\s*\d+\s*-\s*)+"
)
_QUOTED_MESSAGE_RE = re.compile(r"""['"]message['"]:\s*['"](.+?)['"]\s*[,}]""")
_LEAKS_RE = re.compile(r"litellm|\w+(?:Error|Exception)\b|Traceback", re.IGNORECASE)
_MAX_DETAIL = 300
# The OpenAI client (and LiteLLM for other providers) refusing to call without a key.
_MISSING_KEY_RE = re.compile(
    r"missing credentials|missing \w+ api key|api_key client option must be set", re.IGNORECASE
)


@dataclass(frozen=True)
class ProviderContext:
    """What Sprig knows of the call that failed, to describe it."""

    model: str  # the name clients use
    provider: str | None  # e.g. "openai"; None when no provider is known for the model
    timeout: float | None = None
    key_hint: str = "the provider's API key"  # where the key comes from
    secrets: tuple[str, ...] = ()  # never shown or logged


class BrokenReplyError(Exception):
    """A provider's reply stopped part way or is not what the wire promises; the message is
    Sprig's own description (shown to the client)."""


def is_provider_error(exc: BaseException) -> bool:
    """True for exceptions raised by LiteLLM or the OpenAI client it wraps."""
    root = type(exc).__module__.split(".", 1)[0]
    return root in {"litellm", "openai", "httpx", "httpcore"}


def map_provider_error(exc: BaseException, context: ProviderContext) -> SprigError:
    """The Sprig error for ``exc``; its original detail is logged (secrets blanked)."""
    kind, error = _classify(exc, context)
    original = _redact(_message(exc), context.secrets)
    chain = " <- ".join(type(e).__name__ for e in _chain(exc))
    status = getattr(exc, "status_code", None)
    log.warning(
        "model %r (provider %s) failed: %s, status %s [%s] %s",
        *(context.model, context.provider, kind, status, chain, original),
    )
    return error


def _classify(exc: BaseException, ctx: ProviderContext) -> tuple[str, SprigError]:
    status = getattr(exc, "status_code", None)
    who = f"The model provider for {ctx.model!r} ({ctx.provider or 'unknown provider'})"
    if _is_timeout(exc) or status in _TIMEOUT:
        after = f" after {ctx.timeout:g} s" if ctx.timeout else ""
        return "timeout", UpstreamTimeoutError(f"{who} timed out{after}")
    if _is_missing_key(exc):
        text = f"{who} was not called: no API key is set (set {ctx.key_hint})"
        return "no key", ProviderAuthenticationError(text)
    if _is_connection(exc):
        return "connection", UpstreamError(f"{who} could not be reached: connection error")
    if isinstance(exc, BrokenReplyError):
        return "broken reply", UpstreamError(f"{who} sent a broken reply: {exc}")
    if status in _BAD_REQUEST:
        return "bad request", ProviderRequestError(_bad_request(exc, ctx, who))
    if status in _AUTH:
        text = f"{who} rejected the request: authentication failed (check {ctx.key_hint})"
        return "authentication", ProviderAuthenticationError(text)
    if status == 429:
        return "rate limit", ProviderRateLimitError(f"{who} rate limited the request; retry later")
    return "error", UpstreamError(f"{who} returned an error")


def _bad_request(exc: BaseException, ctx: ProviderContext, who: str) -> str:
    if ctx.provider is None:
        return (
            f"No model provider is known for {ctx.model!r}: give its model id with the "
            "provider's prefix (e.g. openai/..., anthropic/..., ollama/...) in SPRIG_MODELS"
        )
    detail = provider_detail(_redact(_message(exc), ctx.secrets))
    return f"{who} rejected the request as invalid" + (f": {detail}" if detail else "")


def provider_detail(message: str) -> str:
    """The provider's own reason, without the wrappers' prefixes; empty if what is left
    still names libraries or exception classes."""
    text = _WRAPPER_RE.sub("", message.strip())
    if quoted := _QUOTED_MESSAGE_RE.search(text):
        text = quoted.group(1)
    text = " ".join(text.split())
    if not text or _LEAKS_RE.search(text):
        return ""
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 1] + "…"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _is_timeout(exc: BaseException) -> bool:
    return any("timeout" in type(e).__name__.lower() for e in _chain(exc))


def _is_missing_key(exc: BaseException) -> bool:
    return any(_MISSING_KEY_RE.search(str(e)) for e in _chain(exc))


def _is_connection(exc: BaseException) -> bool:
    return any(
        type(e).__name__ in _CONNECTION_TYPES or isinstance(e, ConnectionError) for e in _chain(exc)
    )


def _message(exc: BaseException) -> str:
    message = getattr(exc, "message", None)
    return str(message) if message else (str(exc) or type(exc).__name__)


def _redact(message: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            message = message.replace(secret, "***")
    return message
