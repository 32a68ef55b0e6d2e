"""Document search on PostgreSQL: pgvector HNSW (cosine) and a stored ``tsvector``.

Schema (migration 0005; nothing here exists on SQLite):

- ``doc_chunks.embedding_vector vector``: the chunk's unit vector, beside the ``embedding``
  blob every other reader uses. The column has no fixed dimension (a store's embedding
  model decides it); each dimension in use gets a partial expression HNSW index,
  ``USING hnsw ((embedding_vector::vector(D)) vector_cosine_ops) WHERE
  vector_dims(embedding_vector) = D``, created when vectors of that size are first written
  (``ensure_vector_index``). Queries repeat that expression and predicate with D inlined.
- ``doc_chunks.tsv tsvector`` (GIN index): the doc's title, a newline, the chunk text, with
  the text search configuration of the doc's language (``ts_config``), written with the
  chunk (docs/indexing.py).

Text relevance is BM25-like: each query term's ``ts_rank(tsv, term, 1)`` (a saturating term
frequency over 1 + log(length)) weighted by the term's BM25 idf, whose document frequency
comes from the planner statistics of ``tsv`` (``pg_stats.most_common_elems``, cached for a
minute) or, for a term not among them (a rare one), from a capped count on the GIN index.
A term matches its English stem, the word itself and its stem in the query's language.
Terms in over 20% of the chunks are dropped, and only chunks holding one of the rarest terms
are scored (``_candidates``). On SciFact (5,183 docs, one chunk each, text search alone,
nDCG@10 through ``text_hits``): 0.679, BM25 (bm25s) 0.679; ``ts_rank_cd`` over the OR of
the terms 0.327, ``ts_rank`` 0.598.

Vector search orders by cosine distance through the HNSW index with the scope (tenant,
owners, metadata filter) in the same query. pgvector >= 0.8 continues the index scan until
enough rows pass the filter (``hnsw.iterative_scan``); older versions (pgserver bundles
0.6.2) stop after ``hnsw.ef_search`` candidates, so when fewer than ``limit`` hits come back
the same query runs exact (an expression the index does not serve). Either way a small
scope inside a big tenant still gets ``limit`` hits.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import UserDefinedType

from sprig.server.search import fts
from sprig.server.search.language import language_name
from sprig.server.search.types import Hit, Scope
from sprig.server.store import tables
from sprig.server.store.filters import metadata_contains

HNSW_M = 16  # pgvector's defaults: graph degree and build-time candidate list
HNSW_EF_CONSTRUCTION = 64
HNSW_MAX_DIMS = 2000  # pgvector's limit for an HNSW index on `vector`
# Candidates per HNSW scan, at least twice `limit` (pgvector < 0.8 returns no more than
# ef_search rows before the scope filter: at ef_search = limit = 50 a 98% scope missed a few
# and fell back to the exact scan on nearly every query). Measured at 100k chunks (bench/
# search_latency.py, pool 50): ef 100 recall@10 0.940 at p50 5.5 ms, ef 200 0.975 at 6.2 ms.
EF_SEARCH = 200
EF_SEARCH_MAX = 1000
ITERATIVE_SCAN_VERSION = (0, 8)
COMMON_TERM_RATIO = 0.2  # terms in more of the chunks are dropped (see _kept) ...
PRUNE_MIN_ROWS = 5000  # ... once the table has this many chunks
MIN_KEPT_TERMS = 2
STATS_SECONDS = 60.0  # how long the planner's tsv statistics are reused
DF_COUNT_CAP = 500  # a rare term's chunks are counted up to this many (see _term_stats)
ROWS_COUNT_CAP = 100_000  # without statistics (never analysed), counts go this far
CANDIDATE_RATIO = 0.05  # chunks scored per text query: see _candidates
CANDIDATE_ROWS = 10_000
_LOCK_KEY = 0x5350524947  # advisory lock serialising HNSW index creation ("SPRIG")

# The built-in text search configurations of PostgreSQL 14+ (``simple`` besides).
PG_CONFIGS = frozenset(
    {
        "arabic", "armenian", "basque", "catalan", "danish", "dutch", "english", "finnish",
        "french", "german", "greek", "hindi", "hungarian", "indonesian", "irish", "italian",
        "lithuanian", "nepali", "norwegian", "portuguese", "romanian", "russian", "serbian",
        "spanish", "swedish", "tamil", "turkish", "yiddish",
    }
)  # fmt: skip

# Per search transaction: plan each query for its own terms/vector (a generic plan of a
# prepared statement cannot see how selective a tsquery is, and picked full scans), and do
# not JIT-compile (compiling costs more than these queries take).
_QUERY_SETTINGS = {"plan_cache_mode": "force_custom_plan", "jit": "off"}

_chunks = tables.doc_chunks
_docs = tables.docs


class Vector(UserDefinedType[Any]):
    """pgvector's ``vector`` (``vector(D)`` with dimensions), for casts in queries."""

    cache_ok = True

    def __init__(self, dims: int | None = None) -> None:
        self.dims = dims

    def get_col_spec(self, **kw: Any) -> str:
        return "vector" if self.dims is None else f"vector({int(self.dims)})"


