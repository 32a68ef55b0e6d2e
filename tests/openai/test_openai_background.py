"""Background responses: queued at once, run by a job, polled, cancelled. The worker is
driven by hand here (no in-process worker), so every state is seen."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sprig.server.errors import UpstreamError
from sprig.server.models.scripted import ScriptedModel
from sprig.server.runtime import Runtime
from tests.helpers.app import API_KEY, auth, build_app, make_settings


@pytest.fixture
async def app(tmp_path: Path, model: ScriptedModel) -> AsyncIterator[Any]:
    application = build_app(make_settings(tmp_path / "data", in_process_worker=False), model)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def api(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://sprig.test", headers=auth(API_KEY)
    ) as c:
        r = await c.post("/agents", json={"name": "Later", "model": "scripted"})
        assert r.status_code == 201
        yield c


async def test_a_background_response_runs_as_a_job(
    api: httpx.AsyncClient, app: Any, model: ScriptedModel
) -> None:
    runtime: Runtime = app.state.runtime
    model.push("Done in the background.")
    body = {"model": "Later", "input": "Take your time.", "background": True}
    queued = (await api.post("/v1/responses", json=body)).json()
    assert (queued["status"], queued["background"], queued["output"]) == ("queued", True, [])
    assert (await api.get(f"/v1/responses/{queued['id']}")).json()["status"] == "queued"
    assert model.requests == []  # nothing ran yet
    assert await runtime.worker.run_once()
    done = (await api.get(f"/v1/responses/{queued['id']}")).json()
    assert done["status"] == "completed"
    assert done["output"][0]["content"][0]["text"] == "Done in the background."
    cancel = await api.post(f"/v1/responses/{queued['id']}/cancel")
    assert cancel.json()["status"] == "completed"  # finished: nothing to cancel


async def test_a_cancelled_background_response_never_runs(
    api: httpx.AsyncClient, app: Any, model: ScriptedModel
) -> None:
    runtime: Runtime = app.state.runtime
    body = {"model": "Later", "input": "Never mind.", "background": True}
    queued = (await api.post("/v1/responses", json=body)).json()
    cancelled = (await api.post(f"/v1/responses/{queued['id']}/cancel")).json()
    assert cancelled["status"] == "cancelled"
    await runtime.worker.run_once()
    assert model.requests == []
    assert (await api.get(f"/v1/responses/{queued['id']}")).json()["status"] == "cancelled"


async def test_background_needs_store_and_fails_softly(
    api: httpx.AsyncClient, app: Any, model: ScriptedModel
) -> None:
    runtime: Runtime = app.state.runtime
    body = {"model": "Later", "input": "x", "background": True, "store": False}
    r = await api.post("/v1/responses", json=body)
    assert r.status_code == 400 and r.json()["error"]["param"] == "store"
    model.push(UpstreamError("the provider is down"), "Plain.")
    queued = (await api.post("/v1/responses", json={**body, "store": True})).json()
    await runtime.worker.run_once()
    failed = (await api.get(f"/v1/responses/{queued['id']}")).json()
    assert failed["status"] == "failed" and "provider is down" in failed["error"]["message"]
    plain = (await api.post("/v1/responses", json={"model": "Later", "input": "y"})).json()
    r = await api.post(f"/v1/responses/{plain['id']}/cancel")
    assert r.status_code == 400
