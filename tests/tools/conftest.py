"""A small HTTP server on 127.0.0.1 for the api_call tests (never the internet).

Routes: ``/json`` echoes the request (method, path, query, Host, headers, body) as JSON;
``/big`` sends ``?n=`` bytes; ``/bomb`` sends a gzip body that inflates to 20 MB;
``/redirect?to=URL&code=302`` redirects; ``/status/N`` answers N; ``/slow`` stalls.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

BOMB = gzip.compress(b"\0" * 20_000_000)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._route()

    def do_POST(self) -> None:
        self._route()

    def _route(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/big":
            self._send(200, b"a" * int(query.get("n", "2000000")), "text/plain")
        elif url.path == "/bomb":
            self._send(200, BOMB, "text/plain", {"Content-Encoding": "gzip"})
        elif url.path == "/redirect":
            code = int(query.get("code", "302"))
            self._send(code, b"", "text/plain", {"Location": query["to"]})
        elif url.path.startswith("/status/"):
            self._send(int(url.path.rsplit("/", 1)[1]), b'{"error": "nope"}', "application/json")
        elif url.path == "/slow":
            time.sleep(2)
            self._send(200, b"late", "text/plain")
        else:
            self._send(
                200, json.dumps(self._echo(url.path, url.query)).encode(), "application/json"
            )

    def _echo(self, path: str, query: str) -> dict[str, object]:
        length = int(self.headers.get("Content-Length") or 0)
        return {
            "method": self.command,
            "path": path,
            "raw_query": query,
            "query": parse_qs(query),
            "host": self.headers.get("Host"),
            "headers": dict(self.headers.items()),
            "body": self.rfile.read(length).decode() if length else "",
        }

    def _send(
        self, code: int, body: bytes, ctype: str, extra: dict[str, str] | None = None
    ) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)  # the client may stop reading at its size cap


@pytest.fixture(scope="module")
def server_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def base_url(server_port: int) -> str:
    return f"http://127.0.0.1:{server_port}"
