"""Long-term memory: formed from chat turns by a job, reconciled, searched and recalled;
and suggestions of what could come next.

Formation (``form``, the ``form_memories`` job) for each agent of the session:

1. Read the new entries and a few before them, and the agent's still-valid memories about
   the session's user (the first user; None when the session has none).
2. Pick the existing memories most like the new messages (all of them when there are
   at most ``CANDIDATES``; else the top of a hybrid search with the new text).
3. One JSON-mode call to the agent's model extracts memories (belief, episode, entity) and
   reconciles them with those candidates in the same answer: add, update ``mN``,
   invalidate ``mN``, or nothing (``memory_prompts``). A reply that cannot be read fails
   the job (it is retried) before anything is written. When the reply has no usable
   operation (a small model copies the prompt's placeholder example, or loops), the
   user's own first-person statements are kept instead, as quoted episodes
   (``memory_fallback``; ``always`` adds them to the model's, ``only`` keeps them without
   asking the model, ``never`` turns this off). ``auto`` does not ask a model that says it
   cannot extract (``ChatModel.extracts_memories``: the bundled SmolLM2-135M).
4. Each new content is embedded with the store's embedder. A safety net against repeats:
   a new content whose cosine similarity to a valid memory of the same agent and user (or
   to one added earlier in the job) reaches ``duplicate_similarity`` is not stored; if it
   came as an update of another memory, that memory is closed in favour of the twin. A
   statement kept by the fallback is the exception: in other words than its stored twin
   ("I am 31" after "I am 30"), it is an update of that twin (the newer words hold).
5. All writes of the job in one transaction. An update inserts a new row and closes the
   old one (``invalidated_at`` = the time of the message that changed it, ``superseded_by``
   = the new row); nothing is edited in place, so a fact's history stays readable.

Timestamps come from the messages a memory cites (``sources``), else the new ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import UUID

import numpy as np
from sqlalchemy.ext.asyncio import AsyncConnection

from sprig.server.chat.turn import ModelResolver
from sprig.server.chat.window import entry_message
from sprig.server.docs.indexing import DocIndexer
from sprig.server.docs.service import require_owner
from sprig.server.embeddings.base import Vectors
from sprig.server.errors import NotFoundError
from sprig.server.ids import new_id, utcnow
from sprig.server.jobs.service import enqueue
from sprig.server.memory import store
from sprig.server.memory.fallback import (
    FallbackMode,
    combine,
    same_statement,
    statement_ops,
    unsaid,
)
from sprig.server.memory.prompts import (
    MemoryOp,
    extraction_messages,
    parse_memory_ops,
    parse_suggestions,
    suggestion_messages,
)
from sprig.server.memory.ranking import rank_memories, similarities
from sprig.server.memory.store import MemoryQuery, MemoryScope, SessionPeople
from sprig.server.models.base import ChatMessage, ChatModel, CompletionRequest, SamplingParams
from sprig.server.search.ranking import RankOptions
from sprig.server.store.crud import Row
from sprig.server.store.db import Database

FORM_JOB = "form_memories"
SUGGEST_JOB = "suggest"
CANDIDATES = 20  # existing memories shown to the model for reconciliation
CONTEXT_ENTRIES = 4  # earlier messages shown with the new ones
SUGGEST_CONTEXT = 6
DUPLICATE_SIMILARITY = 0.95  # all-MiniLM-L6-v2: rephrasings ~0.9-0.98, changed facts < 0.9


@dataclass
class _Plan:
    """The writes one agent's share of a formation job will make."""

    scope: MemoryScope
    rows: list[Row] = field(default_factory=list)
    closes: list[tuple[UUID, UUID | None, datetime]] = field(default_factory=list)


def _user_id(people: SessionPeople) -> UUID | None:
    return people.user["id"] if people.user else None


MEMORY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "memories": {
            "type": "array",
            "maxItems": 8,
            "items": {
                "type": "object",
                "properties": {
                    "op": {"enum": ["add", "update", "invalidate"]},
                    "id": {"type": "string"},
                    "type": {"enum": ["belief", "episode", "entity"]},
                    "content": {"type": "string", "maxLength": 300},
                    "entities": {"type": "array", "maxItems": 5, "items": {"type": "string"}},
                },
                "required": ["op", "type", "content"],
            },
        }
    },
    "required": ["memories"],
}


