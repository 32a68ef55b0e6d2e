"""What a hosted model is, whichever gateway calls it (``openai_compat.DirectModel`` or
``litellm_provider.LiteLLMModel``): its ``SPRIG_MODELS`` entry, the model table's facts,
the JSON-mode check and the usage estimate when a provider sends none."""

from __future__ import annotations

from typing import Any

from sprig.server.models import model_info
from sprig.server.models.base import Capabilities, ChatModel, Completion, CompletionRequest, Usage
from sprig.server.models.config import ModelConfig
from sprig.server.models.formats import json_format, parse_json_output


class HostedModel(ChatModel):
    """A hosted model; subclasses say how it is called and what the table knows of it."""

    config: ModelConfig

    @property
    def _info(self) -> dict[str, Any] | None:
        """The model table's entry (None: unknown)."""
        return None

    @property
    def context_window(self) -> int:
        return model_info.context_window(self.config, self._info)

    @property
    def capabilities(self) -> Capabilities:
        return model_info.capabilities(self.config, self._info)

    @property
    def token_prices(self) -> tuple[float, float] | None:
        """The model table's prices (LiteLLM's cost map), None for a model it does not know."""
        return model_info.token_prices(self._info)

    def _finished(self, request: CompletionRequest, done: Completion) -> Completion:
        """A whole reply checked (JSON modes) and given a usage if the provider sent none."""
        self._check_json(request, done.content, done.finish_reason)
        if done.usage == Usage():
            done.usage = self._estimate_usage(request, done.content)
        return done

    def _estimate_usage(self, request: CompletionRequest, text: str) -> Usage:
        return Usage(self.count_message_tokens(request.messages), self.count_tokens(text))

    def _check_json(self, request: CompletionRequest, text: str, reason: str | None) -> None:
        if reason != "tool_calls" and json_format(request.response_format) is not None:
            parse_json_output(text, self.name)
