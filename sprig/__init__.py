# ruff: noqa: F405 -- the names come from sprig.client (star import for type checkers only)
"""Sprig: a self-hostable backend for stateful AI agents.

`import sprig` gives the SDK only (httpx + pydantic); it never imports the server. The SDK
itself loads on first use of one of its names (PEP 562), so `sprig --help` and the server
pay for none of it. The public names are those of `sprig.client` (a test holds the two lists
equal); ``__version__`` comes from the installed package's metadata.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sprig.client import *  # noqa: F403

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APIStreamError",
    "APITimeoutError",
    "Agent",
    "AgentNotFoundError",
    "ArgumentTypeError",
    "ArgumentValueError",
    "AsyncChatStream",
    "AsyncClient",
    "AsyncJulepApi",
    "AsyncPage",
    "AuthenticationError",
    "BadRequestError",
    "ChatMlMessage",
    "ChatResponse",
    "ChatStream",
    "ChunkChatResponse",
    "Client",
    "ConflictError",
    "Doc",
    "DocNotFoundError",
    "DocReference",
    "DocSearchResponse",
    "Entry",
    "History",
    "InputChatMlMessage",
    "InternalServerError",
    "JobNotFoundError",
    "JobStatus",
    "JulepApi",
    "JulepError",
    "Memory",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResourceCreatedResponse",
    "ResourceDeletedResponse",
    "ResourceUpdatedResponse",
    "RetryPolicy",
    "Session",
    "SessionNotFoundError",
    "Suggestion",
    "SyncPage",
    "Tool",
    "ToolNotFoundError",
    "UnprocessableEntityError",
    "User",
    "UserNotFoundError",
    "types",
]


@functools.cache
def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("sprig")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "0+unknown"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        return _version()
    if name in __all__:
        import sprig.client

        return getattr(sprig.client, name)
    raise AttributeError(f"module 'sprig' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, "__version__"})
