"""Fixtures for the model layer: a fake OpenAI-compatible server and the real local model."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sprig.server.models.local import LocalLlamaModel
from tests.helpers.fake_openai import FakeOpenAI


@pytest.fixture(scope="session")
def fake_openai_server() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fake_openai(fake_openai_server: FakeOpenAI) -> FakeOpenAI:
    """The shared fake server with its records cleared for this test."""
    rec = fake_openai_server.recorder
    rec.bodies.clear()
    rec.auth.clear()
    rec.streams_started = rec.streams_finished = rec.streams_abandoned = 0
    rec.asked.clear()
    return fake_openai_server


@pytest.fixture(scope="session")
def local_model() -> Iterator[LocalLlamaModel]:
    """The real bundled SmolLM2, loaded once for the whole run (small: ~100 MB)."""
    model = LocalLlamaModel(n_ctx=2048)
    model.load()
    yield model
    model.close()
