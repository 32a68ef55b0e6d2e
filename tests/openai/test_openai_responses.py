"""/v1/responses driven by the official ``openai`` SDK against a live server (scripted model)."""

from __future__ import annotations

import json
from uuid import UUID

import httpx
import openai
import pytest

from sprig.server.models.base import Completion, ToolCall
from sprig.server.models.scripted import ScriptedModel
from tests.helpers.openai_api import agent, said

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


def test_a_response_and_its_chain(
    api: httpx.Client, oai: openai.OpenAI, model: ScriptedModel
) -> None:
    agent(api, "Guide", instructions="You guide travellers.")
    model.push("Lisbon is lovely in May.", "Try the pastéis de nata.")
    first = oai.responses.create(
        model="Guide", input="Where should I go in May?", instructions="Be brief."
    )
    assert first.status == "completed" and first.id.startswith("resp_")
    assert first.output_text == "Lisbon is lovely in May."
    assert first.usage is not None and first.usage.output_tokens > 0
    assert said(model)[1:] == [("system", "Be brief."), ("user", "Where should I go in May?")]
    assert "You guide travellers." in said(model)[0][1]
    second = oai.responses.create(
        model="Guide", input="What should I eat there?", previous_response_id=first.id
    )
    assert second.output_text == "Try the pastéis de nata."
    assert second.previous_response_id == first.id
    assert said(model)[1:] == [  # the chain, without the first response's instructions
        ("user", "Where should I go in May?"),
        ("assistant", "Lisbon is lovely in May."),
        ("user", "What should I eat there?"),
    ]
    again = oai.responses.retrieve(second.id)
    assert (again.id, again.output_text) == (second.id, second.output_text)
    items = oai.responses.input_items.list(second.id)
    assert [i.content[0].text for i in items.data] == ["What should I eat there?"]
    assert oai.responses.delete(first.id) is None
    with pytest.raises(openai.NotFoundError):
        oai.responses.retrieve(first.id)
    with pytest.raises(openai.NotFoundError) as gone:
        oai.responses.create(model="Guide", input="And?", previous_response_id=first.id)
    assert gone.value.code == "previous_response_not_found"


def test_function_calls_round_trip(
    api: httpx.Client, oai: openai.OpenAI, model: ScriptedModel
) -> None:
    agent(api, "Weatherman")
    model.push([ToolCall(id="call_7", name="get_weather", arguments='{"city": "Oslo"}')])
    first = oai.responses.create(model="Weatherman", input="Weather in Oslo?", tools=[WEATHER])
    [call] = [o for o in first.output if o.type == "function_call"]
    assert (call.call_id, call.name, json.loads(call.arguments)) == (
        "call_7",
        "get_weather",
        {"city": "Oslo"},
    )
    assert [t.name for t in model.requests[-1].tools] == ["get_weather"]
    model.push("Cold and clear in Oslo.")
    second = oai.responses.create(
        model="Weatherman",
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": "call_7", "output": '{"c": -3}'}],
        tools=[WEATHER],
    )
    assert second.output_text == "Cold and clear in Oslo."
    sent = model.requests[-1].messages
    assert [(m.role, m.tool_call_id) for m in sent[1:]] == [
        ("user", None),
        ("assistant", None),
        ("tool", "call_7"),
    ]
    assert sent[2].tool_calls[0].id == "call_7"


