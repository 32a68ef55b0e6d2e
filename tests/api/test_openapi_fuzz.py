"""A property-based sweep over ``/openapi.json`` (schemathesis): every operation, with
generated parameters and bodies, against a real uvicorn server holding real resources.

No 5xx, and every response (status, content type, body, headers) is what the document says;
a request the document calls valid is not refused. Path ids are replaced by the seeded
resources' ids, so requests reach the services instead of stopping at 404.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    allow_header_conformance,
    content_type_conformance,
    not_a_server_error,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig

from sprig.server.models.scripted import ScriptedModel
from sprig.server.settings import Settings
from tests.helpers.app import API_KEY, auth, build_app, make_settings
from tests.helpers.database import backend_settings, backends
from tests.helpers.routes import kind_of

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    allow_header_conformance,
    positive_data_acceptance,
]
EXAMPLES = 15
CONFIG = SchemathesisConfig.from_dict(
    {
        # Text with NUL characters is refused (422) by design: storage cannot hold them.
        "generation": {"allow-x00": False},
        # A request the document calls valid may still be refused for the state it meets:
        # 400 (a rule the schema cannot say, e.g. a body naming a missing agent), 404, 409.
        "checks": {"positive_data_acceptance": {"expected-statuses": ["2XX", "400", "404", "409"]}},
    }
)


@pytest.fixture(params=backends())
def live_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """The live server on each backend (SQLite, and PostgreSQL unless skipped)."""
    return backend_settings(request, tmp_path)


@pytest.fixture
def model() -> ScriptedModel:
    """Answers every turn (JSON, so that JSON response formats are met too)."""
    return ScriptedModel(name="scripted", fallback='{"ok": true}')


@functools.cache
def _schema() -> Any:
    """The app's own document (no server needed to read it)."""
    app = build_app(make_settings(Path(tempfile.mkdtemp()) / "data"))
    return schemathesis.openapi.from_dict(app.openapi(), config=CONFIG)


def _labels() -> list[str]:
    return [result.ok().label for result in _schema().get_all_operations()]


def _seed(base: str) -> dict[str, str]:
    with httpx.Client(base_url=base, headers=auth(API_KEY)) as c:
        agent = c.post("/agents", json={"name": "a"}).json()["id"]
        user = c.post("/users", json={"name": "u"}).json()["id"]
        session = c.post("/sessions", json={"agent": agent, "user": user}).json()["id"]
        tool = c.post(f"/agents/{agent}/tools", json={"name": "t", "type": "function"})
        ids = {"agent": agent, "user": user, "session": session, "tool": tool.json()["id"]}
        for kind in ("agent", "user", "session"):
            doc = c.post(f"/{kind}s/{ids[kind]}/docs", json={"title": "d", "content": "c"})
            ids[f"{kind}_doc"] = doc.json()["id"]
        ids["job"] = (doc.json()["jobs"] or [ids["agent_doc"]])[0]
    return ids


def _real_ids(path: str, generated: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    kind = kind_of(path)
    out = dict(generated)
    for name in generated:
        key = kind if name in ("id", "owner_id") else name.removesuffix("_id")
        if name == "doc_id":
            key = f"{kind}_doc" if f"{kind}_doc" in ids else "agent_doc"
        if key in ids:
            out[name] = ids[key]
    return out


@pytest.mark.parametrize("label", _labels())
def test_every_operation_conforms(label: str, live_url: str) -> None:
    operation = _schema().find_operation_by_label(label)
    ids = _seed(live_url)

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def check(case: Any) -> None:
        if case.path_parameters:
            case.path_parameters = _real_ids(operation.path, case.path_parameters, ids)
        case.call_and_validate(base_url=live_url, headers=auth(API_KEY), checks=CHECKS)

    check()


@pytest.mark.parametrize("stream", [False, True])
def test_a_chat_reply_conforms_streamed_or_not(stream: bool, live_url: str) -> None:
    """The fuzz reaches a successful streamed turn only sometimes: this one always does,
    and every event (the chunks, then ``[DONE]``) must match the documented item schema."""
    operation = _schema().find_operation_by_label("POST /sessions/{session_id}/chat")
    session = _seed(live_url)["session"]
    body = {"messages": [{"role": "user", "content": "hi"}], "stream": stream}
    case = operation.Case(path_parameters={"session_id": session}, body=body)
    response = case.call_and_validate(base_url=live_url, headers=auth(API_KEY), checks=CHECKS)
    assert response.status_code == 201
    kind = "text/event-stream" if stream else "application/json"
    assert response.headers["content-type"][0].startswith(kind)
    assert ("data: [DONE]" in response.text) is stream
