"""Turn one operation into a sync method and its async twin.

An operation is a plain function returning a `Call` (or a `ListCall`). Declared in a
resource class body, ``create = sync_method(ops.create)`` gives ``resource.create(...)``
that validates the arguments, runs the call and returns the parsed result; the async
variants return the same, awaited. ``sync_list`` returns a page; ``sync_chat`` returns the
answer, or a chunk stream when the call asks for one (``stream=True``). Signatures and
docstrings come from the operation, so ``help()`` and `inspect.signature` show its
parameters by name, and the twins cannot differ.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Generic, ParamSpec, Protocol, Self, TypeVar, overload

from sprig.client._base import AsyncTransport, SyncTransport
from sprig.client._call import Call, ListCall
from sprig.client._validation import checked
from sprig.client.pagination import AsyncPage, SyncPage
from sprig.client.streaming import AsyncChatStream, ChatStream
from sprig.client.types import ChatResponse

P = ParamSpec("P")
T = TypeVar("T")
X = TypeVar("X")
Op = TypeVar("Op", bound=Callable[..., Any])


class SyncOwner(Protocol):
    _transport: SyncTransport


class AsyncOwner(Protocol):
    _transport: AsyncTransport


class _Method(Generic[Op]):
    """Descriptor base: keeps the operation, its public name and its signatures."""

    page = ""  # the page class a list method returns
    stream_type = ""  # the stream class a chat method may return instead of its result
    __signature__: inspect.Signature

    def __init__(self, op: Op) -> None:
        self.op = op
        self.label = op.__name__
        self.checked: Op = op
        functools.update_wrapper(self, op)

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self.__name__ = name
        self.label = f"{_resource_label(owner)}.{name}"
        self.checked = checked(self.op, self.label)  # type: ignore[assignment]
        signature = self._signature()
        this = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
        self.__signature__ = signature.replace(parameters=[this, *signature.parameters.values()])

    def __call__(self, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        """``Resource.method(resource, ...)``, like a plain function in a class."""
        return self._bound(obj)(*args, **kwargs)

    def _bound(self, obj: Any) -> Callable[..., Any]:
        raise NotImplementedError

    def _signature(self) -> inspect.Signature:
        """The operation's signature, returning what the method returns (not the Call)."""
        signature = inspect.signature(self.op)
        result = _result_annotation(signature.return_annotation, self.page)
        if self.stream_type:
            result = f"{result} | {self.stream_type}"
        return signature.replace(return_annotation=result)

    def _bind(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        functools.update_wrapper(fn, self.op)
        fn.__name__ = self.__name__
        fn.__qualname__ = self.label
        fn.__signature__ = self._signature()  # type: ignore[attr-defined]
        return fn


def _result_annotation(annotation: Any, page: str) -> Any:
    """Call[X] → X and ListCall[X] → <page>[X] (annotations are strings in these modules)."""
    text = str(annotation)
    if text.startswith("ListCall[") and text.endswith("]"):
        return f"{page}[{text[len('ListCall[') : -1]}]"
    if text.startswith("Call[") and text.endswith("]"):
        return text[len("Call[") : -1]
    return annotation


def _resource_label(owner: type[Any]) -> str:
    return str(getattr(owner, "_label", "") or owner.__name__)


class SyncMethod(_Method[Callable[P, Call[T]]]):
    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, obj: SyncOwner, owner: type[Any]) -> Callable[P, T]: ...
    def __get__(self, obj: SyncOwner | None, owner: type[Any]) -> Self | Callable[P, T]:
        return self if obj is None else self._bound(obj)

    def _bound(self, obj: SyncOwner) -> Callable[P, T]:
        op, transport = self.checked, obj._transport

        def method(*args: P.args, **kwargs: P.kwargs) -> T:
            return transport.run(op(*args, **kwargs))

        return self._bind(method)


class AsyncMethod(_Method[Callable[P, Call[T]]]):
    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, obj: AsyncOwner, owner: type[Any]) -> Callable[P, Awaitable[T]]: ...
    def __get__(self, obj: AsyncOwner | None, owner: type[Any]) -> Self | Callable[P, Awaitable[T]]:
        return self if obj is None else self._bound(obj)

    def _bound(self, obj: AsyncOwner) -> Callable[P, Awaitable[T]]:
        op, transport = self.checked, obj._transport

        async def method(*args: P.args, **kwargs: P.kwargs) -> T:
            return await transport.run(op(*args, **kwargs))

        return self._bind(method)


