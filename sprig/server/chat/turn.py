"""A chat turn in three stages: inputs read once, a prepared request, the state of its run.

``load_inputs`` reads everything a turn needs (its parties, model, sampling, history window
and tools) in one pass; ``render.render_turn`` turns inputs plus what recall found into an
immutable ``PreparedTurn``; a ``TurnRun`` holds what changes while it runs (tool steps, why
it stopped).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from sprig.server.chat.parties import (
    Parties,
    Transient,
    agent_tools,
    answering_agent,
    load_parties,
    load_transient_parties,
)
from sprig.server.chat.window import Window, WindowCache, load_window, load_window_cached
from sprig.server.models.base import (
    ChatMessage,
    ChatModel,
    CompletionRequest,
    SamplingParams,
    Usage,
)
from sprig.server.models.formats import json_format
from sprig.server.models.presets import effective_sampling
from sprig.server.observability.timeline import Timeline
from sprig.server.store.crud import Row
from sprig.server.tools.spec import merge_tools
from sprig.server.tools.types import ToolDef

DEFAULT_RESERVE = 1024  # completion tokens kept free when max_tokens is not set


class ModelResolver(Protocol):
    def resolve(self, name: str | None) -> ChatModel: ...


@dataclass
class ChatOptions:
    """A chat request after normalisation (see chat/schemas.py)."""

    messages: list[dict[str, Any]]
    sampling: dict[str, Any] = field(default_factory=dict)
    response_format: dict[str, Any] | None = None
    agent_id: UUID | None = None
    model: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    save: bool = True
    remember: bool | None = None
    recall: bool | None = None
    recall_tools: bool = True
    tools: list[dict[str, Any]] = field(default_factory=list)
    tool_choice: str | dict[str, Any] | None = None
    auto_run_tools: bool | None = None

    def __post_init__(self) -> None:
        json_format(self.response_format)  # a format that asks for nothing: 400, nothing read


@dataclass(frozen=True)
class TurnInputs:
    """What a turn reads, once: its parties, the answering agent and model, the sampling,
    the token budget, the newest history that fits the whole budget (rendering cuts it to
    what the prompt leaves) and the tools (the agent's and the request's)."""

    parties: Parties
    agent: Row
    model: ChatModel
    sampling: SamplingParams
    budget: int
    window: Window
    tools: list[ToolDef]

    @property
    def session(self) -> Row:
        return self.parties.session

    @property
    def agents(self) -> list[Row]:
        return self.parties.agents

    @property
    def users(self) -> list[Row]:
        return self.parties.users

    def may_recall_docs(self) -> bool:
        """Whether the session, the answering agent or a user has any doc to search."""
        owners = {self.session["id"], self.agent["id"], *(u["id"] for u in self.users)}
        return not owners.isdisjoint(self.parties.holdings.doc_owners)

    def may_recall_memories(self) -> bool:
        """Whether the answering agent has valid memories about the session's first user."""
        return self.agent["id"] in self.parties.holdings.memory_agents


async def load_inputs(
    conn: AsyncConnection,
    developer_id: UUID,
    session_id: UUID | Transient,
    options: ChatOptions,
    models: ModelResolver,
    windows: WindowCache | None = None,
) -> TurnInputs:
    """``session_id``: a stored session, or a ``Transient`` turn (no history, nothing saved)."""
    if isinstance(session_id, Transient):
        parties = await load_transient_parties(conn, developer_id, session_id)
    else:
        parties = await load_parties(conn, developer_id, session_id)
    agent = answering_agent(parties.agents, options.agent_id)
    model = models.resolve(options.model or agent["model"])
    sampling = effective_sampling(
        model.default_sampling, agent_settings=agent["default_settings"], request=options.sampling
    )
    budget = budget_for(parties.session, model, sampling)
    window = Window(available=budget)
    if not isinstance(session_id, Transient):
        window = await _history(conn, model, parties.session, budget, windows, options.recall_tools)
    stored = await agent_tools(conn, developer_id, agent["id"], parties.holdings)
    tools = merge_tools(stored, options.tools)
    return TurnInputs(parties, agent, model, sampling, budget, window, tools)


async def _history(
    conn: AsyncConnection,
    model: ChatModel,
    session: Row,
    available: int,
    windows: WindowCache | None,
    with_tools: bool,
) -> Window:
    if windows is None:
        return await load_window(conn, model, session, available, with_tools=with_tools)
    return await load_window_cached(conn, model, session, available, windows, with_tools=with_tools)


def budget_for(session: Row, model: ChatModel, sampling: SamplingParams) -> int:
    if session["token_budget"]:
        return int(session["token_budget"])
    reserve = sampling.max_tokens or min(DEFAULT_RESERVE, model.context_window // 4)
    return max(model.context_window - reserve, 1)


@dataclass(frozen=True)
class Recalled:
    """What recall found for the system template."""

    docs: list[Row] = field(default_factory=list)
    memories: list[Row] = field(default_factory=list)
    query: str | None = None  # the text searched with


@dataclass(frozen=True, slots=True)
class Counted:
    """Token counts made while rendering, so nothing is tokenised twice in a turn."""

    messages: list[int] = field(default_factory=list)  # each new message's, as stored
    prompt: int = 0  # the request's: prompt, new messages and the window's stored counts


@dataclass(frozen=True)
class PreparedTurn:
    """The request as the model first sees it; not changed while the turn runs."""

    inputs: TurnInputs
    request: CompletionRequest
    messages: list[ChatMessage]  # the request's new messages, rendered, as sent
    window: Window  # the history shown, cut to the budget the prompt leaves
    docs: list[Row]
    counted: Counted = field(default_factory=Counted)
    recalled: Recalled = field(default_factory=Recalled)

    @property
    def session(self) -> Row:
        return self.inputs.session

    @property
    def agent(self) -> Row:
        return self.inputs.agent

    @property
    def users(self) -> list[Row]:
        return self.inputs.users

    @property
    def model(self) -> ChatModel:
        return self.inputs.model

    @property
    def tools(self) -> list[ToolDef]:
        return self.inputs.tools

    def auto_run_tools(self, options: ChatOptions) -> bool:
        if options.auto_run_tools is not None:
            return options.auto_run_tools
        return bool(self.session["auto_run_tools"])


@dataclass
class TurnRun:
    """A prepared turn while it runs: the tool calls and results so far, why it stopped."""

    turn: PreparedTurn
    steps: list[ChatMessage] = field(default_factory=list)
    stop_reason: str | None = None
    # the turn's phases, from before it was prepared (metrics, its trace, the headers)
    timeline: Timeline = field(default_factory=Timeline)
    earlier: Usage = field(default_factory=Usage)  # the model calls before the last one

    def spent(self, usage: Usage) -> None:
        """Count a model call the loop goes on from (its tools ran: the model is called again)."""
        self.earlier = Usage(
            self.earlier.prompt_tokens + usage.prompt_tokens,
            self.earlier.completion_tokens + usage.completion_tokens,
        )

    def request(self) -> CompletionRequest:
        """The next model call: the prepared request and the steps taken since."""
        if not self.steps:
            return self.turn.request
        messages = [*self.turn.request.messages, *self.steps]
        return replace(self.turn.request, messages=messages)
