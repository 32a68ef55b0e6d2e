"""Chat: one turn of a session, as a whole answer or a stream of chunks.

Two operations describe the call, one per documented signature: `session_chat` here for
``client.sessions.chat`` (the Julep SDK managers' parameters and order) and ``chat`` in
`flat_ops` for ``JulepApi.chat`` (the Julep API client's). Both build the same request with
`chat_call`. Every chat setting is a keyword; settings may also come nested in
``settings={...}``, and giving the same setting both ways with different values is an error.
``stream=True`` makes the method return a `ChatStream` (`AsyncChatStream`) instead of a
`ChatResponse`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BeforeValidator, Field

from sprig.client._call import Call, compact, jsonable, path
from sprig.client._validation import Id
from sprig.client.errors import ArgumentValueError
from sprig.client.params import (
    ChatSettings,
    LogitBias,
    MaxTokens,
    MessageParam,
    Metadata,
    Penalty,
    Preset,
    ResponseFormatParam,
    Scale,
    Seed,
    Stop,
    Temperature,
    ToolChoiceParam,
    ToolParam,
    Unit,
)
from sprig.client.types import ChatResponse, InputChatMlMessage


def _as_dict(message: Any) -> Any:
    return jsonable(message) if isinstance(message, InputChatMlMessage) else message


if TYPE_CHECKING:
    Messages = Sequence[InputChatMlMessage | MessageParam]
else:  # checked as dicts at run time; `InputChatMlMessage` objects become dicts first
    Messages = Annotated[
        list[Annotated[MessageParam, BeforeValidator(_as_dict)]], Field(min_length=1)
    ]

_NOT_SETTINGS = frozenset({"session_id", "messages", "stream", "settings"})


def given_settings(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The settings among a chat operation's arguments (its ``locals()``), unset ones dropped."""
    return {k: v for k, v in arguments.items() if k not in _NOT_SETTINGS and v is not None}


def chat_call(
    session_id: Id,
    messages: Messages,
    stream: bool | None,
    settings: ChatSettings | None,
    given: Mapping[str, Any],
) -> Call[ChatResponse]:
    """``POST /sessions/{id}/chat``: the new messages, the settings, maybe ``stream``."""
    merged = merge_settings(settings or {}, given)
    body = compact(messages=[jsonable(m) for m in messages], **merged)
    if stream:
        body["stream"] = True
    route = path("/sessions/{}/chat", session_id)
    return Call("POST", route, ChatResponse.model_validate, json=body, stream=bool(stream))


def merge_settings(nested: Mapping[str, Any], flat: Mapping[str, Any]) -> dict[str, Any]:
    merged = {k: v for k, v in nested.items() if v is not None}
    for key, value in flat.items():
        if value is None:
            continue
        if key in merged and merged[key] != value:
            raise ArgumentValueError(f"{key!r} given twice with different values")
        merged[key] = value
    return merged


def session_chat(
    session_id: Id,
    messages: Messages,
    tools: list[ToolParam] | None = None,
    tool_choice: ToolChoiceParam | None = None,
    frequency_penalty: Penalty | None = None,
    length_penalty: Scale | None = None,
    logit_bias: LogitBias | None = None,
    max_tokens: MaxTokens | None = None,
    presence_penalty: Penalty | None = None,
    repetition_penalty: Scale | None = None,
    response_format: ResponseFormatParam | None = None,
    seed: Seed | None = None,
    stop: Stop | None = None,
    stream: bool | None = None,
    temperature: Temperature | None = None,
    top_p: Unit | None = None,
    recall: bool | None = None,
    remember: bool | None = None,
    *,
    min_p: Unit | None = None,
    preset: Preset | None = None,
    record: bool | None = None,
    save: bool | None = None,
    recall_tools: bool | None = None,
    auto_run_tools: bool | None = None,
    model: str | None = None,
    agent: Id | None = None,
    metadata: Metadata | None = None,
    settings: ChatSettings | None = None,
) -> Call[ChatResponse]:
    """One chat turn (``POST /sessions/{id}/chat``); ``None`` leaves a setting unsent.

    With ``stream=True``, a stream of chunks: iterate it, or use it in a ``with`` block
    (it always closes the connection). ``settings={...}`` may hold the same settings nested.
    """
    given = given_settings(locals())
    return chat_call(session_id, messages, stream, settings, given)
