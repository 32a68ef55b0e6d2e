"""The access log never prints a key passed in the query string (issue 13, item 16)."""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest

from sprig.cli import access_log, server
from sprig.cli.access_log import log_config, redact_query
from tests.helpers.app import API_KEY, build_app, make_settings
from tests.helpers.servers import ThreadedServer


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
    assert access_log.RedactCredentials().filter(record)
    assert "sk-secret" not in record.getMessage() and "X-Auth-Key=***" in record.getMessage()


def test_serve_configures_the_filter(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import uvicorn

    seen: dict[str, Any] = {}

    def run(self: uvicorn.Server, sockets: list[socket.socket] | None = None) -> None:
        seen.update(config=self.config, sockets=sockets)
        self.started = True

    monkeypatch.setattr(uvicorn.Server, "run", run)
    with socket.socket() as sock:
        server._serve_one(make_settings(tmp_path / "d"), sock)
    assert seen["sockets"] == [sock]  # the port serve took before anything else
    filters = seen["config"].log_config["loggers"]["uvicorn.access"]["filters"]
    assert "redact_credentials" in filters


def test_a_real_server_logs_no_query_key(tmp_path: Path) -> None:
    """uvicorn configured with `log_config()`; the record is captured on ``uvicorn.access``."""
    records: list[str] = []
    app = build_app(make_settings(tmp_path / "live"))
    srv = ThreadedServer(app, log_config=log_config(), log_level=None).start()

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    handler = Capture()
    logging.getLogger("uvicorn.access").addHandler(handler)
    try:
        url = f"{srv.url}/agents"
        for name in ("X-Auth-Key", "authorization"):
            r = httpx.get(url, params={name: API_KEY, "limit": "5"})
            assert r.status_code == 401  # a query key is no credential, and is not logged
    finally:
        logging.getLogger("uvicorn.access").removeHandler(handler)
        srv.stop()
    assert len(records) == 2
    assert all(API_KEY not in line and "=***" in line for line in records), records
