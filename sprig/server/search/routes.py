"""``POST /{agents|users|sessions}/{id}/search`` and ``POST /embed``.

The body is flat (WIRE.md §5.3): text only, vector only, or both. Sprig embeds ``text``
server-side, so a text-only request is a hybrid search by default (the best ranking on
SciFact, see bench/search_quality.py); ``mode`` (a Sprig extension) picks one explicitly.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter
from pydantic import ConfigDict, Field, StringConstraints, model_validator

from sprig.server.api import views
from sprig.server.api.body import Body
from sprig.server.api.deps import Developer, RuntimeDep
from sprig.server.api.responses import Embeddings, SearchResult, documented
from sprig.server.docs.service import OwnerKind
from sprig.server.search.options import DEFAULT_LANG, SearchOptions
from sprig.server.search.ranking import Mode
from sprig.server.search.service import SearchQuery

router = APIRouter(tags=["docs"])


FLOAT32_MAX = 3.4028234e38
Float32 = Annotated[float, Field(ge=-FLOAT32_MAX, le=FLOAT32_MAX)]  # vectors are float32


class SearchIn(SearchOptions):
    model_config = ConfigDict(
        json_schema_extra={  # what `_something_to_search` checks, for the document
            "anyOf": [
                {
                    "required": ["text"],
                    "properties": {"text": {"type": "string", "pattern": r"\S"}},
                },
                {"required": ["vector"], "properties": {"vector": {"type": "array"}}},
            ],
            "if": {"required": ["mode"], "properties": {"mode": {"const": "text"}}},
            "then": {"required": ["text"], "properties": {"text": {"type": "string"}}},
        }
    )
    text: Annotated[str, StringConstraints(max_length=10_000)] | None = None
    vector: Annotated[list[Float32], Field(min_length=1, max_length=8192)] | None = None
    mode: Mode | None = None
    lang: Annotated[str, StringConstraints(max_length=32)] = DEFAULT_LANG

    @model_validator(mode="after")
    def _something_to_search(self) -> SearchIn:
        if not (self.text and self.text.strip()) and self.vector is None:
            raise ValueError("give `text`, `vector` or both")
        if self.mode == "text" and not self.text:
            raise ValueError("a text search needs `text`")
        return self

    def query(self) -> SearchQuery:
        mode: Mode = self.mode or ("vector" if not self.text else "hybrid")
        return self.search_query(mode, self.text, self.vector, whole_docs=False)


def _search_route(kind: OwnerKind) -> None:
    async def search(
        owner_id: UUID, body: SearchIn, runtime: RuntimeDep, dev: Developer
    ) -> dict[str, Any]:
        docs, took = await runtime.search.search_owner(dev, kind, owner_id, body.query())
        return {"docs": [views.doc_reference(d) for d in docs], "time": max(took, 0.0001)}

    search.__name__ = f"search_{kind}_docs"
    router.add_api_route(
        f"/{kind}s/{{owner_id}}/search",
        search,
        methods=["POST"],
        response_model=documented(SearchResult),
    )


_KINDS: tuple[OwnerKind, ...] = ("agent", "user", "session")
for _kind in _KINDS:
    _search_route(_kind)


class EmbedIn(Body):
    text: (
        Annotated[str, StringConstraints(min_length=1, max_length=100_000)]
        | Annotated[
            list[Annotated[str, StringConstraints(max_length=100_000)]],
            Field(min_length=1, max_length=256),
        ]
    )
    embed_instruction: str | None = None


@router.post("/embed", response_model=documented(Embeddings))
async def embed(body: EmbedIn, runtime: RuntimeDep, dev: Developer) -> dict[str, Any]:
    """Vectors of the store's embedding model (L2-normalised), one per text."""
    texts = [body.text] if isinstance(body.text, str) else body.text
    vectors = await runtime.indexer.embed(list(texts))
    return {
        "vectors": [[float(v) for v in row] for row in vectors],
        "model": runtime.indexer.embedder.name,
    }
