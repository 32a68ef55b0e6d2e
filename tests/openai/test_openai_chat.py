"""The OpenAI-compatible front door (/v1) driven by the official ``openai`` SDK against a
real uvicorn server, answering with the scripted model."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable

import httpx
import numpy as np
import openai
import pytest

from sprig.server.errors import UpstreamError
from sprig.server.models.base import ToolCall
from sprig.server.models.scripted import ScriptedModel
from tests.helpers.app import API_KEY, auth
from tests.helpers.openai_api import agent

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


def system_prompt(model: ScriptedModel) -> str:
    first = model.requests[-1].messages[0]
    assert first.role == "system"
    return first.text()


# -- models ----------------------------------------------------------------------------------
def test_models_are_the_agents_and_the_raw_models(api: httpx.Client, oai: openai.OpenAI) -> None:
    helper = agent(api, "helper")
    twins = [agent(api, "twin"), agent(api, "twin")]
    listed = {m.id: m for m in oai.models.list()}
    assert {"helper", f"agent:{twins[0]}", f"agent:{twins[1]}", "scripted"} <= listed.keys()
    assert "twin" not in listed  # an ambiguous name is listed by id
    assert listed["helper"].owned_by and listed["helper"].model_extra["agent_id"] == helper
    assert oai.models.retrieve("helper").id == "helper"
    assert oai.models.retrieve(f"agent:{helper}").model_extra["agent_id"] == helper
    with pytest.raises(openai.NotFoundError) as missing:
        oai.models.retrieve("no-such-model")
    assert missing.value.code == "model_not_found"


# -- chat completions on an agent --------------------------------------------------------------
def test_a_stateless_completion_runs_the_agent_and_saves_nothing(
    api: httpx.Client, oai: openai.OpenAI, model: ScriptedModel
) -> None:
    agent(api, "Ada", instructions="Always answer in French.")
    model.push("Bonjour !")
    done = oai.chat.completions.create(
        model="Ada",
        messages=[
            {"role": "developer", "content": "Be brief."},
            {"role": "user", "content": "Hello"},
        ],
        temperature=0.2,
        max_completion_tokens=50,
    )
    assert done.object == "chat.completion" and done.id.startswith("chatcmpl-")
    assert done.model == "Ada"
    assert done.choices[0].message.content == "Bonjour !"
    assert done.choices[0].finish_reason == "stop"
    assert done.usage is not None and done.usage.total_tokens > 0
    sent = model.requests[-1]
    assert "Always answer in French." in system_prompt(model)
    assert [(m.role, m.text()) for m in sent.messages[1:]] == [
        ("system", "Be brief."),
        ("user", "Hello"),
    ]
    assert (sent.sampling.temperature, sent.sampling.max_tokens) == (0.2, 50)
    assert api.get("/sessions").json()["items"] == []


def test_a_streamed_completion(api: httpx.Client, oai: openai.OpenAI, model: ScriptedModel) -> None:
    agent(api, "Streamer")
    model.push("one two three")
    stream = oai.chat.completions.create(
        model="Streamer",
        messages=[{"role": "user", "content": "Count"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert len({c.id for c in chunks}) == 1
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "one two three"
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop" and finishes.count("stop") == 1
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens > 0


def test_function_tools_go_back_to_the_client(
    api: httpx.Client, oai: openai.OpenAI, model: ScriptedModel
) -> None:
    agent(api, "Forecaster")
    model.push([ToolCall(id="call_1", name="get_weather", arguments='{"city": "Paris"}')])
    question = {"role": "user", "content": "Weather in Paris?"}
    first = oai.chat.completions.create(
        model="Forecaster", messages=[question], tools=[WEATHER], tool_choice="auto"
    )
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    [call] = choice.message.tool_calls or []
    assert (call.id, call.function.name, json.loads(call.function.arguments)) == (
        "call_1",
        "get_weather",
        {"city": "Paris"},
    )
    assert [t.name for t in model.requests[-1].tools] == ["get_weather"]
    model.push("It is sunny in Paris.")
    result = {"role": "tool", "tool_call_id": "call_1", "content": '{"sky": "sunny"}'}
    assistant = choice.message.model_dump(exclude_none=True)
    second = oai.chat.completions.create(
        model="Forecaster", messages=[question, assistant, result], tools=[WEATHER]
    )
    assert second.choices[0].message.content == "It is sunny in Paris."
    roles = [(m.role, m.tool_call_id) for m in model.requests[-1].messages[1:]]
    assert roles == [("user", None), ("assistant", None), ("tool", "call_1")]


def test_streamed_tool_calls(api: httpx.Client, oai: openai.OpenAI, model: ScriptedModel) -> None:
    agent(api, "Caller")
    model.push([ToolCall(id="call_9", name="get_weather", arguments='{"city": "Oslo"}')])
    chunks = list(
        oai.chat.completions.create(
            model="Caller",
            messages=[{"role": "user", "content": "Oslo?"}],
            tools=[WEATHER],
            stream=True,
        )
    )
    calls = [t for c in chunks if c.choices for t in c.choices[0].delta.tool_calls or []]
    assert [(t.index, t.id, t.function.name) for t in calls] == [(0, "call_9", "get_weather")]
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_a_session_keeps_the_conversation(
    api: httpx.Client, oai: openai.OpenAI, model: ScriptedModel
) -> None:
    agent_id = agent(api, "Keeper")
    session = api.post("/sessions", json={"agent": agent_id}).json()["id"]
    model.push("Hi Ana.", "Your name is Ana.")
    said = [{"role": "user", "content": "I am Ana."}]
    first = oai.chat.completions.create(
        model="Keeper", messages=said, metadata={"sprig_session_id": session}
    )
    assert first.model_extra["sprig_session_id"] == session
    # the client resends the whole conversation, as OpenAI clients do
    said += [
        {"role": "assistant", "content": "Hi Ana."},
        {"role": "user", "content": "What is my name?"},
    ]
    oai.chat.completions.create(
        model="Keeper", messages=said, extra_headers={"x-sprig-session-id": session}
    )
    history = api.get(f"/sessions/{session}/history").json()["entries"]
    assert [(e["role"], e["content"]) for e in history] == [
        ("user", "I am Ana."),
        ("assistant", "Hi Ana."),
        ("user", "What is my name?"),
        ("assistant", "Your name is Ana."),
    ]
    sent = [(m.role, m.text()) for m in model.requests[-1].messages[1:]]
    assert sent == [(e["role"], e["content"]) for e in history[:3]]


def test_store_true_saves_the_exchange_as_a_session(
    api: httpx.Client, oai: openai.OpenAI, model: ScriptedModel
) -> None:
    agent(api, "Recorder")
    model.push("Noted.")
    done = oai.chat.completions.create(
        model="Recorder", messages=[{"role": "user", "content": "Remember this."}], store=True
    )
    session = done.model_extra["sprig_session_id"]
    history = api.get(f"/sessions/{session}/history").json()["entries"]
    assert [e["content"] for e in history] == ["Remember this.", "Noted."]


def test_a_raw_model_is_a_pass_through(
    api: httpx.Client, oai: openai.OpenAI, model: ScriptedModel
) -> None:
    model.push('{"ok": true}')
    done = oai.chat.completions.create(
        model="scripted",
        messages=[{"role": "user", "content": "JSON please"}],
        response_format={"type": "json_object"},
        seed=3,
    )
    assert json.loads(done.choices[0].message.content or "") == {"ok": True}
    sent = model.requests[-1]
    assert [(m.role, m.text()) for m in sent.messages] == [("user", "JSON please")]
    assert sent.response_format == {"type": "json_object"} and sent.sampling.seed == 3
    assert api.get("/sessions").json()["items"] == []


# -- errors ------------------------------------------------------------------------------------
def test_errors_in_openais_shape(live_url: str, oai: openai.OpenAI, api: httpx.Client) -> None:
    agent(api, "Strict")
    with pytest.raises(openai.BadRequestError) as bad:
        oai.chat.completions.create(model="Strict", messages=[])
    assert bad.value.param == "messages" and bad.value.status_code == 400
    with pytest.raises(openai.BadRequestError) as many:
        oai.chat.completions.create(
            model="Strict", messages=[{"role": "user", "content": "x"}], n=2
        )
    assert many.value.param == "n"
    with pytest.raises(openai.NotFoundError) as unknown:
        oai.chat.completions.create(model="gpt-nope", messages=[{"role": "user", "content": "x"}])
    assert (unknown.value.code, unknown.value.param) == ("model_not_found", "model")
    stranger = openai.OpenAI(base_url=f"{live_url}/v1", api_key="sk-wrong", max_retries=0)
    with stranger, pytest.raises(openai.AuthenticationError) as wrong_key:
        stranger.models.list()
    assert wrong_key.value.code == "invalid_api_key"
    r = httpx.post(
        f"{live_url}/v1/chat/completions", json={"model": "Strict"}, headers=auth(API_KEY)
    )
    error = r.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["param"] == "messages" and error["code"] == "missing_required_parameter"
    assert r.headers["x-request-id"].startswith("req_")


def test_the_api_prefix_serves_v1_too(
    live_url: str, api: httpx.Client, model: ScriptedModel
) -> None:
    agent(api, "Prefixed")
    model.push("ok")
    with openai.OpenAI(base_url=f"{live_url}/api/v1", api_key=API_KEY, max_retries=0) as c:
        done = c.chat.completions.create(
            model="Prefixed", messages=[{"role": "user", "content": "x"}]
        )
    assert done.choices[0].message.content == "ok"


# -- embeddings --------------------------------------------------------------------------------
def test_embeddings_as_floats_and_base64(oai: openai.OpenAI, api: httpx.Client) -> None:
    name = api.post("/embed", json={"text": "x"}).json()["model"]
    floats = oai.embeddings.create(model=name, input=["a cat", "a dog"], encoding_format="float")
    packed = httpx.post(
        f"{str(oai.base_url).rstrip('/')}/embeddings",
        json={"model": name, "input": ["a cat", "a dog"], "encoding_format": "base64"},
        headers=auth(API_KEY),
    ).json()
    assert [d.index for d in floats.data] == [0, 1] and floats.model == name
    for item, d in zip(packed["data"], floats.data, strict=True):
        decoded = np.frombuffer(base64.b64decode(item["embedding"]), dtype="<f4")
        np.testing.assert_allclose(decoded, d.embedding, rtol=1e-6)
    # the SDK asks for base64 by default and decodes it
    assert len(oai.embeddings.create(model=name, input="a cat").data[0].embedding) == len(
        floats.data[0].embedding
    )
    with pytest.raises(openai.NotFoundError):
        oai.embeddings.create(model="text-embedding-3-small", input="x")
    with pytest.raises(openai.BadRequestError) as dims:
        oai.embeddings.create(model=name, input="x", dimensions=3)
    assert dims.value.param == "dimensions"


def test_apis_not_served_yet_say_so(oai: openai.OpenAI) -> None:
    with pytest.raises(openai.InternalServerError) as err:
        oai.batches.list()
    assert err.value.status_code == 501 and err.value.code == "not_implemented"
    assert "batches API is not served" in err.value.message


async def test_another_tenants_agents_and_sessions_stay_theirs(
    client: httpx.AsyncClient,
    tenant_key: Callable[[str], Awaitable[str]],
    model: ScriptedModel,
) -> None:
    theirs = (await client.post("/agents", json={"name": "Private", "model": "scripted"})).json()
    session = (await client.post("/sessions", json={"agent": theirs["id"]})).json()["id"]
    other = auth(await tenant_key("tenant-b"))
    mine = (await client.post("/agents", json={"name": "Mine"}, headers=other)).json()
    ask = [{"role": "user", "content": "hi"}]
    for name in (f"agent:{theirs['id']}", "Private"):
        body = {"model": name, "messages": ask}
        r = await client.post("/v1/chat/completions", json=body, headers=other)
        assert (r.status_code, r.json()["error"]["code"]) == (404, "model_not_found")
    body = {"model": "Mine", "messages": ask, "metadata": {"sprig_session_id": session}}
    r = await client.post("/v1/chat/completions", json=body, headers=other)
    assert r.status_code == 404 and "Session" in r.json()["error"]["message"]
    listed = (await client.get("/v1/models", headers=other)).json()["data"]
    assert {m.get("agent_id") for m in listed} == {None, mine["id"]}
    assert model.requests == []  # no model was called for tenant B
    history = (await client.get(f"/sessions/{session}/history")).json()["entries"]
    assert history == []


async def test_the_async_client_streams(
    live_url: str, api: httpx.Client, model: ScriptedModel
) -> None:
    agent(api, "Async")
    model.push("from the async client")
    async with openai.AsyncOpenAI(base_url=f"{live_url}/v1", api_key=API_KEY) as c:
        stream = await c.chat.completions.create(
            model="Async", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        parts = [ch.choices[0].delta.content or "" async for ch in stream if ch.choices]
    assert "".join(parts) == "from the async client"


def test_a_failure_mid_stream_is_an_error_event(
    api: httpx.Client, oai: openai.OpenAI, model: ScriptedModel
) -> None:
    agent(api, "Fragile")
    model.push(UpstreamError("the provider went away"))
    stream = oai.chat.completions.create(
        model="Fragile", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    with pytest.raises(openai.APIError) as err:
        list(stream)
    assert "the provider went away" in err.value.message
