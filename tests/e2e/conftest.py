"""End-to-end fixtures: real `sprig serve` subprocesses (tests/helpers/processes.py) and the
legacy julep SDK virtualenvs (tests/helpers/legacy.py)."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers.fake_openai import FakeOpenAI
from tests.helpers.legacy import LegacySdk, ensure_legacy_venv
from tests.helpers.processes import ServerProcess, new_key


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A `sprig serve` subprocess shared by the session (fresh data dir, free port)."""
    data_dir = tmp_path_factory.mktemp("live") / "data"
    server = ServerProcess(data_dir=data_dir, api_key=new_key()).start()
    yield server
    died = not server.alive()
    code = server.stop()
    if died or code not in (0, -signal.SIGTERM):
        server._fail("died during the test session")


@pytest.fixture(scope="session")
def stub_model_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A `sprig serve` whose model ``stub`` is a local OpenAI-compatible stub
    (tests/helpers/fake_openai.py: ``tool:<name>`` makes it call a tool)."""
    stub = FakeOpenAI()
    stub.start()
    model = {"name": "stub", "model": "openai/stub", "api_base": stub.api_base, "api_key": "x"}
    data_dir = tmp_path_factory.mktemp("stubbed") / "data"
    env = {"SPRIG_MODELS": json.dumps([model])}
    server = ServerProcess(data_dir=data_dir, api_key=new_key(), env=env).start()
    yield server
    server.stop()
    stub.stop()


@pytest.fixture
def server_factory(
    tmp_path: Path,
) -> Iterator[Callable[[Path | None, str | None], ServerProcess]]:
    """Start extra servers (e.g. restart tests); every one is stopped at teardown."""
    started: list[ServerProcess] = []

    def start(data_dir: Path | None = None, api_key: str | None = None) -> ServerProcess:
        server = ServerProcess(data_dir=data_dir or tmp_path / "data", api_key=api_key or new_key())
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def legacy_sdk() -> Callable[[str], LegacySdk]:
    """Factory: legacy_sdk("julep-0.2.14") -> LegacySdk (venv cached across runs)."""
    built: dict[str, LegacySdk] = {}

    def get(name: str) -> LegacySdk:
        if name not in built:
            built[name] = LegacySdk(name=name, venv=ensure_legacy_venv(name))
        return built[name]

    return get
