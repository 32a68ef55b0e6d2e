"""Request bodies are held to ``SPRIG_MAX_REQUEST_BYTES`` as they arrive, Content-Length or
not: a chunked body over the limit is answered 413 (the one error shape) without being read
whole, for every route, and nothing is stored."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from sprig.server.settings import Settings
from tests.helpers.app import API_KEY, auth, make_settings

LIMIT = 64 * 1024
JSON = {"content-type": "application/json"}
PIECE = b"word " * 1024  # 5 KiB of doc text


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", max_request_bytes=LIMIT)


@pytest.fixture
def live_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "live", max_request_bytes=LIMIT)


def doc_body(size: int) -> Iterator[bytes]:
    """A valid doc-create JSON body of about ``size`` bytes, made piece by piece."""
    yield b'{"title": "big", "content": "'
    for _ in range(max(1, size // len(PIECE))):
        yield PIECE
    yield b'"}'


async def async_doc_body(size: int) -> AsyncIterator[bytes]:
    for piece in doc_body(size):
        yield piece


def assert_413(r: httpx.Response) -> None:
    assert r.status_code == 413, r.text[:300]
    body = r.json()
    assert body["error"]["code"] == "payload_too_large"
    assert body["error"]["type"] == "invalid_request_error"
    assert body["detail"] == body["error"]["message"] == f"Request body larger than {LIMIT} bytes"
    assert r.headers["x-should-retry"] == "false"


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


class PeakRss:
    """The process's largest resident size while the block runs (the live server is a
    thread of this process), sampled every few milliseconds."""

    def __init__(self) -> None:
        self.base = self.peak = rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, rss_bytes())

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth(self) -> int:
        return self.peak - self.base


def test_chunked_body_over_the_limit_is_413_on_a_real_server(live_url: str) -> None:
    with httpx.Client(base_url=live_url, headers=auth(API_KEY), timeout=60) as c:
        agent = c.post("/agents", json={"name": "A"}).json()["id"]
        url = f"/agents/{agent}/docs"
        size = 64 * 1024 * 1024
        with PeakRss() as rss:
            r = c.post(url, content=doc_body(size), headers=JSON)
        assert "content-length" not in r.request.headers
        assert r.request.headers["transfer-encoding"] == "chunked"
        assert_413(r)
        assert rss.growth < size // 4, f"server memory grew by {rss.growth >> 20} MiB"
        assert c.get(url).json()["items"] == []
        # the connection is still good, and a chunked body within the limit is read whole
        small = c.post(url, content=doc_body(LIMIT // 2), headers=JSON)
        assert small.status_code == 201, small.text
        created = small.json()
        assert created["content_length"] == len(PIECE) * 6
        whole = c.get(f"/docs/{created['id']}").json()["content"]
        assert whole in (PIECE.decode() * 6, [PIECE.decode() * 6])
        assert [d["title"] for d in c.get(url).json()["items"]] == ["big"]


async def test_chunked_body_over_the_limit_is_413_in_process(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    agent = (await client.post("/agents", json={"name": "A"})).json()["id"]
    calls = [
        ("POST", f"/agents/{agent}/docs"),
        ("POST", "/agents"),
        ("PATCH", f"/api/agents/{agent}"),
        ("POST", "/sessions"),
    ]
    for method, url in calls:
        r = await client.request(method, url, content=async_doc_body(4 * LIMIT), headers=JSON)
        assert "content-length" not in r.request.headers
        assert_413(r)
    assert (await client.get(f"/agents/{agent}/docs")).json()["items"] == []
    assert [a["name"] for a in (await client.get("/agents")).json()["items"]] == ["A"]


async def test_chunked_body_within_the_limit_is_read(client: httpx.AsyncClient) -> None:
    agent = (await client.post("/agents", json={"name": "A"})).json()["id"]
    r = await client.post(
        f"/agents/{agent}/docs",
        content=async_doc_body(LIMIT // 2),
        headers=JSON,
    )
    assert r.status_code == 201, r.text
    assert "server-timing" in r.headers
    listed = (await client.get(f"/agents/{agent}/docs")).json()["items"]
    assert [d["title"] for d in listed] == ["big"]
