"""The sync SDK against a real uvicorn server: every JulepApi method, and streaming."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from sprig import (
    APIConnectionError,
    ChatStream,
    Client,
    JulepApi,
    NotFoundError,
    ResourceCreatedResponse,
    UserNotFoundError,
)
from sprig.client.params import FunctionDefParam, ToolParam
from sprig.server.models.scripted import ScriptedModel
from tests.helpers.sdk import Spy, public_calls

FN: FunctionDefParam = {
    "name": "lookup",
    "description": "Look up",
    "parameters": {"type": "object"},
}
MISSING = "00000000-0000-4000-8000-000000000000"


def agent_calls(api: JulepApi) -> str:
    created = api.create_agent(
        name="Ada", about="x", tools=[{"type": "function", "function": FN}], metadata={"m": 1}
    )
    assert isinstance(created, ResourceCreatedResponse) and created.created_at is not None
    assert api.get_agent(created.id).name == "Ada"
    assert [a.id for a in api.list_agents(metadata_filter={"m": 1}, order="asc")] == [created.id]
    assert api.update_agent(created.id, about="y", name="Ada2").updated_at is not None
    api.patch_agent(created.id, instructions="be kind")
    agent = api.get_agent(created.id)
    assert (agent.name, agent.about, agent.instructions) == ("Ada2", "y", "be kind")
    return created.id


def user_calls(api: JulepApi) -> str:
    user = api.create_user(name="Grace", about="u")
    assert api.get_user(user.id).name == "Grace"
    assert [u.id for u in api.list_users()] == [user.id]
    api.update_user(user.id, about="v", name="G")
    api.patch_user(user.id, metadata={"x": True})
    got = api.get_user(user.id)
    assert (got.name, got.about, got.metadata) == ("G", "v", {"x": True})
    return user.id


def doc_and_tool_calls(api: JulepApi, agent_id: str, user_id: str) -> None:
    adoc = api.create_agent_doc(agent_id, request={"title": "A", "content": "agent doc"})
    udoc = api.create_user_doc(user_id, request={"title": "U", "content": ["user", "doc"]})
    assert [d.id for d in api.get_agent_docs(agent_id)] == [adoc.id]
    assert [d.content for d in api.get_user_docs(user_id)] == [["user", "doc"]]
    api.delete_agent_doc(agent_id, adoc.id)
    api.delete_user_doc(user_id, udoc.id)
    assert api.get_agent_docs(agent_id) == []
    (inline,) = api.get_agent_tools(agent_id)
    t2: ToolParam = {"type": "function", "function": {**FN, "name": "t2"}}
    tool = api.create_agent_tool(agent_id, request=t2)
    api.update_agent_tool(agent_id, tool.id, function={**FN, "name": "t3"})
    api.patch_agent_tool(agent_id, tool.id, function={"name": "t4", "description": "d"})
    names = sorted(str(t.function.name) for t in api.get_agent_tools(agent_id) if t.function)
    assert names == ["lookup", "t4"]
    api.delete_agent_tool(agent_id, tool.id)
    assert [t.id for t in api.get_agent_tools(agent_id)] == [inline.id]


def session_calls(api: JulepApi, agent_id: str, user_id: str, model: ScriptedModel) -> None:
    session = api.create_session(agent_id=agent_id, user_id=user_id, situation="s1")
    assert api.get_session(session.id).situation == "s1"
    assert [s.id for s in api.list_sessions()] == [session.id]
    api.update_session(session.id, situation="s2", token_budget=500)
    api.patch_session(session.id, context_overflow="truncate")
    got = api.get_session(session.id)
    assert (got.situation, got.token_budget, got.context_overflow) == ("s2", 500, "truncate")
    model.push("Hi there")
    reply = api.chat(session.id, messages=[{"role": "user", "content": "Hello"}], remember=False)
    assert reply.text == "Hi there" and reply.usage is not None
    assert [m.content for m in api.get_history(session.id, limit=10).items] == ["Hello", "Hi there"]
    assert list(api.get_suggestions(session.id, limit=5)) == []
    api.delete_session_history(session.id)
    assert api.get_history(session.id).items == []
    assert list(api.get_agent_memories(agent_id, query="tea", user_id=user_id)) == []
    with pytest.raises(NotFoundError):
        api.delete_agent_memory(agent_id, MISSING)
    api.delete_session(session.id)


def test_every_julep_api_method_against_a_live_server(
    live_url: str, api_key: str, model: ScriptedModel
) -> None:
    with JulepApi(api_key=api_key, base_url=live_url + "/api") as raw:
        api = Spy(raw)
        agent_id = agent_calls(api)  # type: ignore[arg-type]
        user_id = user_calls(api)  # type: ignore[arg-type]
        doc_and_tool_calls(api, agent_id, user_id)  # type: ignore[arg-type]
        session_calls(api, agent_id, user_id, model)  # type: ignore[arg-type]
        with pytest.raises(NotFoundError):
            api.get_job_status(MISSING)
        api.delete_user(user_id)
        api.delete_agent(agent_id)
        with pytest.raises(UserNotFoundError):
            api.get_user(user_id)
        assert public_calls(raw) - api.calls == set()


def test_every_documented_chat_parameter_reaches_the_model(
    live_url: str, api_key: str, model: ScriptedModel
) -> None:
    """Julep's chat parameters, by position (managers) and by keyword (JulepApi), work."""
    tool: ToolParam = {"type": "function", "function": FN}
    settings = {
        "frequency_penalty": 0.5,
        "length_penalty": 1.5,
        "logit_bias": {"50256": -100.0},
        "max_tokens": 20,
        "presence_penalty": -0.5,
        "repetition_penalty": 1.1,
        "seed": 7,
        "stop": ["\n"],
        "temperature": 0.3,
        "top_p": 0.9,
    }
    client = Client(api_key=api_key, base_url=live_url)
    session = client.sessions.create(agent_id=client.agents.create("Knobs").id)
    model.push('{"ok": true}', '{"ok": true}')
    s = settings
    client.sessions.chat(
        session.id, [{"role": "user", "content": "a"}], [tool], "auto",
        s["frequency_penalty"], s["length_penalty"], s["logit_bias"], s["max_tokens"],
        s["presence_penalty"], s["repetition_penalty"], {"type": "json_object"}, s["seed"],
        s["stop"], False, s["temperature"], s["top_p"], False, False,
    )  # fmt: skip
    with JulepApi(api_key=api_key, base_url=live_url) as api:
        reply = api.chat(
            session.id, messages=[{"role": "user", "content": "b"}], tools=[tool],
            tool_choice="auto", response_format={"type": "json_object"}, stream=False,
            min_p=0.05, recall=False, record=True, remember=False, **settings,  # type: ignore[arg-type]
        )  # fmt: skip
    assert reply.text == '{"ok": true}'
    assert len(model.requests) == 2
    for request in model.requests:
        sampling = {k: getattr(request.sampling, k) for k in settings}
        assert sampling == settings
        assert request.response_format == {"type": "json_object"}
        assert [t.name for t in request.tools] == ["lookup"]
        assert request.tool_choice is not None
    assert model.requests[1].sampling.min_p == 0.05
    client.close()


