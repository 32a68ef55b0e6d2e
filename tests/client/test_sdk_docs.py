"""docs/sdk.md: every ```python block runs, in order, against a live server."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from sprig.server.models.scripted import ScriptedModel

DOC = Path(__file__).resolve().parents[2] / "docs" / "sdk.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def blocks() -> list[str]:
    return BLOCK.findall(DOC.read_text())


def test_the_doc_has_examples() -> None:
    assert len(blocks()) >= 12


def test_every_example_runs(
    live_url: str, api_key: str, model: ScriptedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPRIG_API_KEY", api_key)
    monkeypatch.setenv("SPRIG_BASE_URL", live_url)
    model.push(*["A right angle is 90 degrees."] * 10)
    namespace: dict[str, object] = {"__name__": "sdk_docs"}
    output = io.StringIO()
    for number, code in enumerate(blocks(), 1):
        with contextlib.redirect_stdout(output):
            exec(compile(code, f"docs/sdk.md block {number}", "exec"), namespace)
    printed = output.getvalue()
    assert "A right angle is 90 degrees." in printed
    assert "Session 00000000-0000-4000-8000-000000000000 not found" in printed
    assert "agents.get(): 'id': 'not-an-id' is not a valid UUID" in printed
