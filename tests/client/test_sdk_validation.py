"""Arguments are checked before any request: clear TypeError/ValueError, nothing sent."""

from __future__ import annotations

import json
from uuid import UUID

import pytest

from sprig import ArgumentTypeError, ArgumentValueError, JulepError
from tests.helpers.sdk import Recorder, ok

SID = "0b7e7d3e-1111-4e2f-9a55-aaaaaaaaaaaa"
CHAT = {"id": SID, "choices": []}


@pytest.fixture
def recorder() -> Recorder:
    return Recorder(lambda r: ok(CHAT))


@pytest.mark.parametrize(
    ("call", "error", "text"),
    [
        (
            lambda c: c.agents.get("not-a-uuid"),
            ValueError,
            "'id': 'not-a-uuid' is not a valid UUID",
        ),
        (lambda c: c.agents.get(42), TypeError, "'id'"),
        (lambda c: c.agents.get(), TypeError, "missing required argument 'id'"),
        (lambda c: c.agents.create(name=5), TypeError, "'name': Input should be a valid string"),
        (lambda c: c.agents.create("a", colour="red"), TypeError, "unexpected argument 'colour'"),
        (lambda c: c.agents.list(limit=0), ValueError, "'limit'"),
        (lambda c: c.agents.list(order="sideways"), ValueError, "'order'"),
        (lambda c: c.users.list(sort_by="name"), ValueError, "'sort_by'"),
        (lambda c: c.sessions.create(agent_id=SID, user_id="x"), ValueError, "'user_id'"),
        (
            lambda c: c.sessions.create(agent_id=SID, context_overflow="drop"),
            ValueError,
            "context_overflow",
        ),
        (
            lambda c: c.sessions.create(agent_id=SID, recall_options={"mode": "magic"}),
            ValueError,
            "recall_options.mode",
        ),
        (
            lambda c: c.sessions.create(agent_id=SID, recall_options={"limt": 3}),
            TypeError,
            "recall_options.limt",
        ),
        (lambda c: c.sessions.history(SID, before="yesterday"), ValueError, "'before'"),
        (
            lambda c: c.docs.create(title="t", content="c"),
            ValueError,
            "exactly one of agent_id or user_id",
        ),
        (
            lambda c: c.docs.create(agent_id=SID, user_id=SID, title="t", content="c"),
            ValueError,
            "exactly one",
        ),
        (lambda c: c.docs.create(agent_id=SID, title="t"), ValueError, "title and content"),
        (lambda c: c.docs.search(agent_id=SID), ValueError, "text=..., vector=..."),
        (lambda c: c.docs.search(agent_id=SID, text="q", limit=99), ValueError, "'limit'"),
        (lambda c: c.docs.bulk_delete(agent_id=SID), ValueError, "delete_all=True"),
        (lambda c: c.tools.create(SID, description="no type"), ValueError, "tool type"),
        (lambda c: c.agents.update(SID, about="x", overwrite=True), ValueError, "give name"),
        (lambda c: c.memories.list(SID), TypeError, "missing required argument 'query'"),
    ],
)
def test_bad_arguments_fail_before_any_request(
    recorder: Recorder, call: object, error: type[Exception], text: str
) -> None:
    client = recorder.sync()
    with pytest.raises(error, match=None) as caught:
        call(client)  # type: ignore[operator]
    assert text in str(caught.value)
    assert isinstance(caught.value, JulepError)
    assert recorder.requests == []


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        ({"messages": []}, ValueError, "'messages'"),
        ({"messages": [{"content": "hi"}]}, TypeError, "messages.0.role"),
        ({"messages": [{"role": "robot", "content": "hi"}]}, ValueError, "messages.0.role"),
        ({"temperature": 9}, ValueError, "'temperature'"),
        ({"top_p": -0.1}, ValueError, "'top_p'"),
        ({"max_tokens": 0}, ValueError, "'max_tokens'"),
        ({"preset": "spicy"}, ValueError, "'preset'"),
        ({"tempreature": 0.5}, TypeError, "unexpected argument 'tempreature'"),
        ({"settings": {"tempreature": 0.5}}, TypeError, "settings.tempreature"),
        ({"settings": {"temperature": 0.1}, "temperature": 0.9}, ValueError, "given twice"),
        ({"agent": "nope"}, ValueError, "'agent'"),
    ],
)
def test_chat_settings_are_checked(
    recorder: Recorder, kwargs: dict[str, object], error: type[Exception], text: str
) -> None:
    arguments = {"messages": [{"role": "user", "content": "hi"}], **kwargs}
    with pytest.raises(error) as caught:
        recorder.sync().sessions.chat(SID, **arguments)  # type: ignore[call-overload]
    assert text in str(caught.value)
    assert str(caught.value).startswith("sessions.chat(): ")
    assert recorder.requests == []


def test_chat_settings_nested_or_flat_make_one_body(recorder: Recorder) -> None:
    client = recorder.sync()
    client.sessions.chat(
        UUID(SID),
        [{"role": "user", "content": "hi", "continue": True}],
        settings={"temperature": 0.5, "stop": ["\n"], "recall": False},
        max_tokens=20,
        temperature=0.5,
        remember=None,
    )
    body = json.loads(recorder.requests[0].content)
    assert body == {
        "messages": [{"role": "user", "content": "hi", "continue": True}],
        "temperature": 0.5,
        "stop": ["\n"],
        "recall": False,
        "max_tokens": 20,
    }
    assert recorder.requests[0].url.path == f"/api/sessions/{SID}/chat"


def test_error_lists_pydantic_details() -> None:
    client = Recorder(lambda r: ok()).sync()
    with pytest.raises(ArgumentValueError) as caught:
        client.agents.list(limit=-1, offset=-1)
    assert [e["loc"] for e in caught.value.errors] == [("limit",), ("offset",)]
    with pytest.raises(ArgumentTypeError):
        client.jobs.get(job_id=[SID])  # type: ignore[arg-type]


async def test_async_methods_check_arguments_too(recorder: Recorder) -> None:
    client = recorder.async_()
    with pytest.raises(ValueError, match="is not a valid UUID"):
        await client.sessions.get("nope")
    with pytest.raises(ValueError, match=r"AsyncJulepApi.chat\(\): 'temperature'"):
        await recorder.flat_async().chat(
            SID, messages=[{"role": "user", "content": "x"}], temperature=7
        )
    with pytest.raises(
        TypeError, match=r"JulepApi.create_agent\(\): missing required argument 'name'"
    ):
        recorder.flat().create_agent()  # type: ignore[call-arg]
    assert recorder.requests == []


def test_ids_are_sent_canonical(recorder: Recorder) -> None:
    recorder.handler = lambda r: ok({"id": SID})
    recorder.sync().agents.get(f"  {SID.upper()} ")
    recorder.sync().agents.get(UUID(SID))
    assert [r.url.path for r in recorder.requests] == [f"/api/agents/{SID}"] * 2


def test_input_chat_ml_message_objects_are_accepted(recorder: Recorder) -> None:
    from sprig import InputChatMlMessage

    message = InputChatMlMessage(role="user", content="hi", continue_=True)
    recorder.sync().sessions.chat(SID, [message, {"role": "assistant", "content": "yo"}])
    body = json.loads(recorder.requests[0].content)
    assert body["messages"] == [
        {"role": "user", "content": "hi", "continue": True},
        {"role": "assistant", "content": "yo"},
    ]
