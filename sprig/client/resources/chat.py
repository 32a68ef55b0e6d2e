"""Chat: one turn of a session, as a whole answer or a stream of chunks.

Every chat setting may be passed as a keyword or nested in ``settings={...}``; giving the
same setting both ways with different values is an error. ``stream=True`` returns a
`ChatStream` (`AsyncChatStream`) instead of a `ChatResponse`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, ClassVar, Literal, overload

from pydantic import BeforeValidator, Field
from typing_extensions import Unpack

from sprig.client._base import AsyncTransport, SyncTransport
from sprig.client._call import Call, compact, jsonable, path
from sprig.client._validation import Id, checked
from sprig.client.errors import ArgumentValueError
from sprig.client.params import ChatSettings, MessageParam
from sprig.client.streaming import AsyncChatStream, ChatStream
from sprig.client.types import ChatResponse, InputChatMlMessage

Messages = Sequence[InputChatMlMessage | MessageParam]


def _as_dict(message: Any) -> Any:
    return jsonable(message) if isinstance(message, InputChatMlMessage) else message


_CheckedMessages = Annotated[
    list[Annotated[MessageParam, BeforeValidator(_as_dict)]], Field(min_length=1)
]


def chat_call(
    session_id: Id,
    messages: _CheckedMessages,
    *,
    stream: bool = False,
    settings: ChatSettings | None = None,
    **kwargs: Unpack[ChatSettings],
) -> Call[ChatResponse]:
    """``POST /sessions/{id}/chat``: the new messages, the settings, maybe ``stream``."""
    merged = merge_settings(settings or {}, kwargs)
    body = compact(messages=[jsonable(m) for m in messages], **merged)
    if stream:
        body["stream"] = True
    return Call(
        "POST", path("/sessions/{}/chat", session_id), ChatResponse.model_validate, json=body
    )


def merge_settings(nested: ChatSettings, flat: ChatSettings) -> dict[str, Any]:
    merged = {k: v for k, v in nested.items() if v is not None}
    for key, value in flat.items():
        if value is None:
            continue
        if key in merged and merged[key] != value:
            raise ArgumentValueError(f"{key!r} given twice with different values")
        merged[key] = value
    return merged


_checked: dict[str, Any] = {}


def checked_chat(label: str) -> Any:
    """`chat_call` with its arguments validated, errors naming ``label`` (built once)."""
    if label not in _checked:
        _checked[label] = checked(chat_call, label)
    return _checked[label]


class SyncChat:
    """The ``chat`` method, for `Sessions` and `JulepApi`."""

    _transport: SyncTransport
    _chat_label: ClassVar[str] = "sessions.chat"

    @overload
    def chat(
        self,
        session_id: Id,
        messages: Messages,
        *,
        stream: Literal[False] = False,
        settings: ChatSettings | None = None,
        **kwargs: Unpack[ChatSettings],
    ) -> ChatResponse: ...
    @overload
    def chat(
        self,
        session_id: Id,
        messages: Messages,
        *,
        stream: Literal[True],
        settings: ChatSettings | None = None,
        **kwargs: Unpack[ChatSettings],
    ) -> ChatStream: ...
    @overload
    def chat(
        self,
        session_id: Id,
        messages: Messages,
        *,
        stream: bool,
        settings: ChatSettings | None = None,
        **kwargs: Unpack[ChatSettings],
    ) -> ChatResponse | ChatStream: ...
    def chat(
        self,
        session_id: Id,
        messages: Messages,
        *,
        stream: bool = False,
        settings: ChatSettings | None = None,
        **kwargs: Unpack[ChatSettings],
    ) -> ChatResponse | ChatStream:
        """One chat turn; with ``stream=True``, a stream of chunks (iterate it, or use it in a
        ``with`` block; it always closes the connection)."""
        call: Call[ChatResponse] = checked_chat(self._chat_label)(
            session_id, messages, stream=stream, settings=settings, **kwargs
        )
        if stream:
            return ChatStream(self._transport.send(call, stream=True))
        return self._transport.run(call)


class AsyncChat:
    """The async ``chat`` method, for `AsyncSessions` and `AsyncJulepApi`."""

    _transport: AsyncTransport
    _chat_label: ClassVar[str] = "sessions.chat"

    @overload
    async def chat(
        self,
        session_id: Id,
        messages: Messages,
        *,
        stream: Literal[False] = False,
        settings: ChatSettings | None = None,
        **kwargs: Unpack[ChatSettings],
    ) -> ChatResponse: ...
    @overload
    async def chat(
        self,
        session_id: Id,
        messages: Messages,
        *,
        stream: Literal[True],
        settings: ChatSettings | None = None,
        **kwargs: Unpack[ChatSettings],
    ) -> AsyncChatStream: ...
    @overload
    async def chat(
        self,
        session_id: Id,
        messages: Messages,
        *,
        stream: bool,
        settings: ChatSettings | None = None,
        **kwargs: Unpack[ChatSettings],
    ) -> ChatResponse | AsyncChatStream: ...
    async def chat(
        self,
        session_id: Id,
        messages: Messages,
        *,
        stream: bool = False,
        settings: ChatSettings | None = None,
        **kwargs: Unpack[ChatSettings],
    ) -> ChatResponse | AsyncChatStream:
        """One chat turn; with ``stream=True``, a stream of chunks (iterate it, or use it in a
        ``with`` block; it always closes the connection)."""
        call: Call[ChatResponse] = checked_chat(self._chat_label)(
            session_id, messages, stream=stream, settings=settings, **kwargs
        )
        if stream:
            return AsyncChatStream(await self._transport.send(call, stream=True))
        return await self._transport.run(call)