def _json_request(
    model: ChatModel,
    messages: list[ChatMessage],
    max_tokens: int,
    schema: dict[str, Any] | None = None,
) -> CompletionRequest:
    """JSON mode; constrained to ``schema`` where the model can (a small local model
    otherwise drifts out of the expected shape)."""
    response_format: dict[str, Any] = {"type": "json_object"}
    if schema is not None and model.capabilities.json_schema:
        response_format = {"type": "json_schema", "json_schema": {"name": "out", "schema": schema}}
    return CompletionRequest(
        messages=messages,
        sampling=SamplingParams(temperature=0.0, max_tokens=max_tokens),
        response_format=response_format,
    )


def _rewords(op: MemoryOp, twin: Row, known: list[Row], when: datetime) -> bool:
    """The user's own words (``op.verbatim``) that say a stored, older near-twin in other
    words replace it: "I am 31" after "I am 30", or a negation, embed as near-twins, and the
    newer statement is the one that holds. The same words again are only a repeat."""
    stored = any(row["id"] == twin["id"] for row in known)  # not one added by this job
    return (
        op.verbatim
        and stored
        and twin["timestamp"] <= when
        and not same_statement(op.content, twin["content"])
    )


def _provenance(op: MemoryOp, entries: list[Row], new_ids: set[UUID]) -> tuple[list[Row], datetime]:
    cited = [entries[n - 1] for n in op.sources if 1 <= n <= len(entries)]
    sources = cited or [e for e in entries if e["id"] in new_ids]
    return sources, max(e["timestamp"] for e in sources)


