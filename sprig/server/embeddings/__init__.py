"""Embedding providers: the local MiniLM model (ONNX Runtime), sentence-transformers models,
any LiteLLM model, a hashing test embedder.

Importing this package is light: onnxruntime, torch and litellm load on first use (torch only
for a ``sentence-transformers:`` model).
"""

from sprig.server.embeddings.base import Embedder, Vectors, count_tokens_regex, l2_normalise
from sprig.server.embeddings.factory import make_embedder

__all__ = ["Embedder", "Vectors", "count_tokens_regex", "l2_normalise", "make_embedder"]
