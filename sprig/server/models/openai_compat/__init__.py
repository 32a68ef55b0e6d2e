"""Sprig's own client of the OpenAI chat-completions wire: the direct gateway.

OpenAI, Azure OpenAI, Groq, DeepSeek, Mistral, OpenRouter, Together, Ollama's ``/v1``,
vLLM, llama.cpp's server and LM Studio all speak it. One pooled ``httpx`` client, the
request JSON built once from Sprig's own message objects, the reply parsed from plain JSON:
no per-message validation or transform on the hot path (see docs/performance.md).
Providers that speak another wire (Anthropic, Gemini, Bedrock, …) go through LiteLLM.

- ``endpoints``: which provider a model id names, its URL, key and quirks;
- ``wire``: request bodies and reply parsing (shared with the LiteLLM gateway);
- ``transport``: the pooled client, retries with backoff, server-sent events;
- ``model``: ``DirectModel``, the ``ChatModel`` over all of it.
"""

from sprig.server.models.openai_compat.endpoints import endpoint_for, speaks_openai
from sprig.server.models.openai_compat.model import DirectModel
from sprig.server.models.openai_compat.transport import Transport

__all__ = ["DirectModel", "Transport", "endpoint_for", "speaks_openai"]
