"""The app under test: settings on a data dir, the app with a scripted default model."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from sprig.server.app import create_app
from sprig.server.models.scripted import ScriptedModel
from sprig.server.runtime import Runtime
from sprig.server.settings import Settings

API_KEY = "sk-test-" + "k" * 32
# The suite's embedder: fast and deterministic (the real model only in e2e tests).
TEST_EMBEDDER = "hashing"


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "default_model": "scripted",
        "embedding_model": TEST_EMBEDDER,
        **overrides,
    }
    return Settings(data_dir=data_dir, api_key=API_KEY, **values)  # type: ignore[arg-type]


def build_app(settings: Settings, model: ScriptedModel | None = None) -> FastAPI:
    """The real app; its default model is a scripted test model (records its prompts)."""
    runtime = Runtime.build(settings)
    runtime.models.register(model or ScriptedModel(name="scripted"))
    return create_app(settings, runtime)


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