_vector_col = sa.literal_column("doc_chunks.embedding_vector", Vector())
_tsv_col = sa.literal_column("doc_chunks.tsv", postgresql.TSVECTOR())


# -- schema ----------------------------------------------------------------------------
def ts_config(language: str | None) -> str:
    """The PostgreSQL text search configuration for a doc's language (a name or a code;
    ``simple`` for a language PostgreSQL cannot stem)."""
    name = language_name(language)
    return name if name in PG_CONFIGS else "simple"


TEXT_INDEX_SQL = "CREATE INDEX IF NOT EXISTS ix_doc_chunks_tsv ON doc_chunks USING gin (tsv)"


def vector_index_name(dims: int) -> str:
    return f"ix_doc_chunks_embedding_hnsw_{int(dims)}"


def vector_index_sql(dims: int) -> str:
    d = int(dims)
    return (
        f"CREATE INDEX IF NOT EXISTS {vector_index_name(d)} ON doc_chunks USING hnsw "
        f"((embedding_vector::vector({d})) vector_cosine_ops) "
        f"WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION}) "
        f"WHERE vector_dims(embedding_vector) = {d}"
    )


_indexed: set[tuple[str, int]] = set()  # (database, dims) known to have their HNSW index


def _database_key(conn: AsyncConnection) -> str:
    return conn.engine.url.render_as_string(hide_password=True)


async def ensure_vector_index(conn: AsyncConnection, dims: int) -> bool:
    """Create the HNSW index for ``dims``-dimensional vectors unless it exists.

    Runs in the caller's transaction (under an advisory lock, so concurrent first writers
    do not race); cheap once the index exists. False when ``dims`` is too large for HNSW
    (those vectors are searched exactly).
    """
    if dims < 1 or dims > HNSW_MAX_DIMS:
        return False
    key = (_database_key(conn), int(dims))
    if key in _indexed:
        return True
    present = sa.text("SELECT to_regclass(:name) IS NOT NULL")
    if (await conn.execute(present, {"name": vector_index_name(dims)})).scalar():
        _indexed.add(key)  # (an index made by this transaction is cached once seen committed)
        return True
    await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    await conn.execute(sa.text(vector_index_sql(dims)))
    return True


def vector_param(vector: Any) -> list[float] | None:
    """A vector as the ``real[]`` bind value the write and query SQL cast to ``vector``."""
    if vector is None:
        return None
    values: list[float] = np.asarray(vector, dtype=np.float32).ravel().tolist()
    return values


# -- scope -------------------------------------------------------------------------------
def _in_scope(scope: Scope) -> ColumnElement[bool]:
    """Chunk rows of ``doc_chunks`` the search may return (tenant, owners, filter)."""
    owned = sa.or_(
        *(
            sa.and_(_docs.c.owner_kind == kind, _docs.c.owner_id == oid)
            for kind, oid in scope.owners
        )
    )
    doc = sa.select(sa.literal(1)).where(
        _docs.c.id == _chunks.c.doc_id, _docs.c.developer_id == scope.developer_id, owned
    )
    if scope.metadata_filter:
        doc = doc.where(metadata_contains(_docs.c.metadata, scope.metadata_filter, "postgresql"))
    return sa.and_(_chunks.c.developer_id == scope.developer_id, doc.exists())


async def _set_local(conn: AsyncConnection, settings: dict[str, str]) -> None:
    """Transaction-local settings (``SET LOCAL``), in one round trip."""
    calls = ", ".join(f"set_config(:name_{i}, :value_{i}, true)" for i in range(len(settings)))
    params: dict[str, str] = {}
    for i, (name, value) in enumerate(settings.items()):
        params |= {f"name_{i}": name, f"value_{i}": value}
    await conn.execute(sa.text(f"SELECT {calls}"), params)


