"""Structured logs on stderr: one JSON object a line, or plain text on a terminal.

Every line has ``ts``, ``level``, ``logger`` and ``msg``. A line logged while a request is
served also carries its ``request_id`` (and ``tenant_id`` once its key is checked), one
logged while a job runs its ``job_id`` and ``tenant_id``: that context lives in a
contextvar (`bind`, `add_context`), so any logger's lines get it. Events add their own
fields (`event`); an exception is given as ``exc_type`` and ``exc`` (the traceback).

Sprig's loggers (``sprig.*``) and uvicorn's follow ``SPRIG_LOG_LEVEL``; other libraries'
show warnings and errors only (their debug lines may hold URLs, prompts or keys). Only the
standard library is imported here: ``sprig --help`` stays light.
"""

from __future__ import annotations

import json
import logging
import logging.config
import sys
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sprig.server.settings import Settings

FIELDS = "sprig_fields"  # the LogRecord attribute holding an event's fields
_context: ContextVar[dict[str, Any] | None] = ContextVar("sprig_log_context", default=None)


def bind(**fields: Any) -> Token[dict[str, Any] | None]:
    """Start a new context (a request, a job): the lines logged until `unbind` carry it."""
    return _context.set(fields)


def unbind(token: Token[dict[str, Any] | None]) -> None:
    _context.reset(token)


def add_context(**fields: Any) -> None:
    """Add to the current context (``tenant_id`` once a request's key is checked); it is one
    dict, shared with the tasks the request started. Outside a context, nothing."""
    current = _context.get()
    if current is not None:
        current.update(fields)


def event(
    logger: logging.Logger,
    msg: str,
    level: int = logging.INFO,
    exc_info: BaseException | None = None,
    **fields: Any,
) -> None:
    """Log ``msg`` (an event name: ``request``, ``job.start``) with the context and ``fields``
    (kept on the record, ``sprig_fields``, for handlers other than ours: pytest's caplog)."""
    if logger.isEnabledFor(level):
        for name, value in (_context.get() or {}).items():
            fields.setdefault(name, value)
        logger.log(level, msg, exc_info=exc_info, extra={FIELDS: fields})


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    """An event's fields, or the context any other line was logged in."""
    own: dict[str, Any] | None = getattr(record, FIELDS, None)
    if own is not None:
        return own
    return dict(_context.get() or {})


def _timestamp(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts``, ``level``, ``logger``, ``msg``, then the fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": _timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name, value in fields_of(record).items():
            line.setdefault(name, value)
        if record.exc_info and record.exc_info[1] is not None:
            line["exc_type"] = type(record.exc_info[1]).__name__
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False, separators=(",", ":"))


class TextFormatter(logging.Formatter):
    """``<time> <LEVEL> <logger>: <msg> name=value …``, the traceback below."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        text = super().formatMessage(record)
        pairs = " ".join(f"{name}={_plain(value)}" for name, value in fields_of(record).items())
        return f"{text} {pairs}" if pairs else text


def _plain(value: Any) -> str:
    text = str(value)
    return json.dumps(text) if not text or " " in text or '"' in text else text


def resolve_format(log_format: str, stream: IO[str] | None = None) -> str:
    """``json`` or ``text``; ``auto`` is text when the stream (stderr) is a terminal."""
    if log_format != "auto":
        return log_format
    isatty = getattr(stream or sys.stderr, "isatty", None)
    return "text" if isatty is not None and isatty() else "json"


def logging_config(level: str, log_format: str, *, uvicorn: bool = True) -> dict[str, Any]:
    """A `logging.config.dictConfig` dict (a dict, so ``--workers`` children apply it too):
    one stderr handler on the root logger, credentials masked in query strings."""
    formatter = JsonFormatter if resolve_format(log_format) == "json" else TextFormatter
    names = ["sprig", "uvicorn", "uvicorn.error", "uvicorn.access"] if uvicorn else ["sprig"]
    loggers = {name: {"level": level.upper(), "handlers": [], "propagate": True} for name in names}
    if uvicorn:  # off in `sprig serve` (`sprig.access` has the request's line), masked anyway
        loggers["uvicorn.access"]["filters"] = ["redact_credentials"]
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact_credentials": {"()": _REDACT}},
        "formatters": {"sprig": {"()": f"{__name__}.{formatter.__name__}"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "sprig",
                "filters": ["redact_credentials"],
            }
        },
        "loggers": loggers,
        "root": {"level": "WARNING", "handlers": ["stderr"]},
    }


_REDACT = "sprig.server.observability.redact.RedactCredentials"


def configure(settings: Settings, *, uvicorn: bool = True) -> None:
    """Apply the settings' level and format (``sprig serve``, ``sprig worker``)."""
    config = logging_config(settings.log_level, settings.log_format, uvicorn=uvicorn)
    logging.config.dictConfig(config)
    logging.captureWarnings(True)  # Python's warnings as log lines too (JSON stays JSON)


def configure_in_process(settings: Settings) -> bool:
    """For an app created in process: configure logging unless something already did (the
    root logger has handlers: pytest's capture, an application embedding Sprig, ``sprig
    serve``). uvicorn's loggers are left as its runner set them. True if configured."""
    if logging.getLogger().handlers:
        return False
    configure(settings, uvicorn=False)
    return True
