"""The Responses API's WebSocket mode, through the official SDK's ``responses.connect()``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from websockets.exceptions import InvalidStatus

from sprig.server.models.scripted import ScriptedModel
from tests.helpers.app import API_KEY, auth


@pytest.fixture
def oai(live_url: str) -> Iterator[openai.OpenAI]:
    with httpx.Client(base_url=live_url, headers=auth(API_KEY)) as api:
        r = api.post("/agents", json={"name": "Socket", "model": "scripted"})
        assert r.status_code == 201
    with openai.OpenAI(base_url=f"{live_url}/v1", api_key=API_KEY, max_retries=0) as c:
        yield c


def until_done(connection: Any) -> list[Any]:
    """Events of one response, up to its terminal event (or an error)."""
    events = []
    for event in connection:
        events.append(event)
        if event.type in ("response.completed", "response.failed", "response.incomplete", "error"):
            return events
    raise AssertionError("the connection closed mid-response")


def said(model: ScriptedModel) -> list[tuple[str, str]]:
    return [(m.role, m.text()) for m in model.requests[-1].messages[1:]]


def test_sequential_responses_and_continuation_on_one_socket(
    oai: openai.OpenAI, model: ScriptedModel
) -> None:
    model.push("Hi Ana.", "Your name is Ana.")
    with oai.responses.connect() as connection:
        connection.response.create(model="Socket", input="I am Ana.", store=False)
        first = until_done(connection)
        assert [e.type for e in first][:2] == ["response.created", "response.in_progress"]
        done = first[-1]
        assert done.type == "response.completed" and done.response.output_text == "Hi Ana."
        connection.response.create(
            model="Socket", input="Who am I?", previous_response_id=done.response.id, store=False
        )
        second = until_done(connection)
    assert second[-1].response.output_text == "Your name is Ana."
    assert said(model) == [("user", "I am Ana."), ("assistant", "Hi Ana."), ("user", "Who am I?")]
    with pytest.raises(openai.NotFoundError):  # store: false: never written down
        oai.responses.retrieve(done.response.id)


def test_a_new_socket_cannot_continue_an_unstored_response(
    oai: openai.OpenAI, model: ScriptedModel
) -> None:
    model.push("Noted.", "Fresh start.")
    with oai.responses.connect() as connection:
        connection.response.create(model="Socket", input="Remember 42.", store=False)
        previous = until_done(connection)[-1].response.id
    with oai.responses.connect() as connection:
        connection.response.create(
            model="Socket", input="What number?", previous_response_id=previous, store=False
        )
        [error] = until_done(connection)
        assert (error.type, error.code) == ("error", "previous_response_not_found")
        # the connection stays usable: recover with the whole context
        connection.response.create(model="Socket", input="Remember 42. What number?")
        assert until_done(connection)[-1].response.output_text == "Fresh start."


def test_a_failed_continuation_evicts_what_it_continued(
    oai: openai.OpenAI, model: ScriptedModel
) -> None:
    model.push("Kept.")
    with oai.responses.connect() as connection:
        connection.response.create(model="Socket", input="One.", store=False)
        previous = until_done(connection)[-1].response.id
        connection.response.create(
            model="no-such-model", input="Two.", previous_response_id=previous, store=False
        )
        assert until_done(connection)[-1].code == "model_not_found"
        connection.response.create(
            model="Socket", input="Three.", previous_response_id=previous, store=False
        )
        assert until_done(connection)[-1].code == "previous_response_not_found"
        connection.send_raw('{"type": "session.update"}')
        assert until_done(connection)[-1].param == "type"


def test_a_wrong_key_is_refused(live_url: str) -> None:
    stranger = openai.OpenAI(base_url=f"{live_url}/v1", api_key="sk-wrong", max_retries=0)
    with stranger, pytest.raises(InvalidStatus) as refused:  # the handshake is refused
        stranger.responses.connect(max_retries=0).enter()
    assert refused.value.response.status_code == 403