def _hits(rows: Any) -> list[Hit]:
    hits = [(int(cid), UUID(str(did)), float(rel)) for cid, did, rel in rows]
    hits.sort(key=lambda hit: -hit[2])
    return hits


# -- full text ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Term:
    query: str  # tsquery text: the term's lexemes under every configuration searched, ORed
    df: float  # chunks containing it (estimated from statistics, or counted)
    width: int  # distinct lexemes in `query`: ts_rank divides an OR query's rank by it


_STATS_SQL = """
SELECT p.most_common_elems::text::text[] AS lexemes, p.most_common_elem_freqs AS freqs,
  r.reltuples AS rows
FROM pg_class r
LEFT JOIN pg_stats p ON p.schemaname = current_schema() AND p.tablename = 'doc_chunks'
  AND p.attname = 'tsv'
WHERE r.oid = to_regclass('doc_chunks')"""
_ROWS_SQL = "SELECT count(*) FROM (SELECT 1 FROM doc_chunks LIMIT :cap) x"
_COUNT_SQL = """
SELECT (SELECT count(*) FROM (
  SELECT 1 FROM doc_chunks c WHERE c.tsv @@ CAST(u.query AS tsquery) LIMIT :cap) x)
FROM unnest(CAST(:queries AS text[])) WITH ORDINALITY AS u(query, i) ORDER BY u.i"""


@dataclass(frozen=True, slots=True)
class _TableStats:
    at: float
    rows: float  # chunks in the table (planner estimate)
    freq: dict[str, float]  # the most common lexemes of `tsv`: fraction of chunks holding each


_table_stats: dict[str, _TableStats] = {}
_analysed: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {}  # term -> query, lexemes


async def _stats(conn: AsyncConnection) -> _TableStats:
    """The planner's statistics of ``doc_chunks.tsv`` (cached for STATS_SECONDS)."""
    key, now = _database_key(conn), time.monotonic()
    cached = _table_stats.get(key)
    if cached is not None and now - cached.at < STATS_SECONDS:
        return cached
    row = (await conn.execute(sa.text(_STATS_SQL))).first()
    rows = float(row.rows or 0) if row is not None else 0.0
    if rows < 1:  # never analysed: count (capped)
        count = await conn.execute(sa.text(_ROWS_SQL), {"cap": ROWS_COUNT_CAP})
        rows = float(count.scalar_one())
    lexemes, freqs = (row.lexemes, row.freqs) if row is not None else (None, None)
    freq = dict(zip(lexemes or [], freqs or [], strict=False))
    if len(_table_stats) > 64:
        _table_stats.clear()
    _table_stats[key] = _TableStats(now, rows, freq)
    return _table_stats[key]


def _analyse_sql(configs: Sequence[str]) -> str:
    """Each term's distinct lexemes under ``configs``, and their OR as a tsquery (the term's
    characters are letters and digits: the lexemes need no quoting). ``configs`` come from
    a fixed list (ts_config)."""
    vector = " || ".join(f"to_tsvector('{c}', u.term)" for c in configs)
    lexemes = f"tsvector_to_array({vector})"
    query = f"to_tsquery('simple', array_to_string({lexemes}, ' | '))::text"
    columns = f"{lexemes} AS lexemes, CASE WHEN cardinality({lexemes}) > 0 THEN {query} END"
    return f"SELECT u.term, {columns} AS query FROM unnest(CAST(:terms AS text[])) AS u(term)"  # noqa: S608


async def _analyse(
    conn: AsyncConnection, terms: list[str], configs: list[str]
) -> list[tuple[str, tuple[str, ...]]]:
    """Each term's tsquery (its lexemes under every configuration, ORed) and lexemes."""
    tag = ",".join(configs)
    todo = [t for t in terms if (tag, t) not in _analysed]
    if todo:
        if len(_analysed) > 50_000:
            _analysed.clear()
        for row in await conn.execute(sa.text(_analyse_sql(configs)), {"terms": todo}):
            _analysed[(tag, row.term)] = (row.query, tuple(row.lexemes))
    return [_analysed[(tag, t)] for t in terms]


def _configs(lang: str) -> list[str]:
    """English stems, unstemmed words, and the stems of the query's own language."""
    return list(dict.fromkeys(["english", "simple", ts_config(lang)]))


