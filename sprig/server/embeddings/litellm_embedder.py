"""Any embedding model LiteLLM reaches (OpenAI, Cohere, Ollama, any OpenAI-compatible host).

litellm is imported on first use, after ``LITELLM_LOCAL_MODEL_COST_MAP=True`` so that the
import never fetches a cost map from the internet.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from sprig.server.embeddings.base import Embedder, Vectors
from sprig.server.errors import ServiceUnavailableError, UpstreamError, UpstreamTimeoutError

INSTALL_HINT = 'install Sprig with its hosted extra: pip install -e ".[hosted]"'


def _litellm() -> Any:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    try:
        import litellm
    except ImportError as exc:
        raise ServiceUnavailableError(
            f"Hosted embedding models need LiteLLM, which is not installed: {INSTALL_HINT}"
        ) from exc

    litellm.suppress_debug_info = True
    return litellm


def _rows(response: Any) -> list[list[float]]:
    """The vectors of an EmbeddingResponse, in input order."""
    items = list(response.data if hasattr(response, "data") else response["data"])

    def field(item: Any, key: str) -> Any:
        return item[key] if isinstance(item, dict) else getattr(item, key)

    items.sort(key=lambda item: int(field(item, "index")))
    return [list(field(item, "embedding")) for item in items]


class LiteLLMEmbedder(Embedder):
    """Embeddings through ``litellm.aembedding``; async I/O, no worker thread needed.

    ``dimensions`` is the length every vector must have (learnt from the first answer when
    not given); to ask a provider to shorten its vectors, pass ``extra={"dimensions": n}``.
    """

    local = False

    def __init__(
        self,
        model: str,
        *,
        batch_size: int = 32,
        dimensions: int | None = None,
        api_base: str | None = None,
        api_key: str | None = None,
        timeout: float = 60.0,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(model, batch_size)
        self.model = model
        self._dimensions = dimensions
        self._options: dict[str, Any] = {"timeout": timeout, **(extra or {})}
        if api_base:
            self._options["api_base"] = api_base
        if api_key:
            self._options["api_key"] = api_key

    @property
    def dimensions(self) -> int | None:
        return self._dimensions

    async def _embed_batch(self, texts: list[str]) -> Vectors:
        litellm = _litellm()
        try:
            response = await litellm.aembedding(model=self.model, input=texts, **self._options)
        except litellm.Timeout as exc:
            raise UpstreamTimeoutError(f"Embedding model {self.model} timed out") from exc
        except Exception as exc:  # any provider failure is an upstream fault, not ours
            raise UpstreamError(f"Embedding model {self.model} failed: {exc}") from exc
        return self._check(np.asarray(_rows(response), dtype=np.float32), len(texts))

    def _check(self, rows: Vectors, expected: int) -> Vectors:
        if rows.ndim != 2 or rows.shape[0] != expected:
            count = rows.shape[0] if rows.ndim else 0
            raise UpstreamError(
                f"Embedding model {self.model} returned {count} vectors for {expected} texts"
            )
        if self._dimensions is None:
            self._dimensions = int(rows.shape[1])
        elif rows.shape[1] != self._dimensions:
            raise UpstreamError(
                f"Embedding model {self.model} returned {rows.shape[1]} dimensions, "
                f"expected {self._dimensions}"
            )
        return rows
