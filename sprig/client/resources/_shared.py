"""Argument types and calls shared by several resources (list queries, document search)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from sprig.client._call import Call, compact
from sprig.client.errors import ArgumentValueError
from sprig.client.types import DocSearchResponse

Limit = Annotated[int, Field(ge=1)]
Offset = Annotated[int, Field(ge=0)]
SortBy = Literal["created_at", "updated_at"]
Order = Literal["asc", "desc"]
Metadata = dict[str, Any]
MetadataFilter = dict[str, Any] | str  # a dict, or its JSON string (as legacy clients send)
Unit = Annotated[float, Field(ge=0, le=1)]
ContextOverflow = Literal["truncate", "summarize", "adaptive"]
TokenBudget = Annotated[int, Field(ge=1)]


SearchMode = Literal["text", "vector", "hybrid"]


def search_call(
    owner_path: str,
    *,
    text: str | None,
    vector: list[float] | None,
    lang: str | None,
    limit: int | None,
    metadata_filter: Metadata | None,
    include_embeddings: bool | None,
    trigram_similarity_threshold: float | None,
    confidence: float | None,
    mmr_strength: float | None,
    alpha: float | None,
    k_multiplier: int | None,
    mode: SearchMode | None = None,
) -> Call[DocSearchResponse]:
    """``POST {owner}/search``: text, vector or hybrid search; the body is flat."""
    if text is None and vector is None:
        raise ArgumentValueError("search needs text=..., vector=... or both")
    body = compact(
        text=text,
        vector=vector,
        mode=mode,
        lang=lang,
        limit=limit,
        metadata_filter=metadata_filter,
        include_embeddings=include_embeddings,
        trigram_similarity_threshold=trigram_similarity_threshold,
        confidence=confidence,
        mmr_strength=mmr_strength,
        alpha=alpha,
        k_multiplier=k_multiplier,
    )
    return Call("POST", owner_path + "/search", DocSearchResponse.model_validate, json=body)


SearchLimit = Annotated[int, Field(ge=1, le=50)]
Confidence = Annotated[float, Field(ge=-1, le=1)]
MmrStrength = Annotated[float, Field(ge=0, lt=1)]
KMultiplier = Annotated[int, Field(ge=1, le=10)]