async def _term_stats(
    conn: AsyncConnection, terms: list[str], lang: str
) -> tuple[list[_Term], float]:
    """Each term with its document frequency: from the statistics for a common term, else
    (a rare one, not among the most common lexemes) counted on the GIN index.

    The count stops at DF_COUNT_CAP (each counted chunk is a heap visit: a 25k-chunk term
    took 150 ms at 1M chunks); a term reaching it is given what PostgreSQL's planner assumes
    for a lexeme missing from the statistics, half the least common one's frequency. Exact
    counts matter most for the rarest terms (idf 11.5 at 10 chunks of 1M, 6.9 at 1,000).
    """
    stats = await _stats(conn)
    analysed = [a for a in await _analyse(conn, terms, _configs(lang)) if a[1]]
    df = {q: max(stats.freq.get(x, 0.0) for x in lex) * stats.rows for q, lex in analysed}
    if rare := [q for q, d in df.items() if d == 0]:
        cap = DF_COUNT_CAP if stats.freq else ROWS_COUNT_CAP
        counts = await conn.execute(sa.text(_COUNT_SQL), {"queries": rare, "cap": cap})
        unseen = min(stats.freq.values(), default=0.0) / 2 * stats.rows
        for query, count in zip(rare, counts.scalars(), strict=True):
            df[query] = max(float(count), unseen) if count >= cap else float(count)
    width = {q: len(lex) for q, lex in analysed}
    found = [_Term(q, df[q], width[q]) for q in dict.fromkeys(q for q, _ in analysed)]
    return found, max(stats.rows, *(t.df for t in found), 1.0)


def _kept(terms: list[_Term], total: float) -> list[_Term]:
    """Present terms, without those in over COMMON_TERM_RATIO of the chunks (each matches
    most chunks and weighs little), unless fewer than two would remain."""
    present = [t for t in terms if t.df > 0]
    if total < PRUNE_MIN_ROWS:
        return present
    kept = [t for t in present if t.df <= COMMON_TERM_RATIO * total]
    if len(kept) < MIN_KEPT_TERMS:
        kept = sorted(present, key=lambda t: t.df)[:MIN_KEPT_TERMS]
    return kept


def _candidates(terms: list[_Term], total: float, limit: int) -> list[_Term]:
    """The rarest terms whose chunks (summed) stay within the candidate budget, and enough
    of them to hold ``limit`` chunks: only chunks holding one of them are scored (by every
    kept term).

    A chunk holding only common terms rarely beats one holding a rare term (BM25 weighs
    terms by idf), and scoring every chunk that holds a common term is what costs. On SciFact
    a budget of 5% of the chunks left nDCG@10 unchanged (0.682), 2% cost 0.015. When these
    chunks do not fill the results (a scope without the rare terms), all terms match.
    """
    if total < PRUNE_MIN_ROWS:
        return terms
    budget = min(CANDIDATE_RATIO * total, CANDIDATE_ROWS)
    chosen: list[_Term] = []
    rows = 0.0
    for term in sorted(terms, key=lambda t: t.df):
        if rows >= limit and rows + term.df > budget:
            break
        chosen.append(term)
        rows += term.df
    return chosen


def _idf(df: float, total: float) -> float:
    total = max(total, df)
    return math.log(1.0 + (total - df + 0.5) / (df + 0.5))


def _text_query(
    scope: Scope, terms: list[_Term], matching: list[_Term], total: float, limit: int
) -> sa.Select[Any]:
    """Chunks holding one of the ``matching`` terms, scored by all ``terms``."""
    score: ColumnElement[float] = sa.literal(0.0)
    for i, term in enumerate(terms):
        query = sa.cast(sa.bindparam(f"term_{i}", term.query), postgresql.TSQUERY())
        # a chunk holds one of a term's forms (its language's stem, or the word itself)
        weight = sa.bindparam(f"idf_{i}", _idf(term.df, total) * term.width, type_=sa.Float())
        score = score + weight * sa.func.ts_rank(_tsv_col, query, 1)
    anything = " | ".join(f"({t.query})" for t in matching)
    matches = _tsv_col.op("@@")(sa.cast(sa.bindparam("any_term", anything), postgresql.TSQUERY()))
    return (
        sa.select(_chunks.c.id, _chunks.c.doc_id, score.label("relevance"))
        .where(matches, _in_scope(scope))
        .order_by(score.desc())
        .limit(limit)
    )


