"""Background jobs, as their creators follow them: ``/jobs/{id}``."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter

from sprig.server.api import views
from sprig.server.api.deps import Developer, JobsDep
from sprig.server.api.responses import Job, documented

router = APIRouter(tags=["jobs"])


@router.get("/jobs/{job_id}", response_model=documented(Job))
async def get_job(job_id: UUID, jobs: JobsDep, dev: Developer) -> dict[str, Any]:
    return views.job(await jobs.get(dev, job_id))
