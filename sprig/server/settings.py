"""Typed settings, read once from the environment (prefix ``SPRIG_``).

Every field here is documented in ``docs/configuration.md``; a test checks that.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SPRIG_", extra="ignore")

    # -- serving -----------------------------------------------------------------------
    data_dir: Path = Field(default=Path(".sprig"), description="Where the database and key live.")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL; default sqlite+aiosqlite:///DATA_DIR/sprig.db.",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    api_key: SecretStr | None = Field(
        default=None, description="Key of the default tenant; generated on first start if unset."
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Server secret (32+ characters) keying API-key hashes and tool-secret "
        "encryption; default: DATA_DIR/secret_key, created on first start.",
    )
    secret_key_file: Path | None = Field(
        default=None, description="File holding the server secret (instead of SECRET_KEY)."
    )
    auth_cache_seconds: float = Field(
        default=5.0, ge=0, description="How long a verified key is trusted without a lookup."
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["auto", "json", "text"] = Field(
        default="auto",
        description="Log lines as JSON objects or plain text; auto: text on a terminal.",
    )
    max_request_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    db_pool_size: int = Field(default=5, ge=1, description="Reader connections (PostgreSQL: pool).")
    db_max_overflow: int = Field(
        default=10, ge=0, description="PostgreSQL: connections opened past the pool in a burst."
    )
    db_pool_timeout_seconds: float = Field(
        default=30.0, gt=0, description="PostgreSQL: wait for a free connection before failing."
    )
    db_pool_recycle_seconds: float = Field(
        default=1800.0,
        ge=-1,
        description="PostgreSQL: replace connections older than this (-1: never).",
    )
    pg_hnsw_ef_search: int = Field(
        default=200, ge=1, le=1000, description="PostgreSQL: HNSW candidates per vector search."
    )
    pg_text_search: Literal["memory", "sql"] = Field(
        default="memory",
        description="PostgreSQL: full-text search over an in-memory BM25 index per tenant "
        "(`memory`; tenants over `search_memory_chunks`, and any while their index loads, "
        "are searched in SQL) or always in SQL (`sql`: `tsvector` and `ts_rank`).",
    )
    sqlite_busy_timeout_ms: int = Field(default=30_000, ge=0)

    # -- observability ---------------------------------------------------------------------
    metrics: bool = Field(
        default=True, description="Record Prometheus metrics and serve them at /metrics."
    )
    metrics_require_key: bool = Field(
        default=False, description="/metrics asks for an API key (any tenant's)."
    )
    metrics_tenants: int = Field(
        default=100,
        ge=0,
        description="Tenants named in the `tenant` label of token metrics; tokens of any "
        "further tenant are counted as `other` (0: no tenant label values but `other`).",
    )
    turn_traces: bool = Field(
        default=True,
        description="Store a trace of each saved chat turn (phases, model, settings, tokens, "
        "recall, tools, the prompt) for GET /sessions/{id}/turns/{entry_id}/trace.",
    )
    turn_trace_days: float = Field(
        default=7.0, gt=0, description="Stored turn traces are deleted after this many days."
    )
    turn_traces_per_session: int = Field(
        default=100, ge=1, description="A session keeps its newest this many turn traces."
    )
    otel: bool = Field(
        default=True,
        description="Export OpenTelemetry traces when an endpoint is set (`otel_endpoint` or "
        "the standard OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT).",
    )
    otel_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP collector for traces (`http://host:4318`; `/v1/traces` is "
        "appended unless given). Unset, with no standard variable: tracing is off.",
    )
    otel_service_name: str = Field(default="sprig", description="`service.name` of the spans.")
    otel_capture_content: bool = Field(
        default=False,
        description="Put message contents (prompts, replies, tool arguments and results) "
        "on spans. Off by default: they may hold personal data.",
    )

    # -- usage and quotas ------------------------------------------------------------------
    quota_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="How long a process trusts its copy of the tenants' limits (0: read them "
        "on every request).",
    )
    quota_minute_seconds: float = Field(
        default=60.0, gt=0, description="The period of per-minute limits (shorter in tests)."
    )
    stream_lease_seconds: float = Field(
        default=60.0,
        gt=0,
        description="A stream slot not renewed for this long (its process died) is free again.",
    )

    # -- background jobs ---------------------------------------------------------------------
    in_process_worker: bool = Field(
        default=True, description="Run a job worker inside `sprig serve` (off with `sprig worker`)."
    )
    job_poll_seconds: float = Field(default=0.5, gt=0, description="Idle worker poll interval.")
    job_lease_seconds: float = Field(
        default=300, gt=0, description="A claimed job not finished by then is run again."
    )

    memory_fallback: Literal["auto", "always", "only", "never"] = Field(
        default="auto",
        description="When memory formation keeps the user's own first-person statements: "
        "auto (when the model extracts nothing usable), always (besides the model's), "
        "only (without asking the model), never.",
    )
    suggestions: bool = Field(
        default=False,
        description="After each saved chat turn, a job asks the model for follow-up suggestions.",
    )

    # -- templates -------------------------------------------------------------------------
    template_time_limit_seconds: float = Field(
        default=1.0, gt=0, le=60, description="Time for all the templates of one request."
    )
    template_max_output_chars: int = Field(
        default=1_000_000, ge=1000, description="Text a request's templates may produce."
    )
    template_max_range: int = Field(
        default=10_000, ge=1, description="Items of a range() in a template."
    )
    template_max_operations: int = Field(
        default=100_000, ge=100, description="Loop iterations and calls of a request's templates."
    )
    template_workers: int = Field(
        default=2, ge=1, le=64, description="Processes rendering custom templates."
    )
    template_worker_memory_mb: int = Field(
        default=512, ge=128, description="Address-space limit of each template process."
    )

    # -- tools -------------------------------------------------------------------------------
    tool_http_allow: list[str] = Field(
        default_factory=list,
        description="Hosts/IPs/CIDRs server-side HTTP tools may reach despite the private block.",
    )
    tool_http_timeout: float = Field(default=10.0, gt=0)
    tool_http_max_bytes: int = Field(default=1_000_000, ge=1024)
    tool_http_max_redirects: int = Field(default=5, ge=0, le=20)
    max_tool_iterations: int = Field(
        default=8, ge=1, le=100, description="Model calls per chat turn when tools run server-side."
    )

    # -- Console -----------------------------------------------------------------------------
    console: bool = Field(
        default=True, description="Serve the web console at /console (sign in with an API key)."
    )

    # -- MCP ---------------------------------------------------------------------------------
    mcp_server: bool = Field(
        default=True, description="Serve Sprig as an MCP server at /mcp (the tenant's API key)."
    )
    mcp_timeout: float = Field(
        default=30.0, gt=0, le=600, description="Seconds to reach an MCP server and run a call."
    )
    mcp_max_output_bytes: int = Field(
        default=1_000_000, ge=1024, description="Bytes of an MCP tool result given to the model."
    )
    mcp_tools_ttl_seconds: float = Field(
        default=300.0, ge=0, description="How long an MCP server's tool list is cached."
    )
    mcp_stdio_servers: bool = Field(
        default=False, description="Let `mcp` tools start local stdio MCP servers."
    )
    mcp_stdio_commands: list[str] = Field(
        default_factory=list, description="The commands stdio MCP servers may be started with."
    )
    mcp_env_allow: list[str] = Field(
        default_factory=list,
        description="Environment variables `mcp` tools may reference for header or env values.",
    )

    # -- models --------------------------------------------------------------------------
    default_model: str = Field(
        default="smollm2-135m-instruct",
        description="Model used when an agent names none (or a legacy Julep model name).",
    )
    models: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Extra models served through LiteLLM, as a JSON list of objects.",
    )
    check_agent_models: bool = Field(
        default=True,
        description="Refuse (400) an agent whose model no provider serves; false accepts any "
        "name (for clients that create agents before the models are configured).",
    )
    warm_up_providers: bool = Field(
        default=True,
        description="Load hosted models' tokenizers (and LiteLLM, if a model needs it) in the "
        "background at start, so the first call to one does not wait for them.",
    )
    local_model_path: Path | None = Field(
        default=None, description="GGUF file for the local model; default: the bundled SmolLM2."
    )
    local_model_threads: int | None = Field(default=None, ge=1)
    local_model_context: int = Field(default=8192, ge=256)
    local_model_loop_guard: bool = Field(
        default=True,
        description="Stop a local model's reply that repeats itself, keeping its first copy.",
    )

    # -- embeddings and documents --------------------------------------------------------
    embedding_model: str = Field(
        default="all-MiniLM-L6-v2", description="Embedding model (local default or LiteLLM name)."
    )
    embedding_batch_size: int = Field(default=32, ge=1)
    chunk_tokens: int = Field(default=256, ge=16, description="Target chunk size in tokens.")
    chunk_overlap: int = Field(default=32, ge=0, description="Tokens shared by adjacent chunks.")
    embed_inline_max_chunks: int = Field(
        default=64,
        ge=0,
        description="Docs with more chunks are embedded by a job (the response names it).",
    )
    search_memory_chunks: int = Field(
        default=2_000_000,
        ge=1,
        description="Chunks held in memory for search, over all tenants (on PostgreSQL, "
        "their text only); least recently searched tenants are dropped first.",
    )
    search_warm_up: bool = Field(
        default=True,
        description="Load tenants' in-memory search indexes in the background at start.",
    )

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'sprig.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")
