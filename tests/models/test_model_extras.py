"""Optional runtimes: a hosted model without LiteLLM installed says which extra brings it."""

from __future__ import annotations

import sys

import pytest

from sprig.server.models.base import ChatMessage, CompletionRequest
from sprig.server.models.config import ModelConfig
from sprig.server.models.errors import ModelConfigError
from sprig.server.models.litellm_provider import LiteLLMModel, import_litellm


async def test_hosted_model_without_litellm_names_the_hosted_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "litellm", None)  # import litellm -> ImportError
    with pytest.raises(ModelConfigError, match=r'pip install -e "\.\[hosted\]"'):
        import_litellm()
    model = LiteLLMModel(ModelConfig(name="gpt-4o-mini"))
    request = CompletionRequest(messages=[ChatMessage(role="user", content="hi")])
    with pytest.raises(ModelConfigError, match="LiteLLM, which is not installed"):
        await model.complete(request)