def test_streaming_chat_over_http(live_url: str, api_key: str, model: ScriptedModel) -> None:
    model.stream_delay = 0.01
    client = Client(api_key=api_key, base_url=live_url)
    agent = client.agents.create("Streamer")
    session = client.sessions.create(agent_id=agent.id)
    model.push("one two three four", " ".join(f"w{i}" for i in range(100)))
    stream = client.sessions.chat(session.id, [{"role": "user", "content": "count"}], stream=True)
    assert isinstance(stream, ChatStream)
    with stream:
        chunks = list(stream)
    assert "".join(c.text for c in chunks) == "one two three four"
    assert len(chunks) >= 4 and chunks[-1].choices[0].finish_reason == "stop"
    assert stream.response.is_closed
    with client.sessions.chat(
        session.id, [{"role": "user", "content": "more"}], stream=True, settings={"max_tokens": 20}
    ) as second:
        first = next(iter(second))
    assert first.id and second.response.is_closed
    deadline = time.monotonic() + 10
    while model.cancelled_streams == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert model.cancelled_streams == 1  # the server saw the client go away mid-stream
    entries = client.sessions.history(session.id).entries
    assert [e.role for e in entries][:2] == ["user", "assistant"]
    client.close()


def test_raw_sse_is_what_the_stream_parses(
    live_url: str, api_key: str, model: ScriptedModel
) -> None:
    client = Client(api_key=api_key, base_url=live_url)
    session = client.sessions.create(agent_id=client.agents.create("Raw").id)
    model.push("alpha beta")
    headers = {"Authorization": f"Bearer {api_key}", "Accept": "text/event-stream"}
    body = {"messages": [{"role": "user", "content": "x"}], "stream": True}
    raw = httpx.post(f"{live_url}/sessions/{session.id}/chat", json=body, headers=headers)
    datas = [line[6:] for line in raw.text.splitlines() if line.startswith("data: ")]
    parsed = [json.loads(d) for d in datas if d != "[DONE]"]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in parsed if c["choices"])
    assert text == "alpha beta"


def test_connection_refused_is_an_api_connection_error(no_sleep: list[float]) -> None:
    from tests.helpers.servers import free_port

    client = Client(api_key="k", base_url=f"http://127.0.0.1:{free_port()}", max_retries=1)
    with pytest.raises(APIConnectionError):
        client.agents.list()
    assert len(no_sleep) == 1


def test_sync_client_is_usable_from_threads(live_url: str, api_key: str) -> None:
    client = Client(api_key=api_key, base_url=live_url)
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            client.users.create(name=f"u{i}")
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(client.users.list()) == 4