class SyncListMethod(_Method[Callable[P, ListCall[X]]]):
    page = "SyncPage"

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, obj: SyncOwner, owner: type[Any]) -> Callable[P, SyncPage[X]]: ...
    def __get__(self, obj: SyncOwner | None, owner: type[Any]) -> Self | Callable[P, SyncPage[X]]:
        return self if obj is None else self._bound(obj)

    def _bound(self, obj: SyncOwner) -> Callable[P, SyncPage[X]]:
        op, transport = self.checked, obj._transport

        def method(*args: P.args, **kwargs: P.kwargs) -> SyncPage[X]:
            return transport.page(op(*args, **kwargs))

        return self._bind(method)


class AsyncListMethod(_Method[Callable[P, ListCall[X]]]):
    page = "AsyncPage"

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(
        self, obj: AsyncOwner, owner: type[Any]
    ) -> Callable[P, Awaitable[AsyncPage[X]]]: ...
    def __get__(
        self, obj: AsyncOwner | None, owner: type[Any]
    ) -> Self | Callable[P, Awaitable[AsyncPage[X]]]:
        return self if obj is None else self._bound(obj)

    def _bound(self, obj: AsyncOwner) -> Callable[P, Awaitable[AsyncPage[X]]]:
        op, transport = self.checked, obj._transport

        async def method(*args: P.args, **kwargs: P.kwargs) -> AsyncPage[X]:
            return await transport.page(op(*args, **kwargs))

        return self._bind(method)


class SyncChatMethod(_Method[Callable[P, Call[ChatResponse]]]):
    stream_type = "ChatStream"

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(
        self, obj: SyncOwner, owner: type[Any]
    ) -> Callable[P, ChatResponse | ChatStream]: ...
    def __get__(
        self, obj: SyncOwner | None, owner: type[Any]
    ) -> Self | Callable[P, ChatResponse | ChatStream]:
        return self if obj is None else self._bound(obj)

    def _bound(self, obj: SyncOwner) -> Callable[P, ChatResponse | ChatStream]:
        op, transport = self.checked, obj._transport

        def method(*args: P.args, **kwargs: P.kwargs) -> ChatResponse | ChatStream:
            call = op(*args, **kwargs)
            if call.stream:
                return ChatStream(transport.send(call, stream=True))
            return transport.run(call)

        return self._bind(method)


class AsyncChatMethod(_Method[Callable[P, Call[ChatResponse]]]):
    stream_type = "AsyncChatStream"

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(
        self, obj: AsyncOwner, owner: type[Any]
    ) -> Callable[P, Awaitable[ChatResponse | AsyncChatStream]]: ...
    def __get__(
        self, obj: AsyncOwner | None, owner: type[Any]
    ) -> Self | Callable[P, Awaitable[ChatResponse | AsyncChatStream]]:
        return self if obj is None else self._bound(obj)

    def _bound(self, obj: AsyncOwner) -> Callable[P, Awaitable[ChatResponse | AsyncChatStream]]:
        op, transport = self.checked, obj._transport

        async def method(*args: P.args, **kwargs: P.kwargs) -> ChatResponse | AsyncChatStream:
            call = op(*args, **kwargs)
            if call.stream:
                return AsyncChatStream(await transport.send(call, stream=True))
            return await transport.run(call)

        return self._bind(method)


def sync_method(op: Callable[P, Call[T]]) -> SyncMethod[P, T]:
    return SyncMethod(op)


def async_method(op: Callable[P, Call[T]]) -> AsyncMethod[P, T]:
    return AsyncMethod(op)


def sync_list(op: Callable[P, ListCall[X]]) -> SyncListMethod[P, X]:
    return SyncListMethod(op)


def async_list(op: Callable[P, ListCall[X]]) -> AsyncListMethod[P, X]:
    return AsyncListMethod(op)


def sync_chat(op: Callable[P, Call[ChatResponse]]) -> SyncChatMethod[P]:
    return SyncChatMethod(op)


def async_chat(op: Callable[P, Call[ChatResponse]]) -> AsyncChatMethod[P]:
    return AsyncChatMethod(op)


class SyncResource:
    """Base of sync resources: holds the transport every method runs its calls on."""

    _label = ""

    def __init__(self, transport: SyncTransport) -> None:
        self._transport = transport


class AsyncResource:
    """Base of async resources (twin of `SyncResource`)."""

    _label = ""

    def __init__(self, transport: AsyncTransport) -> None:
        self._transport = transport
