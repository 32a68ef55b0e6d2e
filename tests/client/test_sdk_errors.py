"""One function maps an error response to its SDK error."""

from __future__ import annotations

import httpx
import pytest

from sprig import (
    AgentNotFoundError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    DocNotFoundError,
    InternalServerError,
    JobNotFoundError,
    JulepError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    SessionNotFoundError,
    ToolNotFoundError,
    UnprocessableEntityError,
    UserNotFoundError,
)
from sprig.client.errors import make_status_error

AGENT = "/api/agents/0b7e7d3e-1111-4e2f-9a55-aaaaaaaaaaaa"


def response(status: int, body: object = None, path: str = AGENT, **kw: object) -> httpx.Response:
    request = httpx.Request("GET", "http://sprig.test" + path)
    if isinstance(body, str):
        return httpx.Response(status, text=body, request=request)
    return httpx.Response(status, json=body, request=request)


def v1(message: str, code: str = "x") -> dict[str, object]:
    return {"error": {"message": message, "code": code, "type": "t"}, "detail": message}


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, InternalServerError),
        (502, InternalServerError),
        (503, InternalServerError),
        (418, APIStatusError),
    ],
)
def test_status_maps_to_one_class(status: int, cls: type[APIStatusError]) -> None:
    error = make_status_error(response(status, v1("boom", "c1"), path="/api/x"))
    assert type(error) is cls
    assert isinstance(error, APIStatusError) and isinstance(error, JulepError)
    assert error.status_code == status
    assert error.code == "c1"
    assert error.message == f"Error code: {status} - boom"
    assert error.body == v1("boom", "c1")


@pytest.mark.parametrize(
    ("message", "cls"),
    [
        ("Agent 123 not found", AgentNotFoundError),
        ("User 123 not found", UserNotFoundError),
        ("Session 123 not found", SessionNotFoundError),
        ("Doc 123 not found", DocNotFoundError),
        ("Tool 123 not found", ToolNotFoundError),
        ("Job 123 not found", JobNotFoundError),
    ],
)
def test_not_found_names_the_resource_from_the_message(
    message: str, cls: type[NotFoundError]
) -> None:
    # the path says "agent": the server's message wins
    error = make_status_error(response(404, v1(message)))
    assert type(error) is cls
    assert isinstance(error, NotFoundError)


@pytest.mark.parametrize(
    ("path", "cls"),
    [
        ("/api/sessions/abc/chat", SessionNotFoundError),
        ("/users/abc/docs", UserNotFoundError),
        ("/agents/abc/docs/def", DocNotFoundError),
        ("/docs/abc", DocNotFoundError),
        ("/agents/abc/tools/def", ToolNotFoundError),
        ("/agents", NotFoundError),
        ("/nothing/here", NotFoundError),
    ],
)
def test_not_found_falls_back_to_the_path(path: str, cls: type[NotFoundError]) -> None:
    error = make_status_error(response(404, {"detail": "Not Found"}, path=path))
    assert type(error) is cls


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (v1("from error.message"), "from error.message"),
        ({"detail": "from detail"}, "from detail"),
        ({"detail": [{"loc": ["body"], "msg": "bad"}]}, '[{"loc": ["body"], "msg": "bad"}]'),
        ({"status_code": 500, "message": "legacy shape"}, "legacy shape"),
        ("plain text answer", "plain text answer"),
        ("", "Bad Request"),
    ],
)
def test_message_from_every_body_shape(body: object, message: str) -> None:
    error = make_status_error(response(400, body))
    assert error.message == f"Error code: 400 - {message}"
    assert str(error) == error.message


def test_unreadable_success_bodies_raise_a_julep_error() -> None:
    from sprig import APIResponseValidationError
    from tests.helpers.sdk import Recorder

    not_json = Recorder(lambda r: httpx.Response(200, text="<html>"))
    with pytest.raises(APIResponseValidationError, match="not valid JSON"):
        not_json.sync().agents.get("0b7e7d3e-1111-4e2f-9a55-aaaaaaaaaaaa")
    wrong_shape = Recorder(lambda r: httpx.Response(200, json={"name": "no id"}))
    with pytest.raises(APIResponseValidationError, match="id"):
        wrong_shape.sync().agents.get("0b7e7d3e-1111-4e2f-9a55-aaaaaaaaaaaa")
