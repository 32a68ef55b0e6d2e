"""Logs never print a credential passed in a query string.

Clients may send a key as ``?X-Auth-Key=…`` or ``?authorization=…``, and some APIs sign URLs
(``?signature=…``). `redact_query` replaces the value of every query parameter whose name
looks like a credential with ``***``: the access line's ``path`` goes through it, and
`RedactCredentials` (on the log handler and on ``uvicorn.access``) applies it to any record
whose arguments or message carry a query.
"""

from __future__ import annotations

import logging
import re
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
