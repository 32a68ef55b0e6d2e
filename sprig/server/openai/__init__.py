"""The OpenAI-compatible front door, under ``/v1`` (and ``/api/v1``), on Sprig's agents.

- ``targets``: what a request's ``model`` names: an agent (``agent:<id>`` or its unique
  name) or a raw model; ``GET /v1/models`` lists both.
- ``completions``: ``POST /v1/chat/completions`` as a Sprig chat turn: stateless on an
  agent (a transient turn: instructions, tools, recall, nothing saved), stateful on a
  named session (only the new messages are appended), or a raw model's pass-through.
- ``wire``: Sprig's results in OpenAI's shapes (``chat.completion``, its chunks, errors).
- ``embeddings``: ``POST /v1/embeddings`` with the configured embedder.

Shapes follow the ``openai`` Python SDK's own types; errors are OpenAI's
``{"error": {"message", "type", "param", "code"}}`` (``errors``).
"""
