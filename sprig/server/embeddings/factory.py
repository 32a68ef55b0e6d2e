"""Pick the embedder named by ``Settings.embedding_model``."""

from __future__ import annotations

from typing import Any

from sprig.server.embeddings.base import Embedder
from sprig.server.embeddings.hashing import DEFAULT_DIMENSIONS, HashingEmbedder
from sprig.server.embeddings.litellm_embedder import LiteLLMEmbedder
from sprig.server.embeddings.local import LOCAL_MODEL_ALIASES, LocalEmbedder
from sprig.server.embeddings.sentence_transformers import PREFIX, SentenceTransformerEmbedder
from sprig.server.errors import BadRequestError
from sprig.server.settings import Settings

_LITELLM_KEYS = ("api_base", "api_key", "dimensions", "timeout")


def _model_entry(settings: Settings, name: str) -> dict[str, Any]:
    """The ``Settings.models`` entry whose ``name`` (or ``model``) is ``name``, if any."""
    for entry in settings.models:
        if name in (entry.get("name"), entry.get("model")):
            return entry
    return {}


def _hashing(name: str, batch_size: int) -> HashingEmbedder:
    """``hashing`` or ``hashing-<dims>``: the test embedder."""
    _, _, suffix = name.partition("-")
    if suffix and not suffix.isdigit():
        raise BadRequestError(f"Unknown embedding model {name!r}: use hashing-<dimensions>")
    return HashingEmbedder(int(suffix) if suffix else DEFAULT_DIMENSIONS, batch_size)


def make_embedder(settings: Settings) -> Embedder:
    """The local model for its names, ``sentence-transformers:<name or path>`` on torch,
    ``hashing[-N]`` for tests, LiteLLM for anything else.

    A LiteLLM model takes ``api_base``, ``api_key``, ``dimensions`` and ``timeout`` from
    the ``Settings.models`` entry of the same ``name`` (or ``model``); that entry's
    ``model`` is the LiteLLM model string.
    """
    name = settings.embedding_model.strip()
    batch = settings.embedding_batch_size
    if name in LOCAL_MODEL_ALIASES:
        return LocalEmbedder(batch_size=batch)
    if name.startswith(PREFIX) and name[len(PREFIX) :].strip():
        return SentenceTransformerEmbedder(name[len(PREFIX) :].strip(), batch_size=batch)
    if name == "hashing" or name.startswith("hashing-"):
        return _hashing(name, batch)
    entry = _model_entry(settings, name)
    options = {key: entry[key] for key in _LITELLM_KEYS if entry.get(key) is not None}
    return LiteLLMEmbedder(str(entry.get("model") or name), batch_size=batch, **options)
