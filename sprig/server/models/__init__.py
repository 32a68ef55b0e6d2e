"""The model gateway: one `ChatModel` interface, providers behind it, a registry by name.

Importing this package is light: llama_cpp and litellm load only when a model is used.
"""

from sprig.server.models.base import (
    Capabilities,
    ChatMessage,
    ChatModel,
    Completion,
    CompletionChunk,
    CompletionRequest,
    SamplingParams,
    ToolCall,
    ToolSpec,
    Usage,
    collect,
)
from sprig.server.models.presets import PRESET_NAMES, PRESETS, effective_sampling
from sprig.server.models.registry import ModelRegistry

__all__ = [
    "PRESETS",
    "PRESET_NAMES",
    "Capabilities",
    "ChatMessage",
    "ChatModel",
    "Completion",
    "CompletionChunk",
    "CompletionRequest",
    "ModelRegistry",
    "SamplingParams",
    "ToolCall",
    "ToolSpec",
    "Usage",
    "collect",
    "effective_sampling",
]
