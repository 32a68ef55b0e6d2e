"""`DirectModel`: a hosted model called over the OpenAI chat-completions wire by Sprig itself."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncGenerator, Mapping, Sequence
from functools import cached_property
from typing import Any

import httpx

from sprig.server.models import model_info, tokens
from sprig.server.models.base import (
    ChatMessage,
    Completion,
    CompletionChunk,
    CompletionRequest,
)
from sprig.server.models.config import ModelConfig
from sprig.server.models.hosted_model import HostedModel
from sprig.server.models.openai_compat.endpoints import Endpoint, endpoint_for
from sprig.server.models.openai_compat.transport import (
    Call,
    ProviderHTTPError,
    Transport,
    sse_data,
)
from sprig.server.models.openai_compat.wire import (
    StreamState,
    completion_from_json,
    encode_body,
    extra_sampling_fields,
    finish_reason_of,
    request_fields,
)
from sprig.server.models.provider_errors import (
    BrokenReplyError,
    ProviderContext,
    map_provider_error,
)


class MissingKeyError(Exception):
    """The provider's hosted endpoint needs a key and none is set (it is not called)."""

    def __init__(self) -> None:
        super().__init__("missing credentials")


class DirectModel(HostedModel):
    """A model served by Sprig's own OpenAI-compatible client (see the package docstring)."""

    def __init__(
        self,
        config: ModelConfig,
        transport: Transport | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        found = endpoint_for(config, os.environ if environ is None else environ)
        if found is None:
            raise ValueError(f"model {config.name!r}: no OpenAI-compatible endpoint is known")
        self.name = config.name
        self.config = config
        self.endpoint: Endpoint = found
        self.transport = transport or Transport()
        self._extra = dict(config.params.get("extra_body") or {})
        self._extra.update({k: v for k, v in config.params.items() if k not in _NOT_BODY})

    def __repr__(self) -> str:
        return f"DirectModel(name={self.name!r}, url={self.endpoint.url!r})"

    # -- what the model is ---------------------------------------------------------------
    @cached_property
    def _info(self) -> dict[str, Any] | None:
        return model_info.info(self.config.model_id, self.endpoint.provider)

    @cached_property
    def _count(self) -> tokens.Counter:
        return tokens.counter(tokens.encoding_name(self.endpoint.model))

    def count_tokens(self, text: str) -> int:
        return self._count(text)

    def count_message_tokens(self, messages: Sequence[ChatMessage]) -> int:
        return tokens.count_messages(self._count, messages)

    async def warm_up(self) -> None:
        """Load the tokenizer and the model table off the event loop."""
        await asyncio.to_thread(lambda: (self._count, self._info))

    # -- calls ---------------------------------------------------------------------------
    def _call(self, request: CompletionRequest, *, stream: bool) -> Call:
        if self.endpoint.key_required and not self.endpoint.key:
            raise self._error(MissingKeyError())
        fields = request_fields(request, stream=stream)
        fields["model"] = self.endpoint.model
        if self.config.extra_sampling:
            fields.update(extra_sampling_fields(request.sampling))
        fields.update(self._extra)
        return Call(
            self.endpoint.url,
            encode_body(self.endpoint.adapt(fields), request.messages, request.joined),
            self.endpoint.headers(),
            self.config.timeout,
            self.config.max_retries,
        )

    async def complete(self, request: CompletionRequest) -> Completion:
        call = self._call(request, stream=False)
        try:
            done = completion_from_json(await self.transport.post_json(call))
        except (httpx.HTTPError, ProviderHTTPError, BrokenReplyError) as exc:
            raise self._error(exc) from exc
        return self._finished(request, done)

    async def stream(self, request: CompletionRequest) -> AsyncGenerator[CompletionChunk, None]:
        call = self._call(request, stream=True)
        state = StreamState()
        try:
            async with self.transport.stream(call) as response:
                async for data in sse_data(response):
                    if delta := state.absorb(data):
                        yield CompletionChunk(content=delta)
        except (httpx.HTTPError, ProviderHTTPError, BrokenReplyError) as exc:
            raise self._error(_broken(exc, state)) from exc
        if not state.finished:
            raise self._error(BrokenReplyError("the stream ended before the reply did"))
        self._check_json(request, state.text, state.finish_reason)
        calls = state.tools.calls()
        usage = state.usage or self._estimate_usage(request, state.text)
        reason = finish_reason_of(state.finish_reason, bool(calls))
        yield CompletionChunk(tool_calls=calls, finish_reason=reason, usage=usage)

    def _error(self, exc: Exception) -> Exception:
        context = ProviderContext(
            model=self.name,
            provider=self.endpoint.provider,
            timeout=self.config.timeout,
            key_hint=self.endpoint.key_hint,
            secrets=(self.endpoint.key,) if self.endpoint.key else (),
        )
        return map_provider_error(exc, context)


# Keys of a model entry's `params` that are not request body fields.
_NOT_BODY = frozenset({"extra_body", "extra_headers"})


def _broken(exc: Exception, state: StreamState) -> Exception:
    """A transport failure after text arrived is a broken reply, not an unreachable host."""
    lost = isinstance(exc, httpx.TransportError) and not isinstance(exc, httpx.TimeoutException)
    if lost and state.parts:
        return BrokenReplyError("the connection was lost during the reply")
    return exc
