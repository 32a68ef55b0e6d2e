"""Chat request bodies."""

from __future__ import annotations

from typing import Any


def user_msg(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}
