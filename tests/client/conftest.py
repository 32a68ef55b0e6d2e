"""SDK test helpers: clients over a recording mock transport, and a live server whose
scripted model the test controls (the shared ``live_url`` has its own, unreachable one)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sdk_helpers import free_port

from sprig.server.app import create_app
from sprig.server.models.scripted import ScriptedModel
from sprig.server.runtime import Runtime
from sprig.server.settings import Settings


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retries do not really wait; the waits they asked for are recorded."""
    waits: list[float] = []

    async def fake_async_sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr("sprig.client._base._sync_sleep", waits.append)
    monkeypatch.setattr("sprig.client._base._async_sleep", fake_async_sleep)
    return waits


@pytest.fixture
def sdk_url(tmp_path: Path, model: ScriptedModel, api_key: str) -> Iterator[str]:
    """A uvicorn server (in a thread) whose default model is the test's `model`."""
    import uvicorn

    settings = Settings(data_dir=tmp_path / "sdk", api_key=api_key, default_model="scripted")
    runtime = Runtime.build(settings)
    runtime.models.register(model)
    config = uvicorn.Config(
        create_app(settings, runtime), host="127.0.0.1", port=free_port(), log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{config.port}"
    server.should_exit = True
    thread.join(timeout=10)
