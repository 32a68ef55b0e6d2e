"""``GET /usage``: the caller's usage by day or model, with its limits."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from sprig.server.api.deps import Developer, RuntimeDep
from sprig.server.api.responses import documented
from sprig.server.usage.quotas import utc_day
from sprig.server.usage.service import period

router = APIRouter(tags=["usage"])


class UsageCounts(BaseModel):
    tokens_in: int = Field(description="Prompt tokens of model calls")
    tokens_out: int = Field(description="Completion tokens of model calls")
    turns: int = Field(description="Chat turns (Julep chat, OpenAI chat completions, responses)")
    tool_calls: int = Field(description="Tool calls the server ran")
    embedded_chunks: int = Field(description="Document chunks and `/v1/embeddings` inputs embedded")
    cost: float | None = Field(
        description="Estimated USD from LiteLLM's price table (local models: 0); null when "
        "no model counted here has a known price"
    )


class UsageRow(UsageCounts):
    day: str | None = Field(description="The UTC day (`group_by=day`; else null)")
    model: str | None = Field(description="The model (`group_by=model`; else null)")


class UsageLimits(BaseModel):
    """The tenant's limits (null: none), set by the operator with `sprig keys limits`."""

    requests_per_minute: int | None
    tokens_per_minute: int | None
    tokens_per_day: int | None
    cost_per_month: float | None
    concurrent_streams: int | None


class UsageReport(BaseModel):
    from_: str = Field(alias="from", description="First UTC day counted")
    to: str = Field(description="Last UTC day counted")
    group_by: Literal["day", "model"]
    data: list[UsageRow] = Field(description="One row per day or model that has usage")
    total: UsageCounts
    limits: UsageLimits


FROM = "First UTC day (YYYY-MM-DD); default: the 1st of the month of `to`"


@router.get("/usage", response_model=documented(UsageReport))
async def get_usage(
    runtime: RuntimeDep,
    dev: Developer,
    from_: Annotated[date | None, Query(alias="from", description=FROM)] = None,
    to: Annotated[date | None, Query(description="Last UTC day, included; default: today")] = None,
    group_by: Literal["day", "model"] = "day",
) -> dict[str, Any]:
    """What the caller's tenant used per UTC day or per model: tokens in and out, chat
    turns, server-run tool calls, embedded chunks and the estimated cost."""
    start, end = period(from_, to, utc_day(runtime.quotas.clock()))
    return await runtime.usage.report(dev, start, end, group_by)