async def text_hits(
    conn: AsyncConnection, scope: Scope, text: str, lang: str, limit: int
) -> list[Hit]:
    """The ``limit`` chunks in ``scope`` best matching ``text`` (BM25-like), best first."""
    words = fts.query_terms(text, lang)
    if not words or not scope.owners or limit <= 0:
        return []
    await _set_local(conn, _QUERY_SETTINGS)
    terms, total = await _term_stats(conn, words, lang)
    kept = _kept(terms, total)
    if not kept:
        return []
    rare = _candidates(kept, total, limit)
    hits = _hits(await conn.execute(_text_query(scope, kept, rare, total, limit)))
    if len(hits) < limit and len(rare) < len(kept):  # the scope may hold none of the rare terms
        hits = _hits(await conn.execute(_text_query(scope, kept, kept, total, limit)))
    return hits


# -- vectors -----------------------------------------------------------------------------
_versions: dict[str, tuple[int, ...]] = {}


async def pgvector_version(conn: AsyncConnection) -> tuple[int, ...]:
    """The installed pgvector version, e.g. (0, 6, 2) (cached per database)."""
    key = _database_key(conn)
    if key not in _versions:
        stmt = sa.text("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        found = (await conn.execute(stmt)).scalar() or "0"
        _versions[key] = tuple(int(p) for p in re.findall(r"\d+", found))
    return _versions[key]


async def _tune_hnsw(conn: AsyncConnection, limit: int, ef_search: int) -> None:
    """Transaction-local HNSW settings for one scan that must return ``limit`` rows."""
    ef = min(EF_SEARCH_MAX, max(ef_search, 2 * limit))
    settings = {**_QUERY_SETTINGS, "hnsw.ef_search": str(ef)}
    if await pgvector_version(conn) >= ITERATIVE_SCAN_VERSION:
        settings["hnsw.iterative_scan"] = "relaxed_order"
    await _set_local(conn, settings)


def _vector_query(scope: Scope, vector: list[float], limit: int, exact: bool) -> sa.Select[Any]:
    dims = len(vector)
    query = sa.cast(sa.bindparam("query_vector", vector, type_=postgresql.ARRAY(sa.REAL)), Vector())
    # The HNSW index serves `embedding_vector::vector(D) <=> q`; the untyped column does not.
    column = _vector_col if exact else sa.cast(_vector_col, Vector(dims))
    distance = column.op("<=>", return_type=sa.Float())(
        query if exact else sa.cast(query, Vector(dims))
    )
    return (
        sa.select(_chunks.c.id, _chunks.c.doc_id, (1.0 - distance).label("relevance"))
        .where(sa.text(f"vector_dims(doc_chunks.embedding_vector) = {dims}"), _in_scope(scope))
        .order_by(distance)
        .limit(limit)
    )


async def vector_hits(
    conn: AsyncConnection,
    scope: Scope,
    vector: np.ndarray[Any, Any],
    limit: int,
    *,
    ef_search: int = EF_SEARCH,
) -> list[Hit]:
    """The ``limit`` chunks in ``scope`` nearest to the unit ``vector`` (relevance = cosine
    similarity), best first: HNSW, then an exact scan when the index returned too few."""
    values = vector_param(vector)
    if not scope.owners or limit <= 0 or not values:
        return []
    await _tune_hnsw(conn, limit, ef_search)
    hits = _hits(await conn.execute(_vector_query(scope, values, limit, exact=False)))
    if len(hits) < limit:
        hits = _hits(await conn.execute(_vector_query(scope, values, limit, exact=True)))
    return hits


async def exact_vector_hits(
    conn: AsyncConnection, scope: Scope, vector: np.ndarray[Any, Any], limit: int
) -> list[Hit]:
    """Exact nearest chunks (no index): the reference HNSW recall is measured against."""
    values = vector_param(vector)
    if not scope.owners or limit <= 0 or not values:
        return []
    return _hits(await conn.execute(_vector_query(scope, values, limit, exact=True)))


async def chunk_vectors(
    conn: AsyncConnection, chunk_ids: Sequence[int]
) -> dict[int, np.ndarray[Any, Any]]:
    """Stored unit vectors of the chunks that have one."""
    if not chunk_ids:
        return {}
    stmt = sa.select(_chunks.c.id, _chunks.c.embedding).where(
        _chunks.c.id.in_(list(chunk_ids)), _chunks.c.embedding.is_not(None)
    )
    return {
        int(cid): np.frombuffer(bytes(blob), dtype=np.float32).copy()
        for cid, blob in await conn.execute(stmt)
    }