class MemoryService:
    def __init__(
        self,
        db: Database,
        models: ModelResolver,
        indexer: DocIndexer,
        duplicate_similarity: float = DUPLICATE_SIMILARITY,
    ) -> None:
        self.db = db
        self.models = models
        self.indexer = indexer
        self.duplicate_similarity = duplicate_similarity

    # -- formation -------------------------------------------------------------------

    async def form(
        self,
        developer_id: UUID,
        session_id: UUID,
        entry_ids: Sequence[UUID],
        fallback: FallbackMode = "auto",
    ) -> list[Row]:
        """Job body: memories from these entries of the session; returns the rows added.
        ``fallback``: when the user's own statements are kept too (``memory_fallback``)."""
        async with self.db.read() as conn:
            people = await store.session_people(conn, developer_id, session_id)
            entries = await store.chat_entries(conn, session_id, entry_ids, CONTEXT_ENTRIES)
        new_ids = set(entry_ids) & {e["id"] for e in entries}
        if people is None or not new_ids:
            return []  # the session or its entries are gone, or none is a chat message
        plans = [
            await self._plan(developer_id, people, agent, entries, new_ids, fallback)
            for agent in people.agents
        ]
        now = utcnow()
        async with self.db.write() as conn:
            for plan in plans:
                await self._apply(conn, developer_id, plan, now)
        return [store.view_row(row) for plan in plans for row in plan.rows]

    async def _plan(
        self,
        developer_id: UUID,
        people: SessionPeople,
        agent: Row,
        entries: list[Row],
        new_ids: set[UUID],
        fallback: FallbackMode,
    ) -> _Plan:
        scope = MemoryScope(agent["id"], _user_id(people))
        async with self.db.read() as conn:
            known = await store.scope_rows(conn, developer_id, scope)
        extracted: list[MemoryOp] = []
        if fallback != "only":
            model = self.models.resolve(agent["model"])
            if fallback != "auto" or model.extracts_memories:
                extracted = await self._extract(model, agent, people.user, entries, new_ids, known)
        statements = unsaid(statement_ops(entries, new_ids, people.user), known)
        ops = combine(fallback, extracted, statements)
        vectors = iter(
            await self.indexer.embed([op.content for op in ops if op.op != "invalidate"])
        )
        plan = _Plan(scope)
        for op in ops:
            sources, when = _provenance(op, entries, new_ids)
            if op.target is not None and op.op == "invalidate":
                plan.closes.append((op.target, None, when))
                continue
            self._add(plan, known, op, next(vectors), sources, when, people.session_id)
        return plan

    async def _extract(
        self,
        model: ChatModel,
        agent: Row,
        user: Row | None,
        entries: list[Row],
        new_ids: set[UUID],
        known: list[Row],
    ) -> list[MemoryOp]:
        """Ask the agent's model, showing it the ``known`` memories most like the new
        entries (m1, m2... in its answer)."""
        new_text = "\n".join(entry_message(e).text() for e in entries if e["id"] in new_ids)
        shown = await self._candidates(known, new_text)
        aliases = {f"m{i}": row["id"] for i, row in enumerate(shown, start=1)}
        messages = extraction_messages(agent, user, entries, new_ids, shown)
        reply = await model.complete(_json_request(model, messages, 1024, MEMORY_SCHEMA))
        return parse_memory_ops(reply.content, aliases)

    async def _candidates(self, known: list[Row], text: str) -> list[Row]:
        if len(known) <= CANDIDATES:
            return known
        vector = (await self.indexer.embed([text]))[0]
        ranked = rank_memories(known, text, vector, RankOptions(limit=CANDIDATES))
        return [row for row, _ in ranked]

    def _add(
        self,
        plan: _Plan,
        known: list[Row],
        op: MemoryOp,
        vector: Vectors,
        sources: list[Row],
        when: datetime,
        session_id: UUID,
    ) -> None:
        twin = self._twin([*known, *plan.rows], vector)
        if twin is not None and _rewords(op, twin, known, when):
            op = replace(op, target=twin["id"])  # the user's newer words replace the twin
        elif twin is not None:
            if op.target is not None and op.target != twin["id"]:
                plan.closes.append((op.target, twin["id"], when))
            return
        row = store.memory_row(
            vector,
            when,
            utcnow(),
            agent_id=plan.scope.agent_id,
            user_id=plan.scope.user_id,
            session_id=session_id,
            type=op.type,
            content=op.content,
            entities=op.entities,
            sentiment=op.sentiment,
            source_entry_ids=[str(e["id"]) for e in sources],
        )
        plan.rows.append(row)
        if op.target is not None:
            plan.closes.append((op.target, row["id"], when))

    def _twin(self, rows: list[Row], vector: Vectors) -> Row | None:
        """A memory saying the same thing (similarity at or over the duplicate threshold)."""
        if not rows:
            return None
        scores = similarities(rows, vector)
        best = int(np.argmax(scores))
        return rows[best] if scores[best] >= self.duplicate_similarity else None

    async def _apply(
        self, conn: AsyncConnection, developer_id: UUID, plan: _Plan, now: datetime
    ) -> None:
        await store.insert_memories(conn, [{**r, "developer_id": developer_id} for r in plan.rows])
        for memory_id, superseded_by, when in plan.closes:
            await store.invalidate(conn, developer_id, memory_id, superseded_by, when, now)

    # -- direct writes, search, recall, delete ---------------------------------------

    async def create(
        self, developer_id: UUID, agent_id: UUID, items: Sequence[dict[str, Any]]
    ) -> list[Row]:
        """Store memories as given (an import: no model, no reconciliation), embedded."""
        vectors = await self.indexer.embed([str(item["content"]) for item in items])
        now = utcnow()
        rows = [
            _given_row(developer_id, agent_id, i, v, now)
            for i, v in zip(items, vectors, strict=True)
        ]
        async with self.db.write() as conn:
            await require_owner(conn, developer_id, "agent", agent_id)
            for user_id in {r["user_id"] for r in rows} - {None}:
                await require_owner(conn, developer_id, "user", user_id)
            for session_id in {r["session_id"] for r in rows} - {None}:
                await require_owner(conn, developer_id, "session", session_id)
            await store.insert_memories(conn, rows)
        return [store.view_row(r) for r in rows]

    async def search(self, developer_id: UUID, q: MemoryQuery) -> list[Row]:
        """The agent's memories that ``q`` asks for: ranked by hybrid relevance when it has
        a query text (each row gets a ``score``), else newest first."""
        async with self.db.read() as conn:
            await require_owner(conn, developer_id, "agent", q.agent_id)
            if q.user_id is not None:
                await require_owner(conn, developer_id, "user", q.user_id)
            if not (q.text and q.text.strip()):
                return await store.recent_rows(conn, developer_id, q.scope, q.limit, q.offset)
            inputs = await store.rank_inputs(conn, developer_id, q.scope)
        ranked = await self._ranked(developer_id, inputs, q.text, q.limit + q.offset, q.lang)
        return ranked[q.offset :]

    async def _ranked(
        self, developer_id: UUID, inputs: list[Row], query: str, limit: int, lang: str | None
    ) -> list[Row]:
        """The best ``limit`` memories for ``query``, full rows, each with its ``score``."""
        if not inputs:
            return []
        vector = (await self.indexer.embed([query]))[0]
        ranked = rank_memories(inputs, query, vector, RankOptions(limit=limit), lang)
        score = {row["id"]: value for row, value in ranked}
        async with self.db.read() as conn:
            rows = await store.rows_by_id(conn, developer_id, list(score))
        return [{**row, "score": score[row["id"]]} for row in rows]

    async def recall(
        self,
        developer_id: UUID,
        agent_id: UUID,
        user_id: UUID | None,
        query_text: str,
        limit: int,
        lang: str | None = None,
    ) -> list[Row]:
        """Valid memories of this agent about this user (None: formed with no user) for the
        system template: the most relevant to ``query_text`` (analysed as ``lang``, the
        session's ``recall_options.lang``), or the newest when it is blank. Marks them
        accessed."""
        scope = MemoryScope(agent_id, user_id)
        if query_text.strip():
            async with self.db.read() as conn:
                inputs = await store.rank_inputs(conn, developer_id, scope)
            rows = await self._ranked(developer_id, inputs, query_text, limit, lang)
        else:
            async with self.db.read() as conn:
                rows = await store.recent_rows(conn, developer_id, scope, limit, 0)
        if rows:
            async with self.db.write() as conn:
                await store.touch(conn, developer_id, [r["id"] for r in rows], utcnow())
        return rows

    async def get(self, developer_id: UUID, agent_id: UUID, memory_id: UUID) -> Row:
        """One memory of the agent, valid or invalidated."""
        async with self.db.read() as conn:
            await require_owner(conn, developer_id, "agent", agent_id)
            rows = await store.rows_by_id(conn, developer_id, [memory_id])
        if not rows or rows[0]["agent_id"] != agent_id:
            raise NotFoundError(f"Memory {memory_id} not found")
        return rows[0]

    async def delete(self, developer_id: UUID, agent_id: UUID, memory_id: UUID) -> Row:
        async with self.db.write() as conn:
            await require_owner(conn, developer_id, "agent", agent_id)
            if not await store.delete_memory(conn, developer_id, agent_id, memory_id):
                raise NotFoundError(f"Memory {memory_id} not found")
        return {"id": memory_id, "deleted_at": utcnow()}

    # -- suggestions -----------------------------------------------------------------

    async def suggest(self, developer_id: UUID, session_id: UUID, entry_id: UUID) -> list[Row]:
        """Job body: follow-ups for the user and actions for the agent after ``entry_id``."""
        async with self.db.read() as conn:
            people = await store.session_people(conn, developer_id, session_id)
            entries = await store.chat_entries(conn, session_id, [entry_id], SUGGEST_CONTEXT)
        if people is None or not people.agents or not entries or entries[-1]["id"] != entry_id:
            return []
        agent = people.agents[0]
        messages = suggestion_messages(agent, people.user, entries)
        model = self.models.resolve(agent["model"])
        reply = await model.complete(_json_request(model, messages, 512))
        now = utcnow()
        rows = [
            {
                "id": new_id(),
                "developer_id": developer_id,
                "session_id": session_id,
                "target": target,
                "content": content,
                "message_id": entry_id,
                "created_at": now,
            }
            for target, content in parse_suggestions(reply.content)
        ]
        async with self.db.write() as conn:
            if await store.session_people(conn, developer_id, session_id) is None:
                return []  # deleted meanwhile
            await store.replace_suggestions(conn, developer_id, session_id, entry_id, rows)
        return rows

    async def list_suggestions(
        self, developer_id: UUID, session_id: UUID, limit: int = 100, offset: int = 0
    ) -> list[Row]:
        async with self.db.read() as conn:
            await require_owner(conn, developer_id, "session", session_id)
            return await store.list_suggestions(conn, developer_id, session_id, limit, offset)


