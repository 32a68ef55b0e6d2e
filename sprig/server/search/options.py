"""Options of a doc search and of a session's recall: one typed model, one set of defaults.

``SearchOptions`` holds the fields the v1 doc-search requests and ``recall_options`` share;
its defaults are ``search.ranking``'s (measured on SciFact, see there). ``RecallOptions``
takes Julep's recall defaults where the wire contract has its own (below) and adds a
session's own fields (``mode``, ``num_search_messages``, ``max_query_length``). It
is validated when a session is written, stored as every field of its mode's v1 schema
(``stored``: ``trigram_similarity_threshold`` too, which Sprig accepts and does not use),
and parsed once per chat turn from what is stored (``of_session``); ``POST .../search``
(``search.routes.SearchIn``) extends ``SearchOptions`` with the query.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field

from sprig.server.api.body import Body, MetadataFilter
from sprig.server.search.ranking import (
    DEFAULT_ALPHA,
    DEFAULT_CONFIDENCE,
    DEFAULT_K_MULTIPLIER,
    DEFAULT_LIMIT,
    DEFAULT_MMR_STRENGTH,
    Mode,
    RankOptions,
)
from sprig.server.search.service import SearchQuery

DEFAULT_LANG = "en-US"


class SearchOptions(Body):
    """How to search, besides what (text, vector) and how (mode)."""

    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=50)
    lang: str = DEFAULT_LANG
    metadata_filter: MetadataFilter = Field(default_factory=dict)
    include_embeddings: bool = False
    confidence: float = Field(default=DEFAULT_CONFIDENCE, ge=-1, le=1)
    mmr_strength: float = Field(default=DEFAULT_MMR_STRENGTH, ge=0, lt=1)
    alpha: float = Field(default=DEFAULT_ALPHA, ge=0, le=1)
    k_multiplier: int = Field(default=DEFAULT_K_MULTIPLIER, ge=1, le=10)
    trigram_similarity_threshold: float | None = Field(default=None, ge=0, le=1)  # unused

    def rank_options(self, mode: Mode) -> RankOptions:
        """``confidence`` -1 (the v1 minimum) means no floor at all."""
        return RankOptions(
            mode=mode,
            limit=self.limit,
            alpha=self.alpha,
            confidence=None if self.confidence <= -1 else self.confidence,
            mmr_strength=self.mmr_strength,
            k_multiplier=self.k_multiplier,
        )

    def search_query(
        self,
        mode: Mode,
        text: str | None,
        vector: list[float] | None = None,
        whole_docs: bool = True,
    ) -> SearchQuery:
        return SearchQuery(
            text=text,
            vector=vector,
            options=self.rank_options(mode),
            metadata_filter=self.metadata_filter,
            lang=self.lang,
            include_embeddings=self.include_embeddings,
            whole_docs=whole_docs,
        )


# A session's recall_options as Julep's v1 schema defaults them (clients read them back
# from the session they created): a cosine floor of 0.5, MMR 0.5, k_multiplier 7. A search
# request's own defaults are Sprig's measured ones (``search.ranking``).
RECALL_CONFIDENCE = 0.5
RECALL_MMR_STRENGTH = 0.5
RECALL_K_MULTIPLIER = 7


class RecallOptions(SearchOptions):
    """A session's ``recall_options``: what a chat turn searches, over which messages."""

    confidence: float = Field(default=RECALL_CONFIDENCE, ge=-1, le=1)
    mmr_strength: float = Field(default=RECALL_MMR_STRENGTH, ge=0, lt=1)
    k_multiplier: int = Field(default=RECALL_K_MULTIPLIER, ge=1, le=10)
    mode: Mode = "hybrid"
    num_search_messages: int = Field(default=4, ge=1, le=50)
    max_query_length: int = Field(default=1000, ge=100, le=10_000)

    @classmethod
    def of_session(cls, stored: dict[str, Any] | None) -> RecallOptions | None:
        """The stored options (fields another mode's schema has take the defaults); None
        when the session has none (``{}``: it does not recall)."""
        return cls.model_validate(stored) if stored else None

    def stored(self) -> dict[str, Any]:
        """Every field of this mode's v1 schema (used by Sprig or not), defaults filled in."""
        data = self.model_dump()
        for key in _NOT_IN_MODE[self.mode]:
            data.pop(key)
        return data

    def query_text(self, messages: Sequence[str]) -> str:
        """The last ``num_search_messages`` messages (blank ones dropped), one a line, cut
        to their last ``max_query_length`` characters."""
        recent = messages[-self.num_search_messages :]
        text = "\n".join(m for m in recent if m.strip())
        return text[-self.max_query_length :]

    def query(self, text: str) -> SearchQuery:
        return self.search_query(self.mode, text)


# The v1 schemas: TextOnlyDocSearch adds trigram_similarity_threshold to the common fields,
# VectorDocSearch confidence and mmr_strength, HybridDocSearch all of them.
_NOT_IN_MODE: dict[str, tuple[str, ...]] = {
    "hybrid": (),
    "vector": ("alpha", "k_multiplier", "trigram_similarity_threshold"),
    "text": ("alpha", "k_multiplier", "confidence", "mmr_strength"),
}
