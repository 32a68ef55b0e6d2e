"""The logs never print a key passed in the query string (issue 13, item 16); `sprig serve`
configures them (tests/server/test_logs.py has the access line itself)."""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from typing import Any

import pytest

from sprig.cli import server
from sprig.server.observability import redact
from sprig.server.observability.redact import redact_query
from tests.helpers.app import make_settings


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("/agents?X-Auth-Key=sk-1&limit=5", "/agents?X-Auth-Key=***&limit=5"),
        ("/agents?authorization=Bearer%20sk-1", "/agents?authorization=***"),
        ("/a?token=t&password=p&client_secret=s", "/a?token=***&password=***&client_secret=***"),
        ("/a?X%2DAuth%2DKey=sk-1", "/a?X%2DAuth%2DKey=***"),  # names are decoded to match
        ("/a?api_key=k;sig=s", "/a?api_key=***;sig=***"),
        ("/a?limit=5&offset=0", "/a?limit=5&offset=0"),
        ("/agents/key-like-path", "/agents/key-like-path"),  # the path is not a query
    ],
)
def test_redact_query(text: str, shown: str) -> None:
    assert redact_query(text) == shown


def test_filter_masks_the_uvicorn_arguments() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/agents?X-Auth-Key=sk-secret", "1.1", 200), None,
    )  # fmt: skip
    assert redact.RedactCredentials().filter(record)
    assert "sk-secret" not in record.getMessage() and "X-Auth-Key=***" in record.getMessage()


def test_serve_configures_the_logs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """uvicorn gets Sprig's logging configuration (applied here only on paper: this process's
    logging is pytest's) and its own access log off: the app has one line per request."""
    import uvicorn

    seen: dict[str, Any] = {}

    def run(self: uvicorn.Server, sockets: list[socket.socket] | None = None) -> None:
        seen.update(config=self.config, sockets=sockets)
        self.started = True

    monkeypatch.setattr(uvicorn.Server, "run", run)
    monkeypatch.setattr(uvicorn.Config, "configure_logging", lambda self: None)
    with socket.socket() as sock:
        server._serve_one(make_settings(tmp_path / "d", log_format="json"), sock)
    assert seen["sockets"] == [sock]  # the port serve took before anything else
    config = seen["config"]
    assert config.access_log is False
    handler = config.log_config["handlers"]["stderr"]
    assert handler["filters"] == ["redact_credentials"]
    assert config.log_config["formatters"]["sprig"]["()"].endswith("JsonFormatter")
    assert "redact_credentials" in config.log_config["loggers"]["uvicorn.access"]["filters"]