def _given_row(
    developer_id: UUID, agent_id: UUID, item: dict[str, Any], vector: Vectors, now: datetime
) -> Row:
    values = {k: item[k] for k in ("user_id", "session_id", "type", "sentiment") if k in item}
    return store.memory_row(
        vector,
        item.get("timestamp") or now,
        now,
        developer_id=developer_id,
        agent_id=agent_id,
        content=str(item["content"]),
        entities=list(item.get("entities") or []),
        **values,
    )


async def enqueue_after_turn(
    conn: AsyncConnection,
    developer_id: UUID,
    session_id: UUID,
    entry_ids: Sequence[UUID],
    remember: bool,
    suggest: bool,
) -> list[Row]:
    """Jobs after a saved chat turn, in the caller's transaction: ``form_memories`` over the
    turn's entries when ``remember``, ``suggest`` after its last entry when ``suggest``."""
    ids = [str(i) for i in entry_ids]
    jobs: list[Row] = []
    if remember and ids:
        payload = {"session_id": str(session_id), "entry_ids": ids}
        jobs.append(await enqueue(conn, developer_id, FORM_JOB, payload, name=FORM_JOB))
    if suggest and ids:
        payload = {"session_id": str(session_id), "entry_id": ids[-1]}
        jobs.append(await enqueue(conn, developer_id, SUGGEST_JOB, payload, name=SUGGEST_JOB))
    return jobs
