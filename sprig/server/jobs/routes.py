"""Background jobs, as their creators follow them: ``/jobs/{id}``, and the tenant's recent
jobs (``GET /jobs``, newest first; the console's jobs view)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel

from sprig.server.api import views
from sprig.server.api.deps import Developer, JobsDep, Limit, Offset
from sprig.server.api.responses import Job, documented
from sprig.server.jobs.service import JobState
from sprig.server.store.crud import ListQuery

router = APIRouter(tags=["jobs"])


class JobList(BaseModel):
    items: list[Job]


@router.get("/jobs", response_model=documented(JobList))
async def list_jobs(
    jobs: JobsDep,
    dev: Developer,
    limit: Limit = 100,
    offset: Offset = 0,
    direction: Literal["asc", "desc"] = "desc",
    state: JobState | None = None,
    kind: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    """The tenant's jobs by creation time (newest first unless ``direction=asc``)."""
    query = ListQuery(limit=limit, offset=offset, direction=direction)
    rows = await jobs.list(dev, query, state=state, kind=kind)
    return {"items": [views.job(r) for r in rows]}


@router.get("/jobs/{job_id}", response_model=documented(Job))
async def get_job(job_id: UUID, jobs: JobsDep, dev: Developer) -> dict[str, Any]:
    return views.job(await jobs.get(dev, job_id))
