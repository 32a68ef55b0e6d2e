"""Julep generation presets, and how the layers of sampling settings combine.

Julep declares the preset names (agent `default_settings.preset`, 0.x chat `preset`) but
publishes no values; these are Sprig's, chosen from common practice:

| preset          | temperature | top_p | min_p | other                          |
|-----------------|-------------|-------|-------|--------------------------------|
| problem_solving | 0.3         | 0.9   |       |                                |
| conversational  | 0.7         | 0.9   |       | frequency_penalty 0.2          |
| fun             | 1.0         | 0.95  |       | presence_penalty 0.4           |
| prose           | 0.8         | 0.95  |       | frequency_penalty 0.3          |
| creative        | 1.1         | 0.98  | 0.05  | presence_penalty 0.5           |
| business        | 0.4         | 0.85  |       |                                |
| deterministic   | 0.0         | 1.0   |       | seed 0                         |
| code            | 0.2         | 0.95  | 0.05  |                                |
| multilingual    | 0.5         | 0.9   |       | repetition_penalty 1.05        |

Precedence, highest first: the chat request, the agent's `default_settings`, the preset
(the request's, else the agent's), the model's defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sprig.server.models.base import SamplingParams

PRESETS: dict[str, SamplingParams] = {
    "problem_solving": SamplingParams(temperature=0.3, top_p=0.9),
    "conversational": SamplingParams(temperature=0.7, top_p=0.9, frequency_penalty=0.2),
    "fun": SamplingParams(temperature=1.0, top_p=0.95, presence_penalty=0.4),
    "prose": SamplingParams(temperature=0.8, top_p=0.95, frequency_penalty=0.3),
    "creative": SamplingParams(temperature=1.1, top_p=0.98, min_p=0.05, presence_penalty=0.5),
    "business": SamplingParams(temperature=0.4, top_p=0.85),
    "deterministic": SamplingParams(temperature=0.0, top_p=1.0, seed=0),
    "code": SamplingParams(temperature=0.2, top_p=0.95, min_p=0.05),
    "multilingual": SamplingParams(temperature=0.5, top_p=0.9, repetition_penalty=1.05),
}
PRESET_NAMES = tuple(PRESETS)


def preset_sampling(name: str | None) -> SamplingParams:
    """A preset's settings; an unknown or missing name gives no settings (Julep tolerates it)."""
    return PRESETS.get(name or "", SamplingParams())


def _as_params(layer: SamplingParams | Mapping[str, Any] | None) -> SamplingParams:
    if layer is None:
        return SamplingParams()
    if isinstance(layer, SamplingParams):
        return layer
    return SamplingParams.from_mapping(layer)


def _preset_of(layer: SamplingParams | Mapping[str, Any] | None) -> str | None:
    if isinstance(layer, Mapping):
        value = layer.get("preset")
        return value if isinstance(value, str) else None
    return None


def effective_sampling(
    model_default: SamplingParams,
    *,
    agent_settings: SamplingParams | Mapping[str, Any] | None = None,
    request: SamplingParams | Mapping[str, Any] | None = None,
    preset: str | None = None,
) -> SamplingParams:
    """Merge the layers: request > agent default_settings > preset > model default.

    Mappings are read leniently (unknown keys and nulls ignored). `preset` defaults to
    the request mapping's `preset`, else the agent settings' `preset`.
    """
    chosen = preset or _preset_of(request) or _preset_of(agent_settings)
    merged = preset_sampling(chosen).over(model_default)
    merged = _as_params(agent_settings).over(merged)
    return _as_params(request).over(merged)
