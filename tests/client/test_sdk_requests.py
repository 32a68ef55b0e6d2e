"""What each call sends: method, path, query and body (recorded by a mock server)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from sprig import JulepApi, ResourceCreatedResponse, ResourceUpdatedResponse
from sprig.client.params import FunctionDefParam, ToolParam
from tests.helpers.sdk import Recorder, ok

A = "0b7e7d3e-1111-4e2f-9a55-aaaaaaaaaaaa"
B = "0b7e7d3e-2222-4e2f-9a55-bbbbbbbbbbbb"
FN: FunctionDefParam = {"name": "f", "parameters": {"type": "object"}}


def answer(request: httpx.Request) -> httpx.Response:
    """Echo-ish server: lists get items, everything else a resource with an id."""
    if request.method == "GET" and request.url.path.endswith(("s", "memories", "suggestions")):
        return ok({"items": [{"id": A, "role": "user", "target": "user"}]})
    return ok({"id": A, "session_id": A, "created_at": "2025-01-01T00:00:00Z", "name": "n"})


# (call on JulepApi, method, path under /api, query, JSON body)
FLAT: list[tuple[Callable[[JulepApi], Any], str, str, dict[str, str], Any]] = [
    (lambda c: c.list_agents(limit=5, offset=10, metadata_filter={"k": 1}, sort_by="updated_at", order="asc"),
     "GET", "/agents", {"limit": "5", "offset": "10", "sort_by": "updated_at", "direction": "asc", "metadata_filter": '{"k":1}'}, None),
    (lambda c: c.list_users(metadata_filter='{"a": "b"}'), "GET", "/users", {"metadata_filter": '{"a": "b"}'}, None),
    (lambda c: c.list_sessions(), "GET", "/sessions", {}, None),
    (lambda c: c.create_agent(name="n", about="a", tools=[{"type": "function", "function": FN}], docs=[{"title": "t", "content": "c"}]),
     "POST", "/agents", {}, {"name": "n", "about": "a", "tools": [{"type": "function", "function": FN}], "docs": [{"title": "t", "content": "c"}]}),
    (lambda c: c.get_agent(A), "GET", f"/agents/{A}", {}, None),
    (lambda c: c.update_agent(A, about="a", name="n"), "PUT", f"/agents/{A}", {}, {"about": "a", "name": "n"}),
    (lambda c: c.patch_agent(A, metadata={"x": 1}), "PATCH", f"/agents/{A}", {}, {"metadata": {"x": 1}}),
    (lambda c: c.delete_agent(A), "DELETE", f"/agents/{A}", {}, None),
    (lambda c: c.create_user(name="u", metadata={"m": None, "n": 2}), "POST", "/users", {}, {"name": "u", "metadata": {"n": 2}}),
    (lambda c: c.get_user(A), "GET", f"/users/{A}", {}, None),
    (lambda c: c.update_user(A, about="a", name="n"), "PUT", f"/users/{A}", {}, {"about": "a", "name": "n"}),
    (lambda c: c.patch_user(A, about="b"), "PATCH", f"/users/{A}", {}, {"about": "b"}),
    (lambda c: c.delete_user(A), "DELETE", f"/users/{A}", {}, None),
    (lambda c: c.create_session(agent_id=A, user_id=B, situation="s", token_budget=100, context_overflow="truncate"),
     "POST", "/sessions", {}, {"agent_id": A, "user_id": B, "situation": "s", "token_budget": 100, "context_overflow": "truncate"}),
    (lambda c: c.get_session(A), "GET", f"/sessions/{A}", {}, None),
    (lambda c: c.update_session(A, situation="s"), "PUT", f"/sessions/{A}", {}, {"situation": "s"}),
    (lambda c: c.patch_session(A, token_budget=9), "PATCH", f"/sessions/{A}", {}, {"token_budget": 9}),
    (lambda c: c.delete_session(A), "DELETE", f"/sessions/{A}", {}, None),
    (lambda c: c.get_suggestions(A, limit=2), "GET", f"/sessions/{A}/suggestions", {"limit": "2"}, None),
    (lambda c: c.get_history(A, limit=2, offset=1), "GET", f"/sessions/{A}/history", {"limit": "2", "offset": "1"}, None),
    (lambda c: c.delete_session_history(A), "DELETE", f"/sessions/{A}/history", {}, None),
    (lambda c: c.chat(A, messages=[{"role": "user", "content": "q"}], recall=True, record=False, min_p=0.1, preset="code"),
     "POST", f"/sessions/{A}/chat", {}, {"messages": [{"role": "user", "content": "q"}], "recall": True, "record": False, "min_p": 0.1, "preset": "code"}),
    (lambda c: c.get_agent_memories(A, query="q", user_id=B, types="episode"),
     "GET", f"/agents/{A}/memories", {"query": "q", "user_id": B, "types": "episode"}, None),
    (lambda c: c.delete_agent_memory(A, B), "DELETE", f"/agents/{A}/memories/{B}", {}, None),
    (lambda c: c.get_agent_docs(A, limit=1), "GET", f"/agents/{A}/docs", {"limit": "1"}, None),
    (lambda c: c.get_user_docs(A, order="desc"), "GET", f"/users/{A}/docs", {"direction": "desc"}, None),
    (lambda c: c.create_agent_doc(A, request={"title": "t", "content": ["a", "b"]}), "POST", f"/agents/{A}/docs", {}, {"title": "t", "content": ["a", "b"]}),
    (lambda c: c.create_user_doc(A, request={"title": "t", "content": "c", "metadata": {"k": "v"}}), "POST", f"/users/{A}/docs", {}, {"title": "t", "content": "c", "metadata": {"k": "v"}}),
    (lambda c: c.delete_agent_doc(A, B), "DELETE", f"/agents/{A}/docs/{B}", {}, None),
    (lambda c: c.delete_user_doc(A, B), "DELETE", f"/users/{A}/docs/{B}", {}, None),
    (lambda c: c.get_agent_tools(A, offset=3), "GET", f"/agents/{A}/tools", {"offset": "3"}, None),
    (lambda c: c.create_agent_tool(A, request={"type": "function", "function": FN}), "POST", f"/agents/{A}/tools", {}, {"type": "function", "function": FN}),
    (lambda c: c.update_agent_tool(A, B, function=FN), "PUT", f"/agents/{A}/tools/{B}", {}, {"function": FN}),
    (lambda c: c.patch_agent_tool(A, B, function={"description": "d"}), "PATCH", f"/agents/{A}/tools/{B}", {}, {"function": {"description": "d"}}),
    (lambda c: c.delete_agent_tool(A, B), "DELETE", f"/agents/{A}/tools/{B}", {}, None),
    (lambda c: c.get_job_status(A), "GET", f"/jobs/{A}", {}, None),
]  # fmt: skip


@pytest.mark.parametrize(("call", "method", "path", "query", "body"), FLAT)
def test_flat_calls_send_the_julep_requests(
    call: Callable[[JulepApi], Any], method: str, path: str, query: dict[str, str], body: Any
) -> None:
    recorder = Recorder(answer)
    call(recorder.flat())
    (request,) = recorder.requests
    assert (request.method, request.url.path) == (method, "/api" + path)
    assert dict(request.url.params) == query
    assert (json.loads(request.content) if request.content else None) == body
    assert request.headers["authorization"] == "Bearer sk-sdk-test"


def test_every_flat_method_is_in_the_table() -> None:
    from test_sdk_surface import JULEP_API

    recorder = Recorder(answer)
    for call, *_ in FLAT:
        call(recorder.flat())
    called = {(r.method, r.url.path) for r in recorder.requests}
    assert len(FLAT) == len(JULEP_API) and len(called) == len(FLAT)


def test_flat_creates_and_updates_return_the_julep_views() -> None:
    api = Recorder(answer).flat()
    created = api.create_agent(name="n")
    assert isinstance(created, ResourceCreatedResponse) and created.id == A
    assert created.name == "n"  # type: ignore[attr-defined]  # the full resource stays readable
    assert isinstance(api.patch_user(A, name="x"), ResourceUpdatedResponse)


def test_manager_specifics() -> None:
    recorder = Recorder(answer)
    client = recorder.sync(additional_headers={"X-Trace": "t1"})
    client.agents.create("n", functions=[FN], tools=[{"type": "function", "function": FN}])
    client.agents.update(A, name="m", overwrite=True)
    client.sessions.list(agent_id=A, user_id=B)
    client.sessions.history(A, before=datetime(2025, 1, 2, tzinfo=UTC))
    client.docs.create(user_id=A, doc={"title": "t", "content": "c"}, metadata={"k": 1})
    client.docs.search(agent_id=A, text="q", vector=[0.5], alpha=0.3, limit=3)
    client.docs.bulk_delete(agent_id=A, metadata_filter={"k": 1})
    client.docs.get(A, include_embeddings=True)
    client.sessions.docs.search(A, vector=[1.0])
    client.tools.create(A, {"type": "function", "function": FN}, description="d")
    client.tools.update(A, B, FN, overwrite=True)
    client.sessions.update(A, recall_options={"mode": "vector", "confidence": 0.2})
    client.memories.list(A, "q", types=["episode", "fact"], limit=4)
    seen = [
        (r.method, r.url.path[4:], dict(r.url.params), json.loads(r.content or "null"))
        for r in recorder.requests
    ]
    tool: ToolParam = {"type": "function", "function": FN}
    assert seen == [
        ("POST", "/agents", {}, {"name": "n", "tools": [tool, tool]}),
        ("PUT", f"/agents/{A}", {}, {"name": "m"}),
        ("GET", "/sessions", {"agent_id": A, "user_id": B}, None),
        ("GET", f"/sessions/{A}/history", {"before": "2025-01-02T00:00:00+00:00"}, None),
        ("POST", f"/users/{A}/docs", {}, {"title": "t", "content": "c", "metadata": {"k": 1}}),
        (
            "POST",
            f"/agents/{A}/search",
            {},
            {"text": "q", "vector": [0.5], "alpha": 0.3, "limit": 3},
        ),
        ("DELETE", f"/agents/{A}/docs", {}, {"metadata_filter": {"k": 1}}),
        ("GET", f"/docs/{A}", {"include_embeddings": "true"}, None),
        ("POST", f"/sessions/{A}/search", {}, {"vector": [1.0]}),
        ("POST", f"/agents/{A}/tools", {}, {**tool, "description": "d"}),
        ("PUT", f"/agents/{A}/tools/{B}", {}, {"function": FN}),
        ("PATCH", f"/sessions/{A}", {}, {"recall_options": {"mode": "vector", "confidence": 0.2}}),
        ("GET", f"/agents/{A}/memories", {"query": "q", "types": "episode", "limit": "4"}, None),
    ]
    assert recorder.requests[-1].url.params.get_list("types") == ["episode", "fact"]
    assert all(r.headers["x-trace"] == "t1" for r in recorder.requests)
    assert all(r.headers["user-agent"].startswith("sprig-python/") for r in recorder.requests)


def paged_server(total: int) -> Recorder:
    def handler(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params.get("offset", 0))
        limit = int(request.url.params.get("limit", 100))
        ids = list(range(total))[offset : offset + limit]
        return ok({"items": [{"id": str(i)} for i in ids]})

    return Recorder(handler)


def test_pages_iterate_until_a_short_page() -> None:
    recorder = paged_server(7)
    page = recorder.sync().agents.list(limit=3)
    assert [a.id for a in page] == ["0", "1", "2"] and page.items == list(page)
    assert [a.id for a in page.auto_paging_iter()] == [str(i) for i in range(7)]
    offsets = [r.url.params.get("offset") for r in recorder.requests]
    assert offsets == [None, "3", "6"]  # the page of 1 item ends it
    assert [len(p) for p in page.iter_pages()] == [3, 3, 1]


def test_pages_without_limit_stop_at_an_empty_page() -> None:
    recorder = paged_server(4)
    page = recorder.sync().users.list(offset=1)
    assert [u.id for u in page.auto_paging_iter()] == ["1", "2", "3"]
    assert [r.url.params.get("offset") for r in recorder.requests] == ["1", "4"]
    assert paged_server(0).sync().users.list().next_page() is None


async def test_async_pages() -> None:
    recorder = paged_server(5)
    page = await recorder.async_().sessions.list(limit=2)
    assert [s.id async for s in page.auto_paging_iter()] == ["0", "1", "2", "3", "4"]
    second = await page.next_page()
    assert second is not None and [s.id for s in second] == ["2", "3"]


# Every documented chat parameter, in the Julep SDK managers' order, and what it sends.
TOOL: ToolParam = {"type": "function", "function": FN}
CHAT_ARGS: list[tuple[str, Any]] = [
    ("tools", [TOOL]),
    ("tool_choice", "auto"),
    ("frequency_penalty", 0.5),
    ("length_penalty", 1.5),
    ("logit_bias", {"50256": -100}),
    ("max_tokens", 20),
    ("presence_penalty", -0.5),
    ("repetition_penalty", 1.1),
    ("response_format", {"type": "json_object"}),
    ("seed", 7),
    ("stop", ["\n"]),
    ("stream", False),
    ("temperature", 0.3),
    ("top_p", 0.9),
    ("recall", False),
    ("remember", True),
]
SPRIG_CHAT_ARGS = {
    "min_p": 0.05,
    "preset": "code",
    "record": True,
    "save": True,
    "recall_tools": False,
    "auto_run_tools": False,
    "model": "m",
    "agent": B,
    "metadata": {"k": "v"},
}
MESSAGES: list[Any] = [{"role": "user", "content": "q"}]
CHAT_BODY = {
    "messages": MESSAGES,
    **{k: v for k, v in CHAT_ARGS if k != "stream"},  # stream=False is not sent
    **SPRIG_CHAT_ARGS,
}


def chat_answer(request: httpx.Request) -> httpx.Response:
    return ok({"id": A, "created_at": "2025-01-01T00:00:00Z", "choices": []})


async def test_every_chat_parameter_is_sent_by_every_client() -> None:
    recorder = Recorder(chat_answer)
    positional = [value for _, value in CHAT_ARGS]
    keywords = dict(CHAT_ARGS)
    recorder.sync().sessions.chat(A, MESSAGES, *positional, **SPRIG_CHAT_ARGS)
    await recorder.async_().sessions.chat(A, MESSAGES, *positional, **SPRIG_CHAT_ARGS)
    recorder.flat().chat(A, messages=MESSAGES, **keywords, **SPRIG_CHAT_ARGS)
    await recorder.flat_async().chat(A, messages=MESSAGES, **keywords, **SPRIG_CHAT_ARGS)
    assert len(recorder.requests) == 4
    for request in recorder.requests:
        assert (request.method, request.url.path) == ("POST", f"/api/sessions/{A}/chat")
        assert json.loads(request.content) == CHAT_BODY
        assert request.headers["accept"] == "application/json"


def test_chat_leaves_unset_settings_out_and_streams_on_request() -> None:
    recorder = Recorder(lambda r: httpx.Response(200, text='data: {"choices": []}\n\n'))
    with recorder.flat().chat(A, messages=MESSAGES, stream=True, stop=None) as stream:
        assert list(stream) != []
    (request,) = recorder.requests
    assert json.loads(request.content) == {"messages": MESSAGES, "stream": True}
    assert request.headers["accept"] == "text/event-stream"


def test_flat_chat_takes_messages_by_keyword_as_documented() -> None:
    recorder = Recorder(chat_answer)
    with pytest.raises(TypeError):
        recorder.flat().chat(A, MESSAGES)  # type: ignore[misc]
    assert recorder.requests == []
