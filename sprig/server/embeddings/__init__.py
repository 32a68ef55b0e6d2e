"""Embedding providers: the local MiniLM model, any LiteLLM model, a hashing test embedder.

Importing this package is light: torch, sentence-transformers and litellm load on first use.
"""

from sprig.server.embeddings.base import Embedder, Vectors, count_tokens_regex, l2_normalise
from sprig.server.embeddings.factory import make_embedder

__all__ = ["Embedder", "Vectors", "count_tokens_regex", "l2_normalise", "make_embedder"]