def test_a_streamed_response_sends_the_typed_events(
    api: httpx.Client, oai: openai.OpenAI, model: ScriptedModel
) -> None:
    agent(api, "Narrator")
    model.push("once upon a time")
    events = list(oai.responses.create(model="Narrator", input="A story", stream=True))
    kinds = [e.type for e in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    assert [e.sequence_number for e in events] == list(range(len(events)))
    for kind in (
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
    ):
        assert kinds.count(kind) == 1, kind
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == "once upon a time"
    done = events[-1].response
    assert done.output_text == "once upon a time" and done.status == "completed"
    assert oai.responses.retrieve(done.id).output_text == "once upon a time"


def test_streamed_function_call_events(
    api: httpx.Client, oai: openai.OpenAI, model: ScriptedModel
) -> None:
    agent(api, "Caller")
    model.push([ToolCall(id="call_1", name="get_weather", arguments='{"city": "Rome"}')])
    with oai.responses.stream(model="Caller", input="Rome?", tools=[WEATHER]) as stream:
        kinds = [e.type for e in stream]
        final = stream.get_final_response()
    assert "response.function_call_arguments.done" in kinds
    assert [o.type for o in final.output] == ["function_call"]


def test_conversations_are_sessions(
    api: httpx.Client, oai: openai.OpenAI, model: ScriptedModel
) -> None:
    agent_id = agent(api, "Keeper")
    session = api.post("/sessions", json={"agent": agent_id}).json()["id"]
    model.push("Noted, Ana.", "You are Ana.")
    first = oai.responses.create(model="Keeper", input="I am Ana.", conversation=session)
    assert first.conversation is not None
    assert first.conversation.id == f"conv_{session.replace('-', '')}"
    oai.responses.create(model="Keeper", input="Who am I?", conversation=f"conv_{session}")
    history = api.get(f"/sessions/{session}/history").json()["entries"]
    assert [e["content"] for e in history] == [
        "I am Ana.",
        "Noted, Ana.",
        "Who am I?",
        "You are Ana.",
    ]


def test_raw_model_json_and_incomplete(oai: openai.OpenAI, model: ScriptedModel) -> None:
    model.push('{"ok": true}')
    done = oai.responses.create(
        model="scripted",
        input="JSON please",
        text={"format": {"type": "json_schema", "name": "ok", "schema": {"type": "object"}}},
        store=False,
    )
    assert json.loads(done.output_text) == {"ok": True}
    assert model.requests[-1].response_format == {
        "type": "json_schema",
        "json_schema": {"name": "ok", "schema": {"type": "object"}},
    }
    with pytest.raises(openai.NotFoundError):
        oai.responses.retrieve(done.id)  # store: false
    model.push(Completion(content="cut sho", finish_reason="length"))
    cut = oai.responses.create(model="scripted", input="Talk", max_output_tokens=3)
    assert cut.status == "incomplete" and cut.incomplete_details.reason == "max_output_tokens"
    assert model.requests[-1].sampling.max_tokens == 3


def test_truncation_auto_drops_the_oldest_items(
    api: httpx.Client, oai: openai.OpenAI, model: ScriptedModel
) -> None:
    agent(api, "Tiny")
    long = " ".join(["word"] * 1000)  # the scripted model's window: 4,096 tokens
    model.push("first answer", "second answer", "third answer", "fourth answer")
    previous = oai.responses.create(model="Tiny", input=f"turn 0 {long}").id
    for n in (1, 2):
        previous = oai.responses.create(
            model="Tiny", input=f"turn {n} {long}", previous_response_id=previous
        ).id
    with pytest.raises(openai.BadRequestError) as err:
        oai.responses.create(model="Tiny", input=f"turn 3 {long}", previous_response_id=previous)
    assert err.value.code == "context_overflow"
    kept = oai.responses.create(
        model="Tiny", input=f"turn 3 {long}", previous_response_id=previous, truncation="auto"
    )
    assert kept.output_text == "fourth answer"
    texts = [t for _, t in said(model)]
    assert texts[-1].startswith("turn 3") and not any(t.startswith("turn 0") for t in texts)
    assert any(t.startswith("turn 2") for t in texts)  # the newest items stay


def test_errors(oai: openai.OpenAI, api: httpx.Client) -> None:
    agent(api, "Strict")
    with pytest.raises(openai.BadRequestError) as bad:
        oai.responses.create(model="Strict", input=[{"type": "item_reference", "id": "x"}])
    assert bad.value.param == "input[0]"
    with pytest.raises(openai.BadRequestError) as tools:
        oai.responses.create(model="Strict", input="x", tools=[{"type": "web_search"}])
    assert tools.value.param == "tools[0]"
    with pytest.raises(openai.NotFoundError):
        oai.responses.retrieve("resp_0123")


def test_the_conversations_api(api: httpx.Client, oai: openai.OpenAI, model: ScriptedModel) -> None:
    conv = oai.conversations.create(
        items=[{"type": "message", "role": "user", "content": "My name is Ana."}],
        metadata={"topic": "names"},
    )
    assert conv.id.startswith("conv_") and conv.metadata == {"topic": "names"}
    session = str(UUID(conv.id.removeprefix("conv_")))
    assert api.get(f"/sessions/{session}").json()["agents"] == []  # no agent yet
    agent_id = agent(api, "Namer")
    model.push("Hello Ana.")
    reply = oai.responses.create(model="Namer", input="Say hello.", conversation=conv.id)
    assert reply.output_text == "Hello Ana."
    sent = said(model)[1:]
    assert sent == [("user", "My name is Ana."), ("user", "Say hello.")]
    assert api.get(f"/sessions/{session}").json()["agents"] == [agent_id]  # it joined
    listed = oai.conversations.items.list(conv.id, order="asc")
    texts = [(i.type, i.role, i.content[0].text) for i in listed.data]
    assert texts == [
        ("message", "user", "My name is Ana."),
        ("message", "user", "Say hello."),
        ("message", "assistant", "Hello Ana."),
    ]
    added = oai.conversations.items.create(
        conv.id, items=[{"type": "message", "role": "user", "content": "Added later."}]
    )
    [new] = added.data
    assert oai.conversations.items.retrieve(new.id, conversation_id=conv.id).id == new.id
    history = api.get(f"/sessions/{session}/history").json()["entries"]
    assert history[-1]["content"] == "Added later."  # the Julep API sees the same history
    updated = oai.conversations.update(conv.id, metadata={"topic": "greetings"})
    assert updated.metadata == {"topic": "greetings"}
    with pytest.raises(openai.InternalServerError) as later:
        oai.conversations.items.delete(new.id, conversation_id=conv.id)
    assert later.value.status_code == 501
    assert oai.conversations.delete(conv.id).deleted
    with pytest.raises(openai.NotFoundError):
        oai.conversations.retrieve(conv.id)
    with pytest.raises(openai.NotFoundError):
        oai.responses.create(model="Namer", input="x", conversation=conv.id)


# Fields the Open Responses specification requires of every response object.
REQUIRED = [
    "id",
    "object",
    "created_at",
    "completed_at",
    "status",
    "incomplete_details",
    "model",
    "previous_response_id",
    "instructions",
    "output",
    "error",
    "tools",
    "tool_choice",
    "truncation",
    "parallel_tool_calls",
    "text",
    "top_p",
    "presence_penalty",
    "frequency_penalty",
    "top_logprobs",
    "temperature",
    "reasoning",
    "user",
    "usage",
    "max_output_tokens",
    "max_tool_calls",
    "store",
    "background",
    "service_tier",
    "metadata",
    "safety_identifier",
    "prompt_cache_key",
]


def test_the_response_object_has_every_required_field(
    api: httpx.Client, model: ScriptedModel
) -> None:
    agent(api, "Complete")
    model.push("Here.")
    body = api.post("/v1/responses", json={"model": "Complete", "input": "Hi"}).json()
    assert set(REQUIRED) <= set(body)
    for key in ("top_p", "presence_penalty", "frequency_penalty", "temperature"):
        assert isinstance(body[key], int | float), key
    assert isinstance(body["top_logprobs"], int) and isinstance(body["completed_at"], int)
    [message] = body["output"]
    assert set(message) >= {"id", "type", "role", "status", "content"}
    assert body["usage"]["input_tokens_details"] == {"cached_tokens": 0}


def test_compaction(api: httpx.Client, oai: openai.OpenAI, model: ScriptedModel) -> None:
    agent(api, "Packer")
    model.push("Ana likes tea; she asked about Lisbon.", "Tea, in Lisbon.")
    conversation = [
        {"role": "user", "content": "I am Ana and I like tea."},
        {"role": "assistant", "content": "Noted."},
        {"role": "user", "content": "Tell me about Lisbon."},
    ]
    packed = oai.responses.compact(model="Packer", input=conversation)
    assert packed.object == "response.compaction"
    kinds = [o.type for o in packed.output]
    assert kinds == ["message", "message", "compaction"]  # the user's messages, the summary
    summarised = model.requests[-1].messages[-1].text()
    assert "user: I am Ana and I like tea." in summarised and "assistant: Noted." in summarised
    sealed = packed.output[-1].encrypted_content
    assert "tea" not in sealed  # opaque to the client
    follow = [o.model_dump(exclude_none=True, warnings=False) for o in packed.output]
    follow.append({"role": "user", "content": "What do I drink?"})
    answer = oai.responses.create(model="Packer", input=follow)
    assert answer.output_text == "Tea, in Lisbon."
    system = [t for r, t in said(model) if r == "system"]
    assert "Summary of the earlier conversation: Ana likes tea; she asked about Lisbon." in system
    forged = {"type": "compaction", "encrypted_content": "gAAAAA-not-ours"}
    with pytest.raises(openai.BadRequestError):
        oai.responses.create(model="Packer", input=[forged])
    r = api.post("/v1/responses/compact", json={"input": "x"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "model"
