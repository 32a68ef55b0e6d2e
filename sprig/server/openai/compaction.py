"""``POST /v1/responses/compact``: a conversation folded into a ``compaction`` item by
Sprig's summariser (the prompt the ``summarize`` overflow policy uses).

The output keeps the user's messages and ends with the compaction item; its
``encrypted_content`` is the summary sealed for the tenant (Fernet under a key derived from
the server secret), opaque to clients and unreadable by another tenant or server. A later
response given that item sees the summary as a system message.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from pydantic import Field, StringConstraints

from sprig.server.api.body import Body
from sprig.server.auth.secret import SecretCipher, SecretDecryptError
from sprig.server.chat.summary import summary_request
from sprig.server.chat.window import summary_prompt
from sprig.server.errors import BadRequestError
from sprig.server.ids import new_id, utcnow
from sprig.server.models.base import ChatModel, Usage
from sprig.server.openai import items as it
from sprig.server.openai import response_store as store
from sprig.server.openai import targets
from sprig.server.openai.schemas import ModelName
from sprig.server.runtime import Runtime
from sprig.server.usage.meter import model_counts

PURPOSE = "sprig/openai-compaction/v1"


class CompactIn(Body):
    model: ModelName
    input: (
        Annotated[str, StringConstraints(min_length=1)]
        | Annotated[list[dict[str, Any]], Field(max_length=10_000)]
        | None
    ) = None
    previous_response_id: Annotated[str, StringConstraints(max_length=80)] | None = None
    instructions: str | None = None


def cipher(runtime: Runtime) -> SecretCipher:
    return runtime.secret.cipher(PURPOSE)


def opener(runtime: Runtime, developer_id: UUID) -> it.Opener:
    """Opens the compaction items of this tenant (a 400 for any other)."""
    sealed = cipher(runtime)

    def open_(token: str) -> str:
        try:
            return str(sealed.open(token, developer_id))
        except SecretDecryptError:
            raise BadRequestError(
                "A compaction item's encrypted_content was not made by this server for you",
                param="input",
            ) from None

    return open_


async def compact(runtime: Runtime, developer_id: UUID, body: CompactIn) -> dict[str, Any]:
    async with runtime.db.read() as conn:
        target = await targets.resolve(conn, developer_id, runtime.models, body.model)
        history: list[it.Item] = []
        if body.previous_response_id:
            previous = store.parse_id(body.previous_response_id, previous=True)
            history, _ = await store.chain_items(conn, developer_id, previous)
    items = history + (it.normalise_input(body.input) if body.input else [])
    if not items:
        raise BadRequestError(
            "Nothing to compact: give `input` or `previous_response_id`", param="input"
        )
    model = _model(runtime, target)
    request = summary_request(summary_prompt(None, it.said(items, opener(runtime, developer_id))))
    summary = (await model.complete(request)).content.strip()
    sealed = cipher(runtime).seal(summary, developer_id)
    kept = [i for i in items if i["type"] == "message" and i["role"] == "user"]
    compaction = {"type": "compaction", "id": it.item_id("cmp"), "encrypted_content": sealed}
    used, made = model.count_message_tokens(request.messages), model.count_tokens(summary)
    counts = model_counts(model, Usage(used, made), turns=0)
    await runtime.usage.meter.record(developer_id, model.name, counts)
    return {
        "id": store.wire_id(new_id()),
        "object": "response.compaction",
        "output": [*kept, compaction],
        "created_at": int(utcnow().timestamp()),
        "usage": {
            "input_tokens": used,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": made,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": used + made,
        },
    }


def _model(runtime: Runtime, target: targets.Target) -> ChatModel:
    if isinstance(target, targets.RawTarget):
        return target.model
    return runtime.models.resolve(target.agent["model"])
