"""``/openapi.json`` documents every answer: each operation has a 2xx schema, the bodies the
API sends match it (checked for the whole suite by ``conftest.check_responses``), and the
check itself catches a body that strays from its schema."""

from __future__ import annotations

import uuid

import httpx
import pytest
from pydantic import TypeAdapter

from sprig.server.api.responses import History, documented
from tests.helpers.conformance import document, success_schema, validate

BYTES = "application/octet-stream"


def _operations() -> list[tuple[str, str, dict]]:
    return [
        (method.upper(), path, op)
        for path, ops in document()["paths"].items()
        for method, op in ops.items()
    ]


@pytest.mark.parametrize(("method", "path", "op"), _operations(), ids=lambda v: str(v)[:40])
def test_every_operation_documents_its_success(method: str, path: str, op: dict) -> None:
    successes = [int(s) for s in op["responses"] if s.startswith("2")]
    assert len(successes) == 1, f"{method} {path}: {successes}"
    download = op["responses"][str(successes[0])].get("content", {}).get(BYTES)
    if download is not None:  # a file's bytes, as they were uploaded
        assert download["schema"] == {"type": "string", "format": "binary"}
        return
    schema = success_schema(op, successes[0])
    assert schema, f"{method} {path}: no JSON schema for {successes[0]}"
    named = schema.get("anyOf", [schema])
    assert all("$ref" in s or s.get("properties") for s in named), schema  # not a bare object


def test_chat_documents_its_stream() -> None:
    reply = document()["paths"]["/sessions/{session_id}/chat"]["post"]["responses"]["201"]
    events = reply["content"]["text/event-stream"]
    assert "schema" not in events  # it would describe the whole stream, not an event
    json_data, done = events["itemSchema"]["properties"]["data"]["anyOf"]
    chunk, error = json_data["contentSchema"]["anyOf"]
    assert chunk == {"$ref": "#/components/schemas/ChatChunk"}
    assert error == {"$ref": "#/components/schemas/ErrorResponse"}
    assert done == {"const": "[DONE]"}
    assert "ChatChunk" in document()["components"]["schemas"]
    assert reply["content"]["application/json"]["schema"]["$ref"].endswith("/ChatResponse")


def test_a_body_off_its_schema_fails() -> None:
    agent = {"id": "not-a-uuid", "name": "a"}
    with pytest.raises(AssertionError, match="does not match its documented schema"):
        validate("GET", "/agents/00000000-0000-0000-0000-000000000001", 200, agent)
    with pytest.raises(AssertionError, match="not valid under any"):
        validate("GET", "/api/agents", 200, {"items": [{"id": "x"}]})
    deleted = {"id": "x", "deleted_at": "2024-01-01T00:00:00Z", "jobs": []}
    with pytest.raises(AssertionError, match="at id: 'x' is not a 'uuid'"):
        validate("DELETE", "/agents/00000000-0000-0000-0000-000000000001", 202, deleted)
    with pytest.raises(AssertionError, match="at deleted_at"):
        validate(
            "DELETE", "/agents/1", 202, {**deleted, "id": str(uuid.uuid4()), "deleted_at": "x"}
        )


def test_legacy_views_are_documented() -> None:
    deleted = {"id": "00000000-0000-0000-0000-000000000001", "deleted_at": "2024-01-01T00:00:00Z"}
    with pytest.raises(AssertionError, match="jobs"):
        validate("DELETE", "/users/00000000-0000-0000-0000-000000000001", 202, deleted)
    schema = success_schema(document()["paths"]["/agents/{agent_id}/tools"]["get"], 200)
    assert schema == {
        "anyOf": [
            {"$ref": "#/components/schemas/ToolList"},
            {"$ref": "#/components/schemas/LegacyToolList"},
        ],
        "title": schema["title"],
    }


async def test_responses_are_checked(
    client: httpx.AsyncClient, check_responses: list[httpx.Response]
) -> None:
    """The suite's hook sees the API's answers, the 0.x views included."""
    agent = (await client.post("/agents", json={"name": "a"})).json()
    session = await client.post("/sessions", json={"agent": agent["id"]})
    legacy = {"X-Fern-Language": "Python"}
    await client.get(f"/sessions/{session.json()['id']}", headers=legacy)
    await client.get("/agents", headers=legacy)
    assert [r.status_code for r in check_responses] == [201, 201, 200, 200]
    assert check_responses[2].json()["user_id"] == "00000000-0000-0000-0000-000000000000"


def test_documented_bodies_pass_through() -> None:
    """A route's documented model costs nothing per response: the body the view built is
    neither validated nor copied (a 2,000-entry history is serialised as it is)."""
    body = {"session_id": "not even a uuid", "entries": [{"x": 1}]}
    adapter = TypeAdapter(documented(History))
    assert adapter.validate_python(body) is body
    assert adapter.dump_json(body) == b'{"session_id":"not even a uuid","entries":[{"x":1}]}'
