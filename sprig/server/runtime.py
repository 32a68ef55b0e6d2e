"""Everything a running server holds: settings, database, services. Built once at startup."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from sprig.server.auth.keys import KeyCache, StartupKey, ensure_default_tenant
from sprig.server.auth.secret import SecretCipher, ServerSecret, bind_secret
from sprig.server.chat.service import ChatService, TurnPolicy
from sprig.server.chat.system_services import RuntimeServices
from sprig.server.chat.templates import TemplateRenderer
from sprig.server.docs.indexing import DocIndexer
from sprig.server.docs.service import DocService
from sprig.server.history.service import HistoryService
from sprig.server.jobs.handlers import handlers
from sprig.server.jobs.service import JobService
from sprig.server.jobs.worker import Handler, Worker
from sprig.server.mcp.config import McpPolicy
from sprig.server.mcp.source import McpTools
from sprig.server.memory.service import MemoryService
from sprig.server.models.registry import ModelRegistry
from sprig.server.observability import metrics, tracing
from sprig.server.observability.turn_traces import TraceRetention
from sprig.server.resources.agents import AgentService, UserService
from sprig.server.resources.sessions import SessionService
from sprig.server.resources.tools import ToolService
from sprig.server.search.service import SearchService
from sprig.server.settings import Settings
from sprig.server.store.db import Database
from sprig.server.tools.http import HttpPolicy, SafeHttpClient
from sprig.server.tools.runner import ToolRunner
from sprig.server.usage.limits import LimitsCache
from sprig.server.usage.meter import UsageMeter
from sprig.server.usage.quotas import Quotas
from sprig.server.usage.service import UsageService

log = logging.getLogger("sprig.server")


@dataclass
class Runtime:
    settings: Settings
    db: Database
    agents: AgentService
    users: UserService
    sessions: SessionService
    tools: ToolService
    docs: DocService
    history: HistoryService
    jobs: JobService
    models: ModelRegistry
    chat: ChatService
    indexer: DocIndexer
    search: SearchService
    memory: MemoryService
    key_cache: KeyCache
    quotas: Quotas
    usage: UsageService
    worker: Worker  # runs jobs in process when started so (``start``), or for ``sprig worker``
    mcp_tools: McpTools  # MCP servers' tools for agents (lists cached per process)
    startup_key: StartupKey | None = None
    _worker_task: asyncio.Task[None] | None = field(default=None, repr=False)
    _warm_task: asyncio.Task[None] | None = field(default=None, repr=False)
    _provider_task: asyncio.Task[None] | None = field(default=None, repr=False)

    @classmethod
    def build(
        cls, settings: Settings, db: Database | None = None, models: ModelRegistry | None = None
    ) -> Runtime:
        """Every service gets its collaborators here, in its constructor."""
        db = db or Database.from_settings(settings)
        models = models or ModelRegistry.from_settings(settings)
        secret = ServerSecret.from_settings(settings)
        cipher = secret.cipher()
        quotas = _quotas(settings, db)
        meter = UsageMeter(db, quotas)
        indexer = DocIndexer(settings)
        memory = MemoryService(db, models, indexer)
        jobs = handlers(db, models, indexer, memory, settings)
        worker = _worker(settings, db, jobs)
        docs = DocService(db, indexer, on_jobs=worker.wake)
        search = SearchService(
            db,
            indexer,
            settings.search_memory_chunks,
            settings.pg_hnsw_ef_search,
            pg_text_in_memory=settings.pg_text_search == "memory",
        )
        agents = AgentService(
            db,
            settings.default_model,
            indexer,
            cipher,
            check_model=models.resolve if settings.check_agent_models else None,
        )
        users, sessions, history = UserService(db, indexer), SessionService(db), HistoryService(db)
        services = RuntimeServices(agents, users, sessions, history, docs, search)
        mcp_tools = McpTools(McpPolicy.from_settings(settings))
        chat = _chat(
            settings, db, models, cipher, mcp_tools, services, search, memory, worker, meter
        )
        runtime = cls(
            settings=settings,
            db=db,
            agents=agents,
            users=users,
            sessions=sessions,
            tools=ToolService(db, cipher),
            docs=docs,
            indexer=indexer,
            search=search,
            memory=memory,
            history=history,
            jobs=JobService(db),
            models=models,
            chat=chat,
            key_cache=KeyCache(settings.auth_cache_seconds, secret),
            quotas=quotas,
            usage=UsageService(db, meter),
            worker=worker,
            mcp_tools=mcp_tools,
        )
        # the OpenAI front door's background responses (imported here: it imports Runtime)
        from sprig.server.openai.responses_api import BACKGROUND_JOB, background_handler

        worker.handlers[BACKGROUND_JOB] = background_handler(runtime)
        return runtime

    async def start(self, *, worker: bool | None = None) -> None:
        """Migrate the database, make sure the default tenant has a key, start the worker."""
        metrics.bound_tenants(self.settings.metrics_tenants)
        tracing.configure(self.settings)
        await self.db.migrate()
        async with self.db.write() as conn:
            await bind_secret(conn, self.secret)
        env_key = self.settings.api_key.get_secret_value() if self.settings.api_key else None
        self.startup_key = await ensure_default_tenant(
            self.db, self.settings.data_dir, env_key, self.secret
        )
        await self.tools.seal_stored()
        async with self.db.write() as conn:
            await self.indexer.check_model(conn)
        await self._warm_up()
        self._provider_task = asyncio.create_task(self._warm_providers(), name="sprig-providers")
        if self.settings.search_warm_up and self.search.in_memory:
            self._warm_task = asyncio.create_task(self.search.warm_up(), name="sprig-search-warm")
        if self.settings.in_process_worker if worker is None else worker:
            self._worker_task = asyncio.create_task(self.worker.run_forever(), name="sprig-jobs")

    @property
    def secret(self) -> ServerSecret:
        """The server secret (auth/secret.py): keyed API-key hashes, tool-secret cipher."""
        return self.key_cache.secret

    async def _warm_up(self) -> None:
        """Load the default model now, not on the first request's event loop."""
        warm_up = getattr(self.models.default, "warm_up", None)
        if warm_up is not None:
            await warm_up()

    async def _warm_providers(self) -> None:
        """Find a local Ollama's models; load hosted models' tokenizers and, if a model may
        need it, LiteLLM (seconds), so the first call to one does not wait for them."""
        await self.models.discover()
        if self.settings.warm_up_providers:
            await self.models.warm_up_hosted()

    async def close(self) -> None:
        self.worker.stop()  # even if a driver turns the cancellation into an error
        for task in (self._worker_task, self._warm_task, self._provider_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.usage.meter.flush()
        await self.search.corpora.close()
        await self.models.aclose()
        self.chat.templates.close()
        await self.db.dispose()
        tracing.shutdown()  # sends the spans still batched


def _worker(settings: Settings, db: Database, handlers: dict[str, Handler]) -> Worker:
    poll, lease = settings.job_poll_seconds, settings.job_lease_seconds
    return Worker(db, handlers, poll_seconds=poll, lease_seconds=lease)


def _quotas(settings: Settings, db: Database) -> Quotas:
    limits = LimitsCache(db, settings.quota_cache_seconds)
    minute, lease = settings.quota_minute_seconds, settings.stream_lease_seconds
    return Quotas(db, limits, minute=minute, lease_seconds=lease)


def _chat(
    settings: Settings,
    db: Database,
    models: ModelRegistry,
    cipher: SecretCipher,
    mcp_tools: McpTools,
    services: RuntimeServices,
    search: SearchService,
    memory: MemoryService,
    worker: Worker,
    meter: UsageMeter,
) -> ChatService:
    http = SafeHttpClient(HttpPolicy.from_settings(settings))
    return ChatService(
        db,
        models,
        tools=ToolRunner(http=http, cipher=cipher, mcp=mcp_tools),
        services=services,
        search=search,
        memory=memory,
        templates=TemplateRenderer.from_settings(settings),
        policy=TurnPolicy(
            max_tool_iterations=settings.max_tool_iterations,
            suggest_after_turns=settings.suggestions,
            traces=TraceRetention(settings.turn_trace_days, settings.turn_traces_per_session)
            if settings.turn_traces
            else None,
        ),
        on_jobs=worker.wake,
        meter=meter,
    )
