"""The async SDK against the real server in process (ASGI): every manager method, once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from sprig import (
    Agent,
    AgentNotFoundError,
    AsyncClient,
    AsyncJulepApi,
    BadRequestError,
    ChatResponse,
    DocNotFoundError,
    JobNotFoundError,
    NotFoundError,
    PermissionDeniedError,
    SessionNotFoundError,
    UnprocessableEntityError,
)
from sprig.client.params import FunctionDefParam
from sprig.server.auth.keys import authenticate
from sprig.server.jobs.service import enqueue
from sprig.server.models.scripted import ScriptedModel
from sprig.server.runtime import Runtime
from tests.helpers.sdk import Spy, public_calls

FN: FunctionDefParam = {
    "name": "get_weather",
    "description": "Weather",
    "parameters": {"type": "object"},
}
MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        yield client


@pytest.fixture
def sdk(http: httpx.AsyncClient, api_key: str) -> AsyncClient:
    return AsyncClient(api_key=api_key, base_url="http://sprig.test/api", httpx_client=http)


async def agents_and_users(c: Any) -> tuple[Agent, Any]:
    agent = await c.agents.create(
        "Ada",
        about="a helpful agent",
        instructions=["be brief"],
        tools=[{"type": "function", "function": FN}],
        docs=[{"title": "inline", "content": "the inline doc"}],
        metadata={"team": "blue"},
    )
    assert (await c.agents.get(agent.id)).name == "Ada"
    await c.agents.create("Bob", metadata={"team": "red"})
    blue = await c.agents.list(metadata_filter={"team": "blue"})
    assert [a.id for a in blue] == [agent.id]
    every = [a.name async for a in (await c.agents.list(limit=1, order="asc")).auto_paging_iter()]
    assert every == ["Ada", "Bob"]
    assert (await c.agents.update(agent.id, about="changed")).about == "changed"
    replaced = await c.agents.update(agent.id, name="Ada", about="new", overwrite=True)
    assert replaced.about == "new" and replaced.metadata == {}
    user = await c.users.create(name="Grace", about="a user", metadata={"k": 1})
    assert (await c.users.get(user.id)).name == "Grace"
    assert [u.id for u in await c.users.list()] == [user.id]
    assert (await c.users.update(user.id, about="b")).about == "b"
    return agent, user


async def tools_and_docs(c: Any, agent: Agent, user: Any) -> None:
    (inline,) = await c.tools.get(agent.id)
    assert inline.function.name == "get_weather"
    tool = await c.tools.create(agent.id, type="function", function={**FN, "name": "second"})
    assert {t.name for t in await c.tools.list(agent.id, order="asc")} == {"get_weather", "second"}
    assert (await c.tools.update(agent.id, tool.id, {**FN, "name": "third"})).name == "third"
    assert (await c.tools.delete(agent.id, tool.id)).id == tool.id
    doc = await c.docs.create(
        agent_id=agent.id, doc={"title": "Paris", "content": "Paris is in France"}
    )
    await c.docs.create(
        user_id=user.id, title="Rome", content=["Rome", "is in Italy"], metadata={"k": "v"}
    )
    assert (await c.docs.get(doc.id)).title == "Paris"
    assert {d.title for d in await c.docs.list(agent_id=agent.id)} == {"Paris", "inline"}
    assert [d.title for d in await c.docs.list(user_id=user.id, metadata_filter={"k": "v"})] == [
        "Rome"
    ]
    found = await c.docs.search(agent_id=agent.id, text="France")
    assert found.docs[0].id == doc.id
    assert (await c.docs.delete(doc.id, agent_id=agent.id)).id == doc.id
    with pytest.raises(DocNotFoundError):
        await c.docs.get(doc.id)
    gone = await c.docs.bulk_delete(user_id=user.id, metadata_filter={"k": "v"})
    assert len(gone) == 1


async def session_flow(c: Any, agent: Agent, user: Any, model: ScriptedModel) -> None:
    session = await c.sessions.create(
        agent_id=agent.id, user_id=user.id, situation="tea", recall_options={"mode": "text"}
    )
    assert session.agent_id == agent.id and session.user_id == user.id
    assert (await c.sessions.get(session.id)).situation == "tea"
    assert [s.id for s in await c.sessions.list(agent_id=agent.id)] == [session.id]
    assert (await c.sessions.update(session.id, situation="coffee")).situation == "coffee"
    sdoc = await c.sessions.docs.create(session.id, title="memo", content="session note")
    assert [d.id for d in await c.sessions.docs.list(session.id)] == [sdoc.id]
    assert (await c.sessions.docs.search(session.id, text="note")).docs[0].id == sdoc.id
    assert (await c.sessions.docs.delete(session.id, sdoc.id)).id == sdoc.id
    model.push("Hello Grace!", "Second answer")
    reply = await c.sessions.chat(session.id, [{"role": "user", "content": "Hi"}], max_tokens=50)
    assert isinstance(reply, ChatResponse) and reply.text == "Hello Grace!"
    stream = await c.sessions.chat(session.id, [{"role": "user", "content": "Again"}], stream=True)
    async with stream:
        assert "".join([chunk.text async for chunk in stream]) == "Second answer"
    traces = list(await c.sessions.traces(session.id))
    assert len(traces) == 2 and traces[1].id == reply.id and traces[1].prompt is None
    trace = await c.sessions.trace(session.id, reply.id)
    assert trace.model == "scripted" and "model" in [p.name for p in trace.phases]
    assert trace.prompt is not None and trace.prompt["messages"][-1]["content"] == "Hi"
    history = await c.sessions.history(session.id)
    contents = [e.content for e in history.entries]
    assert contents == ["Hi", "Hello Grace!", "Again", "Second answer"]
    assert history.items[1].content == "Hello Grace!"
    assert len((await c.sessions.history(session.id, limit=2)).entries) == 2
    assert list(await c.sessions.suggestions(session.id)) == []  # none asked for
    await c.sessions.clear(session.id)
    assert (await c.sessions.history(session.id)).entries == []
    await c.sessions.delete_history(session.id)
    assert (await c.sessions.delete(session.id)).id == session.id
    with pytest.raises(SessionNotFoundError):
        await c.sessions.chat(session.id, [{"role": "user", "content": "x"}])


async def test_every_client_method_against_the_server(
    sdk: AsyncClient, model: ScriptedModel, runtime: Runtime, api_key: str
) -> None:
    c = Spy(sdk)
    agent, user = await agents_and_users(c)
    await tools_and_docs(c, agent, user)
    await session_flow(c, agent, user, model)
    assert list(await c.memories.list(agent.id, query="tea", user_id=user.id)) == []
    with pytest.raises(NotFoundError):
        await c.memories.delete(agent.id, MISSING)
    developer = await authenticate(runtime.db, api_key, runtime.key_cache)
    assert developer is not None
    async with runtime.db.write() as conn:
        job = await enqueue(conn, developer, "noop", {}, name="probe")
    assert (await c.jobs.get(job["id"])).name == "probe"
    with pytest.raises(JobNotFoundError):
        await c.jobs.get(MISSING)
    assert (await c.users.delete(user.id)).id == user.id
    assert (await c.agents.delete(agent.id)).id == agent.id
    with pytest.raises(AgentNotFoundError):
        await c.agents.get(agent.id)
    assert public_calls(sdk) - c.calls == set()


async def test_server_errors_map_to_sdk_errors(sdk: AsyncClient, http: httpx.AsyncClient) -> None:
    agent = await sdk.agents.create("E")
    with pytest.raises(UnprocessableEntityError):
        await sdk.agents.list(limit=10**6)
    with pytest.raises(BadRequestError):
        await sdk.tools.create(agent.id, type="teleporter", name="t")
    bad = AsyncClient(api_key="wrong", base_url="http://sprig.test", httpx_client=http)
    with pytest.raises(PermissionDeniedError) as caught:
        await bad.agents.list()
    assert caught.value.response.headers["x-should-retry"] == "false"


async def test_flat_async_client(
    http: httpx.AsyncClient, api_key: str, model: ScriptedModel
) -> None:
    api = AsyncJulepApi(api_key=api_key, base_url="http://sprig.test", httpx_client=http)
    created = await api.create_agent(name="Flat", about="x")
    assert created.id and (await api.get_agent(created.id)).name == "Flat"
    session = await api.create_session(agent_id=created.id)
    model.push("pong")
    reply = await api.chat(session.id, messages=[{"role": "user", "content": "ping"}])
    assert reply.response is not None and reply.response[0][0].content == "pong"
    assert [i.content for i in (await api.get_history(session.id)).items] == ["ping", "pong"]
    await api.delete_agent(created.id)
