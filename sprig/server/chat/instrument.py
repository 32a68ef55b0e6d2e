"""A chat turn as observability sees it: GenAI span attributes and the turn's metrics.

Spans (when tracing is on): ``invoke_agent {agent}`` for the turn, ``chat {model}`` for
each model call, with the OpenTelemetry GenAI semantic conventions' attributes; message
contents only with ``otel_capture_content``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from uuid import UUID

from sprig.server.models.base import Completion, CompletionRequest
from sprig.server.observability import metrics, timeline, tracing

if TYPE_CHECKING:
    from sprig.server.chat.service import ChatResult
    from sprig.server.chat.turn import PreparedTurn, TurnRun

AGENT_SPAN = "invoke_agent"
_SAMPLING = {
    "temperature": "gen_ai.request.temperature",
    "top_p": "gen_ai.request.top_p",
    "max_tokens": "gen_ai.request.max_tokens",
    "frequency_penalty": "gen_ai.request.frequency_penalty",
    "presence_penalty": "gen_ai.request.presence_penalty",
    "seed": "gen_ai.request.seed",
    "stop": "gen_ai.request.stop_sequences",
}


def agent_started(span: Any, turn: PreparedTurn) -> None:
    """The turn's agent and conversation, once it is prepared."""
    if span is None:
        return
    span.update_name(f"{AGENT_SPAN} {turn.agent['name']}")
    session = turn.session
    tracing.set_attributes(
        span,
        {
            "gen_ai.operation.name": AGENT_SPAN,
            "gen_ai.agent.id": turn.agent["id"],
            "gen_ai.agent.name": turn.agent["name"],
            "gen_ai.conversation.id": None if session.get("transient") else session["id"],
            "gen_ai.request.model": turn.model.name,
        },
    )


def agent_finished(span: Any, result: ChatResult) -> None:
    tracing.set_attributes(
        span,
        {
            "gen_ai.usage.input_tokens": result.usage.prompt_tokens,
            "gen_ai.usage.output_tokens": result.usage.completion_tokens,
            "gen_ai.response.finish_reasons": [result.finish_reason],
            "gen_ai.response.id": str(result.id),
        },
    )


@contextlib.contextmanager
def model_call(run: TurnRun, request: CompletionRequest) -> Iterator[Any]:
    """A model call: timed as ``model`` and, traced, a CLIENT ``chat {model}`` span."""
    name = run.turn.model.name
    with timeline.phase(
        timeline.MODEL, f"chat {name}", _request_attributes(name, request), detail=name,
        kind="CLIENT",
    ) as span:  # fmt: skip
        if span is not None:
            tracing.set_content(span, "gen_ai.input.messages", _messages(request))
        yield span


def _request_attributes(model: str, request: CompletionRequest) -> dict[str, Any]:
    sampling = request.sampling.as_dict()
    attributes: dict[str, Any] = {"gen_ai.operation.name": "chat", "gen_ai.request.model": model}
    attributes.update({key: sampling[k] for k, key in _SAMPLING.items() if k in sampling})
    if request.response_format:
        attributes["gen_ai.output.type"] = "json"
    return attributes


def _messages(request: CompletionRequest) -> list[dict[str, Any]]:
    return [m.to_openai() for m in request.messages]


def model_answered(span: Any, model: str, completion: Completion) -> None:
    if span is None:
        return
    usage = completion.usage
    tracing.set_attributes(
        span,
        {
            "gen_ai.response.model": model,
            "gen_ai.response.finish_reasons": [completion.finish_reason],
            "gen_ai.usage.input_tokens": usage.prompt_tokens or None,
            "gen_ai.usage.output_tokens": usage.completion_tokens or None,
        },
    )
    output: dict[str, Any] = {"role": "assistant", "content": completion.content}
    if completion.tool_calls:
        output["tool_calls"] = [c.to_openai() for c in completion.tool_calls]
    tracing.set_content(span, "gen_ai.output.messages", [output])


class FirstToken:
    """Records a streamed call's time to its first token (content or a tool call)."""

    def __init__(self, run: TurnRun) -> None:
        self.timeline = run.timeline
        self.began = time.perf_counter()
        self.seen = False

    def saw(self) -> None:
        if not self.seen:
            self.seen = True
            self.timeline.add(timeline.TTFT, self.began)


def observe(run: TurnRun, outcome: str) -> None:
    """The turn's metrics: its outcome, whole time and each phase's."""
    line = run.timeline
    metrics.observe_turn(run.turn.model.name, outcome, line.elapsed(), line.sums())


def count_tokens(run: TurnRun, developer_id: UUID, result: ChatResult) -> None:
    metrics.count_tokens(run.turn.model.name, developer_id, *result.usage.as_pair())
