"""``GET /metrics``: Prometheus' text format; open unless ``metrics_require_key``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import Response

from sprig.server.api.deps import RuntimeDep, current_developer
from sprig.server.errors import NotFoundError
from sprig.server.ids import utcnow
from sprig.server.observability import metrics
from sprig.server.store import tables

router = APIRouter(tags=["observability"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    include_in_schema=False,
)
async def prometheus_metrics(request: Request, runtime: RuntimeDep) -> Response:
    settings = runtime.settings
    if not settings.metrics:
        raise NotFoundError("Metrics are off (SPRIG_METRICS=false)")
    if settings.metrics_require_key:
        await current_developer(request, runtime)
    async with runtime.db.read() as conn:
        counts, oldest = await _jobs(conn)
    metrics.set_jobs(counts, oldest)
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)


async def _jobs(conn: Any) -> tuple[dict[tuple[str, str], int], float]:
    """Jobs by kind and state (every tenant's: an operator's view), and the oldest pending
    job's age."""
    j = tables.jobs
    stmt = sa.select(j.c.kind, j.c.state, sa.func.count()).group_by(j.c.kind, j.c.state)
    counts = {(str(k), str(s)): int(n) for k, s, n in await conn.execute(stmt)}
    first = sa.select(sa.func.min(j.c.created_at)).where(j.c.state == "pending")
    oldest: datetime | None = (await conn.execute(first)).scalar()
    return counts, (utcnow() - oldest).total_seconds() if oldest else 0.0
