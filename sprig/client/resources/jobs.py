"""``client.jobs``: the status of background jobs (memory formation, summaries, indexing)."""

from __future__ import annotations

from sprig.client._call import Call, path
from sprig.client._methods import AsyncResource, SyncResource, async_method, sync_method
from sprig.client._validation import Id
from sprig.client.types import JobStatus


def job_get(job_id: Id) -> Call[JobStatus]:
    """A job's state (``GET /jobs/{id}``): pending, in_progress, succeeded, failed, ..."""
    return Call("GET", path("/jobs/{}", job_id), JobStatus.model_validate)


class Jobs(SyncResource):
    _label = "jobs"
    get = sync_method(job_get)


class AsyncJobs(AsyncResource):
    _label = "jobs"
    get = async_method(job_get)
