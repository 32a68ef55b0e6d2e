"""Julep presets and the precedence of sampling settings."""

from __future__ import annotations

from sprig.server.models.base import SamplingParams
from sprig.server.models.presets import (
    PRESET_NAMES,
    PRESETS,
    effective_sampling,
    preset_sampling,
)

JULEP_PRESETS = {
    "problem_solving",
    "conversational",
    "fun",
    "prose",
    "creative",
    "business",
    "deterministic",
    "code",
    "multilingual",
}
MODEL = SamplingParams(temperature=0.2, top_p=0.9, max_tokens=512)


def test_every_julep_preset_has_settings() -> None:
    assert set(PRESET_NAMES) == JULEP_PRESETS
    for name, params in PRESETS.items():
        assert params.temperature is not None and params.top_p is not None, name
    assert PRESETS["deterministic"].temperature == 0.0
    creative, business = PRESETS["creative"].temperature, PRESETS["business"].temperature
    assert creative is not None and business is not None and creative > business


def test_unknown_preset_gives_nothing() -> None:
    assert preset_sampling("nonsense") == SamplingParams()
    assert preset_sampling(None) == SamplingParams()


def test_model_default_alone() -> None:
    assert effective_sampling(MODEL) == MODEL


def test_preset_over_model_default() -> None:
    merged = effective_sampling(MODEL, agent_settings={"preset": "creative"})
    assert merged.temperature == PRESETS["creative"].temperature
    assert merged.min_p == PRESETS["creative"].min_p
    assert merged.max_tokens == 512  # the preset does not set it: the model's stays


def test_agent_settings_over_preset() -> None:
    agent = {"preset": "creative", "temperature": 0.3, "top_p": None, "unknown": "x"}
    merged = effective_sampling(MODEL, agent_settings=agent)
    assert merged.temperature == 0.3
    assert merged.top_p == PRESETS["creative"].top_p  # null in the agent = not set


def test_request_over_everything() -> None:
    agent = {"preset": "creative", "temperature": 0.3, "frequency_penalty": 0.1}
    request = SamplingParams(temperature=1.5, max_tokens=20)
    merged = effective_sampling(MODEL, agent_settings=agent, request=request)
    assert (merged.temperature, merged.max_tokens) == (1.5, 20)
    assert merged.frequency_penalty == 0.1
    assert merged.presence_penalty == PRESETS["creative"].presence_penalty


def test_request_preset_beats_agent_preset() -> None:
    merged = effective_sampling(
        MODEL, agent_settings={"preset": "creative"}, request={"preset": "deterministic"}
    )
    assert merged.temperature == 0.0 and merged.seed == 0
    explicit = effective_sampling(MODEL, agent_settings={"preset": "fun"}, preset="code")
    assert explicit.temperature == PRESETS["code"].temperature


def test_request_zero_temperature_is_kept() -> None:
    merged = effective_sampling(
        MODEL, agent_settings={"temperature": 0.9}, request={"temperature": 0}
    )
    assert merged.temperature == 0
