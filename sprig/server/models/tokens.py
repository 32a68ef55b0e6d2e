"""Token counts for hosted models, offline: OpenAI's tokenizers, else a documented estimate.

OpenAI's models are counted with their own ``tiktoken`` encoding (``o200k_base`` for the
gpt-4o, gpt-4.1, gpt-5 and o-series families, ``cl100k_base`` for the older ones). Other
hosted models (Groq's Llama, DeepSeek, Mistral, …) have tokenizers Sprig cannot load
offline; they are estimated with ``cl100k_base`` (tokenizers differ: an estimate, so keep
a margin in a session's token budget). The encodings are read from the copies the LiteLLM
package ships (never downloaded); without either, a word-and-punctuation count is the
estimate. Message overhead follows OpenAI's recipe: 3 tokens per message, 1 per name,
3 to prime the reply.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import logging
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sprig.server.embeddings.base import count_tokens_regex
from sprig.server.models.base import ChatMessage

log = logging.getLogger("sprig.models")
PER_MESSAGE = 3
PER_NAME = 1
REPLY_PRIMING = 3
IMAGE_TOKENS = 765  # OpenAI's count for a 1024 x 1024 image at high detail: an estimate
_O200K = re.compile(r"^(?:openai/|azure/)?(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|chatgpt-4o|o\d)")
_OPENAI = re.compile(r"^(?:openai/|azure/)?(gpt-|chatgpt-|o\d|text-embedding)")

Counter = Callable[[str], int]


def encoding_name(model: str) -> str:
    return "o200k_base" if _O200K.match(model) else "cl100k_base"


def is_openai_model(model: str) -> bool:
    return bool(_OPENAI.match(model))


def _bundled_encodings() -> Path | None:
    """LiteLLM's copies of the tiktoken files (found without importing LiteLLM)."""
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "litellm_core_utils/tokenizers"
    return folder if folder.is_dir() else None


@functools.cache
def counter(encoding: str) -> Counter:
    """A text → token count function for ``encoding`` (loaded once, ~0.2 s)."""
    folder = _bundled_encodings()
    if folder is not None:
        os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(folder))
    try:
        import tiktoken

        enc = tiktoken.get_encoding(encoding)
    except Exception as exc:  # not installed, or the file is neither bundled nor fetchable
        log.warning("tokenizer %s unavailable (%s); token counts are estimated", encoding, exc)
        return count_tokens_regex
    encode = enc.encode_ordinary
    return lambda text: len(encode(text))


def count_messages(count: Counter, messages: Sequence[ChatMessage]) -> int:
    """Prompt tokens of ``messages`` as OpenAI counts them (tool calls and images too)."""
    total = REPLY_PRIMING
    for message in messages:
        total += PER_MESSAGE + _content_tokens(count, message.content)
        if message.name:
            total += PER_NAME + count(message.name)
        for call in message.tool_calls:
            total += count(call.name) + count(call.arguments)
    return total


def _content_tokens(count: Counter, content: str | list[Any]) -> int:
    if isinstance(content, str):
        return count(content)
    total = 0
    for part in content:
        if isinstance(part, str):
            total += count(part)
        elif part.get("type") == "text":
            total += count(str(part.get("text") or ""))
        elif part.get("type") in {"image_url", "input_image"}:
            total += IMAGE_TOKENS
        else:
            total += count(json.dumps(part, ensure_ascii=False))
    return total
