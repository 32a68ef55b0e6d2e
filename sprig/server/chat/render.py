"""Rendering a turn: its inputs, recalled docs and memories → the model request.

No database here: ``render_turn`` only renders the templates (sandboxed), counts tokens and
cuts the loaded history window to what is left of the budget.
"""

from __future__ import annotations

import json
from typing import Any

from sprig.server.chat import templates
from sprig.server.chat.tool_links import link_tool_results
from sprig.server.chat.turn import ChatOptions, Counted, PreparedTurn, Recalled, TurnInputs
from sprig.server.chat.window import ContextOverflowError, trim_window
from sprig.server.models.base import ChatMessage, CompletionRequest, JoinedRun, ToolCall
from sprig.server.store.crud import Row
from sprig.server.tools.spec import normalise_tool_choice, tool_specs

NO_RECALL = Recalled()


async def render_turn(
    inputs: TurnInputs,
    options: ChatOptions,
    renderer: templates.TemplateRenderer,
    recalled: Recalled = NO_RECALL,
) -> PreparedTurn:
    """The request the model gets, its rendered new messages and the window it shows."""
    variables = template_variables(inputs, options.metadata, recalled)
    prompt, messages = await render_prompts(renderer, inputs, options, variables)
    head = _head(prompt, inputs.session)
    # Each new message is tokenised once, here: persisting the turn reuses these counts.
    counts = [inputs.model.count_message_tokens([m]) for m in messages]
    fixed = inputs.model.count_message_tokens(head) + sum(counts)
    if fixed > inputs.budget:
        raise ContextOverflowError(
            f"The system prompt and new messages need {fixed} tokens; "
            f"the token budget is {inputs.budget}"
        )
    window = trim_window(inputs.window, inputs.model, inputs.budget - fixed)
    if window.overflowed and inputs.session["context_overflow"] is None:
        raise ContextOverflowError(
            f"The session history needs more than its token budget ({inputs.budget} tokens). "
            "Set the session's context_overflow to 'truncate', 'summarize' or 'adaptive'."
        )
    history, wire = window.messages()
    linked = link_tool_results(history, messages)
    counts = _recount(inputs, messages, counts, linked)
    messages = linked
    request = _request(inputs, options, head + history + messages)
    if wire is not None:  # the history's wire JSON, joined: the direct gateway sends it as is
        request.joined = JoinedRun(len(head), len(history), wire)
    counted = Counted(counts, fixed + window.tokens)
    return PreparedTurn(inputs, request, messages, window, recalled.docs, counted, recalled)


def _recount(
    inputs: TurnInputs, before: list[ChatMessage], counts: list[int], after: list[ChatMessage]
) -> list[int]:
    """Counts of the linked messages: those linking left alone keep theirs."""
    known = {id(m): n for m, n in zip(before, counts, strict=True)}
    return [known.get(id(m)) or inputs.model.count_message_tokens([m]) for m in after]


def _head(prompt: str, session: Row) -> list[ChatMessage]:
    head = [ChatMessage(role="system", content=prompt)]
    if session["summary"]:
        summary = f"Summary of the earlier conversation: {session['summary']}"
        head.append(ChatMessage(role="system", content=summary))
    return head


def _request(
    inputs: TurnInputs, options: ChatOptions, messages: list[ChatMessage]
) -> CompletionRequest:
    specs = tool_specs(inputs.tools) if inputs.model.capabilities.tools else []
    names = [d.name for d in inputs.tools]
    choice = normalise_tool_choice(options.tool_choice, names) if specs else None
    return CompletionRequest(
        messages=messages,
        sampling=inputs.sampling,
        response_format=options.response_format,
        tools=specs,
        tool_choice=choice,
    )


def _person(row: Row) -> dict[str, Any]:
    keys = ("id", "name", "about", "metadata", "instructions", "model")
    return {k: (str(row[k]) if k == "id" else row[k]) for k in keys if k in row}


def template_variables(
    inputs: TurnInputs, metadata: dict[str, Any], recalled: Recalled
) -> dict[str, Any]:
    session, users = inputs.session, inputs.users
    return {
        "agent": _agent_variables(inputs.agent),
        "agents": [_person(a) for a in inputs.agents],
        "user": _person(users[0]) if users else None,
        "users": [_person(u) for u in users],
        "session": {
            "id": str(session["id"]),
            "situation": session["situation"],
            "metadata": session["metadata"],
        },
        "situation": session["situation"],
        "metadata": {**(session["metadata"] or {}), **metadata},
        "docs": [_doc_variables(d) for d in recalled.docs],
        "memories": [_memory_variables(m) for m in recalled.memories],
    }


def _agent_variables(agent: Row) -> dict[str, Any]:
    instructions = agent["instructions"]
    listed = [instructions] if isinstance(instructions, str) else instructions
    return {**_person(agent), "instructions": listed}


def _doc_variables(doc: Row) -> dict[str, Any]:
    return {
        "title": doc.get("title"),
        "content": doc.get("content"),
        "metadata": doc.get("metadata"),
    }


def _memory_variables(memory: Row) -> dict[str, Any]:
    keys = ("type", "timestamp")
    return {"content": memory["content"], **{k: memory.get(k) for k in keys}}


def system_source(session: Row, agent: Row) -> str:
    return str(
        session["system_template"]
        or agent["default_system_template"]
        or templates.DEFAULT_SYSTEM_TEMPLATE
    )


async def render_prompts(
    renderer: templates.TemplateRenderer,
    inputs: TurnInputs,
    options: ChatOptions,
    variables: dict[str, Any],
) -> tuple[str, list[ChatMessage]]:
    """The system prompt and the request's messages, their templates rendered in one go
    (system and assistant text of the request when ``render_templates``; never user text)."""
    session = inputs.session
    picked = [
        i
        for i, m in enumerate(options.messages)
        if session["render_templates"]
        and m["role"] in ("system", "assistant")
        and isinstance(m.get("content"), str)
    ]
    sources = [
        system_source(session, inputs.agent),
        *(options.messages[i]["content"] for i in picked),
    ]
    texts = await renderer.render(sources, variables)
    return texts[0].strip(), input_messages(options, dict(zip(picked, texts[1:], strict=True)))


def input_messages(options: ChatOptions, rendered: dict[int, str]) -> list[ChatMessage]:
    """The request's messages as model messages; ``rendered`` replaces some contents."""
    return [
        _input_message(m, rendered.get(i, m.get("content"))) for i, m in enumerate(options.messages)
    ]


def _input_message(message: dict[str, Any], content: Any) -> ChatMessage:
    return ChatMessage(
        role=message["role"],
        content=_model_content(content),
        name=message.get("name"),
        tool_call_id=message.get("tool_call_id"),
        tool_calls=[_tool_call(c) for c in message.get("tool_calls") or []],
    )


def _model_content(content: Any) -> str | list[dict[str, Any]]:
    if content is None:
        return ""
    if isinstance(content, list) and all(isinstance(p, str) for p in content):
        return "\n".join(content)
    return content  # type: ignore[no-any-return]


def _tool_call(raw: dict[str, Any]) -> ToolCall:
    fn = raw.get("function") or {}
    args = fn.get("arguments", raw.get("arguments", "{}"))
    return ToolCall(
        id=str(raw.get("id") or ""),
        name=str(fn.get("name") or raw.get("name") or ""),
        arguments=args if isinstance(args, str) else json.dumps(args),
    )
