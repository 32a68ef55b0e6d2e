"""The schema: one table per concept, every row owned by a developer (tenant).

Later features add code, not tables: history entries already carry role, source, token
counts and an ordering sequence; doc chunks carry embeddings; memories, suggestions and
jobs are here from the start.
"""

from __future__ import annotations

import sqlalchemy as sa

from sprig.server.store.types import UTCDateTime, json_type, uuid_type

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _id() -> sa.Column[object]:
    return sa.Column("id", uuid_type(), primary_key=True)


def _developer() -> sa.Column[object]:
    return sa.Column(
        "developer_id",
        uuid_type(),
        sa.ForeignKey("developers.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    ]


developers = sa.Table(
    "developers",
    metadata,
    _id(),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    # bumped in every transaction that changes the tenant's chunks: search caches check it
    sa.Column("docs_version", sa.BigInteger(), nullable=False, server_default="0"),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    _id(),
    _developer(),
    sa.Column("name", sa.String(200), nullable=False),
    # HMAC-SHA256 under the server secret ("hmac-sha256"), or a key stored before that
    # ("sha256", unsalted), rehashed on its first use (auth/keys.py)
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("hash_scheme", sa.String(16), nullable=False),
    sa.Column("prefix", sa.String(16), nullable=False),  # a few characters, for display
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("revoked_at", UTCDateTime(), nullable=True),
)

agents = sa.Table(
    "agents",
    metadata,
    _id(),
    _developer(),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("canonical_name", sa.String(255), nullable=True),
    sa.Column("about", sa.Text(), nullable=False, default=""),
    sa.Column("model", sa.String(255), nullable=False),
    sa.Column("instructions", json_type(), nullable=False),
    sa.Column("default_settings", json_type(), nullable=False),
    sa.Column("default_system_template", sa.Text(), nullable=True),
    sa.Column("metadata", json_type(), nullable=False),
    sa.Column("project", sa.String(255), nullable=True),
    *_timestamps(),
    sa.Index("ix_agents_dev_created", "developer_id", "created_at"),
)

users = sa.Table(
    "users",
    metadata,
    _id(),
    _developer(),
    sa.Column("name", sa.String(255), nullable=False, default=""),
    sa.Column("about", sa.Text(), nullable=False, default=""),
    sa.Column("metadata", json_type(), nullable=False),
    sa.Column("project", sa.String(255), nullable=True),
    *_timestamps(),
    sa.Index("ix_users_dev_created", "developer_id", "created_at"),
)

sessions = sa.Table(
    "sessions",
    metadata,
    _id(),
    _developer(),
    sa.Column("situation", sa.Text(), nullable=True),
    sa.Column("summary", sa.Text(), nullable=True),
    sa.Column("system_template", sa.Text(), nullable=True),
    sa.Column("render_templates", sa.Boolean(), nullable=False),
    sa.Column("token_budget", sa.Integer(), nullable=True),
    sa.Column("context_overflow", sa.String(32), nullable=True),
    sa.Column("auto_run_tools", sa.Boolean(), nullable=False),
    sa.Column("forward_tool_calls", sa.Boolean(), nullable=False),
    sa.Column("recall", sa.Boolean(), nullable=False),
    sa.Column("remember", sa.Boolean(), nullable=False),
    sa.Column("recall_options", json_type(), nullable=True),
    sa.Column("metadata", json_type(), nullable=False),
    sa.Column("next_seq", sa.BigInteger(), nullable=False, default=0),
    # entries with seq <= summary_until are covered by `summary` (context overflow)
    sa.Column("summary_until", sa.BigInteger(), nullable=False, server_default="-1"),
    *_timestamps(),
    sa.Index("ix_sessions_dev_created", "developer_id", "created_at"),
)

session_participants = sa.Table(
    "session_participants",
    metadata,
    sa.Column(
        "session_id",
        uuid_type(),
        sa.ForeignKey("sessions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("kind", sa.String(8), primary_key=True),  # "agent" | "user"
    sa.Column("participant_id", uuid_type(), primary_key=True),
    sa.Column("position", sa.Integer(), nullable=False),
    _developer(),
    sa.Index("ix_participants_lookup", "developer_id", "kind", "participant_id"),
)

tools = sa.Table(
    "tools",
    metadata,
    _id(),
    _developer(),
    sa.Column(
        "agent_id", uuid_type(), sa.ForeignKey("agents.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("type", sa.String(40), nullable=False),
    sa.Column("description", sa.Text(), nullable=True),
    sa.Column("spec", json_type(), nullable=False),  # {type: {...}} per v1 tool type
    *_timestamps(),
    sa.UniqueConstraint("agent_id", "name"),
)

docs = sa.Table(
    "docs",
    metadata,
    _id(),
    _developer(),
    sa.Column("owner_kind", sa.String(8), nullable=False),  # agent | user | session | vstore
    sa.Column("owner_id", uuid_type(), nullable=False),
    sa.Column("title", sa.Text(), nullable=False),
    sa.Column("content", json_type(), nullable=False),  # str | [str]
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("metadata", json_type(), nullable=False),
    sa.Column("embed_instruction", sa.Text(), nullable=True),
    sa.Column("embedding_model", sa.String(255), nullable=True),
    sa.Column("embedding_dimensions", sa.Integer(), nullable=True),
    sa.Column("language", sa.String(32), nullable=False),
    sa.Column("modality", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # ready | pending | failed
    *_timestamps(),
    sa.UniqueConstraint("owner_kind", "owner_id", "content_hash"),
    sa.Index("ix_docs_owner", "developer_id", "owner_kind", "owner_id", "created_at"),
)

doc_chunks = sa.Table(
    "doc_chunks",
    metadata,
    sa.Column("id", sa.Integer().with_variant(sa.BigInteger(), "postgresql"), primary_key=True),
    _developer(),
    sa.Column("doc_id", uuid_type(), sa.ForeignKey("docs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("chunk_index", sa.Integer(), nullable=False),
    sa.Column("content", sa.Text(), nullable=False),
    sa.Column("token_count", sa.Integer(), nullable=False),
    sa.Column("embedding", sa.LargeBinary(), nullable=True),  # float32, L2-normalised
    sa.UniqueConstraint("doc_id", "chunk_index"),
)

entries = sa.Table(
    "entries",
    metadata,
    _id(),
    _developer(),
    sa.Column(
        "session_id",
        uuid_type(),
        sa.ForeignKey("sessions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("seq", sa.BigInteger(), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("name", sa.String(255), nullable=True),
    sa.Column("content", json_type(), nullable=True),
    sa.Column("source", sa.String(24), nullable=False),
    sa.Column("tool_call_id", sa.String(255), nullable=True),
    sa.Column("tool_calls", json_type(), nullable=True),
    sa.Column("model", sa.String(255), nullable=True),
    sa.Column("token_count", sa.Integer(), nullable=False),
    sa.Column("tokenizer", sa.String(64), nullable=False),
    sa.Column("partial", sa.Boolean(), nullable=False, default=False),
    sa.Column("timestamp", UTCDateTime(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("session_id", "seq"),
)

entry_relations = sa.Table(
    "entry_relations",
    metadata,
    sa.Column(
        "session_id",
        uuid_type(),
        sa.ForeignKey("sessions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("head", uuid_type(), primary_key=True),
    sa.Column("relation", sa.String(32), primary_key=True),
    sa.Column("tail", uuid_type(), primary_key=True),
    _developer(),
)

memories = sa.Table(
    "memories",
    metadata,
    _id(),
    _developer(),
    sa.Column("agent_id", uuid_type(), nullable=False),
    sa.Column("user_id", uuid_type(), nullable=True),
    sa.Column("session_id", uuid_type(), nullable=True),
    sa.Column("type", sa.String(16), nullable=False),  # episode | belief | entity
    sa.Column("content", sa.Text(), nullable=False),
    sa.Column("entities", json_type(), nullable=False),
    sa.Column("sentiment", sa.Float(), nullable=True),
    sa.Column("source_entry_ids", json_type(), nullable=False),
    sa.Column("embedding", sa.LargeBinary(), nullable=True),
    sa.Column("timestamp", UTCDateTime(), nullable=True),
    sa.Column("valid_from", UTCDateTime(), nullable=True),
    sa.Column("invalidated_at", UTCDateTime(), nullable=True),
    sa.Column("superseded_by", uuid_type(), nullable=True),
    sa.Column("last_accessed_at", UTCDateTime(), nullable=True),
    *_timestamps(),
    sa.Index("ix_memories_owner", "developer_id", "agent_id", "user_id"),
)

suggestions = sa.Table(
    "suggestions",
    metadata,
    _id(),
    _developer(),
    sa.Column(
        "session_id",
        uuid_type(),
        sa.ForeignKey("sessions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("target", sa.String(8), nullable=False),
    sa.Column("content", sa.Text(), nullable=False),
    sa.Column("message_id", uuid_type(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

jobs = sa.Table(
    "jobs",
    metadata,
    _id(),
    _developer(),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("payload", json_type(), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text(), nullable=True),
    sa.Column("has_progress", sa.Boolean(), nullable=False, default=False),
    sa.Column("progress", sa.Float(), nullable=False, default=0.0),
    sa.Column("attempts", sa.Integer(), nullable=False, default=0),
    sa.Column("max_attempts", sa.Integer(), nullable=False, default=3),
    sa.Column("run_after", UTCDateTime(), nullable=False),
    sa.Column("locked_by", sa.String(128), nullable=True),
    sa.Column("locked_until", UTCDateTime(), nullable=True),
    *_timestamps(),
    # the W3C trace context of the request that queued the job (tracing on), else null
    sa.Column("traceparent", sa.String(64), nullable=True),
    sa.Index("ix_jobs_claim", "state", "run_after"),
)

# A stored trace of each saved chat turn, keyed by its reply entry's id: phases, model,
# settings, tokens, recall, tools and the prompt (``observability/turn_traces.py``).
turn_traces = sa.Table(
    "turn_traces",
    metadata,
    _id(),
    _developer(),
    sa.Column(
        "session_id", uuid_type(), sa.ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("trace", json_type(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False, index=True),
    sa.Index("ix_turn_traces_session_created", "session_id", "created_at"),
)

# OpenAI Responses (``/v1/responses``): each stored response, its input items as given and
# the response object as sent; a chain follows ``previous_id``; a response made in a
# conversation names its session.
responses = sa.Table(
    "responses",
    metadata,
    _id(),
    _developer(),
    sa.Column("previous_id", uuid_type(), nullable=True),
    sa.Column(
        "session_id",
        uuid_type(),
        sa.ForeignKey("sessions.id", ondelete="CASCADE"),
        nullable=True,
    ),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("input", json_type(), nullable=False),
    sa.Column("body", json_type(), nullable=False),
    *_timestamps(),
)

# OpenAI files (``/v1/files``): uploaded as they are; vector stores (``/v1/vector_stores``)
# own docs (``docs.owner_kind = 'vstore'``) made from them.
files = sa.Table(
    "files",
    metadata,
    _id(),
    _developer(),
    sa.Column("filename", sa.String(255), nullable=False),
    sa.Column("purpose", sa.String(32), nullable=False),
    sa.Column("bytes", sa.Integer(), nullable=False),
    sa.Column("content", sa.LargeBinary(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

vector_stores = sa.Table(
    "vector_stores",
    metadata,
    _id(),
    _developer(),
    sa.Column("name", sa.String(255), nullable=True),
    sa.Column("metadata", json_type(), nullable=False),
    *_timestamps(),
)

store_meta = sa.Table(
    "store_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", json_type(), nullable=False),
)

# Usage and quotas (sprig/server/usage): what each tenant used, per UTC day and model; the
# limits set on it (`sprig keys limits`); the state that holds the limits across processes.
usage_daily = sa.Table(
    "usage_daily",
    metadata,
    sa.Column(
        "developer_id",
        uuid_type(),
        sa.ForeignKey("developers.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("day", sa.Date(), primary_key=True),
    sa.Column("model", sa.String(255), primary_key=True),
    sa.Column("tokens_in", sa.BigInteger(), nullable=False),
    sa.Column("tokens_out", sa.BigInteger(), nullable=False),
    sa.Column("turns", sa.BigInteger(), nullable=False),
    sa.Column("tool_calls", sa.BigInteger(), nullable=False),
    sa.Column("embedded_chunks", sa.BigInteger(), nullable=False),
    sa.Column("cost", sa.Double(), nullable=True),  # USD, estimated; NULL: no price known
)

tenant_limits = sa.Table(
    "tenant_limits",
    metadata,
    sa.Column(
        "developer_id",
        uuid_type(),
        sa.ForeignKey("developers.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("requests_per_minute", sa.Integer(), nullable=True),  # NULL: no limit
    sa.Column("tokens_per_minute", sa.BigInteger(), nullable=True),
    sa.Column("tokens_per_day", sa.BigInteger(), nullable=True),
    sa.Column("cost_per_month", sa.Double(), nullable=True),
    sa.Column("concurrent_streams", sa.Integer(), nullable=True),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

# One token bucket per tenant and kind ("requests", "tokens"), as GCRA keeps it: the
# theoretical arrival time (epoch seconds) the bucket is full again at.
rate_buckets = sa.Table(
    "rate_buckets",
    metadata,
    sa.Column(
        "developer_id",
        uuid_type(),
        sa.ForeignKey("developers.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("tat", sa.Double(), nullable=False),
)

# Open streams of tenants with a concurrent-stream limit, each held until expires_at (epoch
# seconds) and renewed while it runs: a process that dies frees its slots when they lapse.
stream_leases = sa.Table(
    "stream_leases",
    metadata,
    _id(),
    _developer(),
    sa.Column("expires_at", sa.Double(), nullable=False),
)
