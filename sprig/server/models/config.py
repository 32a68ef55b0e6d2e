"""One hosted model's configuration: an entry of ``Settings.models``.

Its own module: both gateways read it (the direct OpenAI-compatible client in
``openai_compat/`` and LiteLLM in ``litellm_provider.py``), and the registry picks between
them (``gateway``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from sprig.server.models.base import Capabilities

Gateway = Literal["auto", "direct", "litellm"]


class ModelConfig(BaseModel):
    """One entry of `Settings.models`."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["chat"] = "chat"
    name: str = Field(min_length=1, description="Name clients use (agent `model`).")
    model: str | None = Field(
        default=None, description="Provider model id, LiteLLM style (openai/…); default: name."
    )
    api_key: SecretStr | None = None
    api_base: str | None = None
    api_version: str | None = None
    context_window: int | None = Field(default=None, ge=256)
    max_retries: int = Field(default=2, ge=0)
    timeout: float = Field(default=600.0, gt=0)
    capabilities: Capabilities | None = None
    extra_sampling: bool = Field(
        default=False, description="Also send min_p and repetition_penalty (vLLM-style hosts)."
    )
    gateway: Gateway = Field(
        default="auto",
        description="direct: Sprig's own client of the OpenAI chat-completions wire; litellm: "
        "through LiteLLM; auto: direct for the providers that speak that wire.",
    )
    aliases: list[str] = Field(default_factory=list)
    params: dict[str, Any] = Field(default_factory=dict, repr=False)

    @property
    def model_id(self) -> str:
        return self.model or self.name
