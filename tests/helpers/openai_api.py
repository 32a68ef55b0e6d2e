"""Helpers of the OpenAI front door's tests (tests/openai)."""

from __future__ import annotations

import httpx

from sprig.server.models.scripted import ScriptedModel


def agent(api: httpx.Client, name: str, **fields: object) -> str:
    """A new agent on the scripted model; its id."""
    r = api.post("/agents", json={"name": name, "model": "scripted", **fields})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def said(model: ScriptedModel, first: int = 0) -> list[tuple[str, str]]:
    """(role, text) of the messages of the model's last request, from ``first``."""
    return [(m.role, m.text()) for m in model.requests[-1].messages[first:]]
