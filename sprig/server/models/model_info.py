"""What is known of a hosted model (context window, tool calls, JSON schemas), offline.

Read from the model table the LiteLLM package ships (``model_prices_and_context_window
_backup.json``), without importing LiteLLM (a 3 MB JSON parsed in ~30 ms, once).
"""

from __future__ import annotations

import functools
import importlib.util
import json
import logging
from pathlib import Path
from typing import Any

from sprig.server.models.base import Capabilities
from sprig.server.models.config import ModelConfig

log = logging.getLogger("sprig.models")
TABLE = "model_prices_and_context_window_backup.json"
FALLBACK_CONTEXT_WINDOW = 8192
# For models the table does not know (e.g. `openai/<name>` on a custom host): OpenAI-compatible.
UNKNOWN_MODEL_CAPABILITIES = Capabilities(tools=True, json_object=True, json_schema=False)


@functools.cache
def _table() -> dict[str, dict[str, Any]]:
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return {}
    path = Path(next(iter(spec.submodule_search_locations))) / TABLE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("model table %s unreadable: %s", path, exc)
        return {}
    return {k: v for k, v in data.items() if isinstance(v, dict)}


def info(model: str, provider: str) -> dict[str, Any] | None:
    """The table's entry for a model id (``groq/x``, ``gpt-4o-mini``, ``openai/gpt-4o``)."""
    table = _table()
    bare = model.split("/", 1)[1] if "/" in model and model.startswith(f"{provider}/") else model
    for key in (model, f"{provider}/{bare}", bare):
        found = table.get(key)
        if found is not None and found.get("mode", "chat") == "chat":
            return found
    return None


def context_window(config: ModelConfig, found: dict[str, Any] | None) -> int:
    """The entry's own figure, else the table's (``found``), else FALLBACK_CONTEXT_WINDOW."""
    if config.context_window:
        return config.context_window
    window = (found or {}).get("max_input_tokens") or (found or {}).get("max_tokens")
    return int(window or 0) or FALLBACK_CONTEXT_WINDOW


def capabilities(config: ModelConfig, found: dict[str, Any] | None) -> Capabilities:
    """The entry's own, else what the table says the model does (tool calls, schemas)."""
    if config.capabilities is not None:
        return config.capabilities
    if found is None:
        return UNKNOWN_MODEL_CAPABILITIES
    return Capabilities(
        tools=bool(found.get("supports_function_calling")),
        json_object=True,
        json_schema=bool(found.get("supports_response_schema")),
    )


def token_prices(found: dict[str, Any] | None) -> tuple[float, float] | None:
    """USD per prompt and per completion token from the table's entry (None: not priced)."""
    prices = [(found or {}).get(k) for k in ("input_cost_per_token", "output_cost_per_token")]
    if all(p is None for p in prices):
        return None
    return float(prices[0] or 0.0), float(prices[1] or 0.0)
