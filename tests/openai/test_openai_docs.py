"""docs/openai.md: every ```python block runs, in order, against a live server with the
official openai SDK."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from sprig.server.models.base import ToolCall
from sprig.server.models.scripted import ScriptedModel

DOC = Path(__file__).resolve().parents[2] / "docs" / "openai.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def test_every_example_runs(
    live_url: str, api_key: str, model: ScriptedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPRIG_API_KEY", api_key)
    monkeypatch.setenv("SPRIG_BASE_URL", live_url)
    model.push(
        "A right angle is 90 degrees.",
        "An acute angle is less than 90 degrees.",
        [ToolCall(id="call_1", name="get_weather", arguments='{"city": "Paris"}')],
        "It is sunny in Paris, 21 degrees.",
        "Hello Ana.",
        "Your name is Ana.",
        '{"ok": true}',
        "Ninety degrees, like a book's corner.",
        "More than ninety degrees.",
        "Right, acute, obtuse.",
        "We spoke of right and obtuse angles.",
        "A right angle.",
        "Seven.",
        "Fourteen.",
        "Ana.",
        "At 06:12.",
    )
    blocks = BLOCK.findall(DOC.read_text())
    assert len(blocks) >= 8
    namespace: dict[str, object] = {"__name__": "openai_docs"}
    output = io.StringIO()
    for number, code in enumerate(blocks, 1):
        with contextlib.redirect_stdout(output):
            exec(compile(code, f"docs/openai.md block {number}", "exec"), namespace)
    printed = output.getvalue().splitlines()
    assert printed[0].startswith("['tutor'")
    assert printed[1:3] == [
        "A right angle is 90 degrees.",
        "An acute angle is less than 90 degrees.",
    ]
    assert printed[3].startswith("[") and printed[3].endswith(" tokens]")
    assert printed[4:] == [
        "It is sunny in Paris, 21 degrees.",
        "4 entries",
        '{"ok": true}',
        "Ninety degrees, like a book's corner.",
        "More than ninety degrees.",
        "['And an obtuse one?']",
        "Right, acute, obtuse.",
        "completed",
        "A right angle.",
        "Fourteen.",
        "Ana.",
        "['message', 'message', 'message']",
        "3 entries",
        "tides.md",
        "['file_search_call', 'message']",
        "2 384",
        "model_not_found",
    ]
