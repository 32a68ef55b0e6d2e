"""The access log never prints a credential passed in a query string.

Clients may send a key as ``?X-Auth-Key=…`` or ``?authorization=…``, and some APIs sign URLs
(``?signature=…``). `RedactCredentials` sits on the ``uvicorn.access`` logger and replaces the
value of every query parameter whose name looks like a credential with ``***``; `log_config`
is uvicorn's logging configuration with that filter added (a dict, so ``--workers`` children
configure it too).
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any
from urllib.parse import unquote_plus

CREDENTIAL_NAME = re.compile(
    r"key|token|secret|passw|pwd|auth|sig|credential|session|cookie|jwt|bearer|code",
    re.IGNORECASE,
)
MASK = "***"
_PAIR = re.compile(r"([^&;=]*)=([^&;]*)")


def redact_query(text: str) -> str:
    """``text`` (a path with its query) with credential-like parameter values masked."""
    path, mark, query = text.partition("?")
    if not mark:
        return text

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        return f"{name}={MASK}" if CREDENTIAL_NAME.search(unquote_plus(name)) else match.group(0)

    return path + mark + _PAIR.sub(one, query)


class RedactCredentials(logging.Filter):
    """Masks credential query values in a record's arguments (uvicorn passes the path with
    its query as one argument) or, without arguments, in its message."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                redact_query(a) if isinstance(a, str) and "?" in a else a for a in record.args
            )
        elif isinstance(record.msg, str) and "?" in record.msg:
            record.msg = redact_query(record.msg)
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's default logging configuration, with `RedactCredentials` on the access log."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_credentials"] = {"()": f"{__name__}.RedactCredentials"}
    access = config["loggers"].setdefault("uvicorn.access", {})
    access["filters"] = [*access.get("filters", []), "redact_credentials"]
    return config
