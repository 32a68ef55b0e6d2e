"""System operations against fake services: tenant passing, id defaults, fixed values."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest

from sprig.server.errors import BadRequestError, NotFoundError, NotImplementedFeatureError
from sprig.server.tools.context import DocOwner, Row, SystemServices, ToolContext
from sprig.server.tools.system import SystemRegistry

DEV, OTHER_DEV = uuid4(), uuid4()
AGENT, USER, SESSION = uuid4(), uuid4(), uuid4()


class FakeServices:
    """Two tenants' data; every call is recorded with the tenant it was made for."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, UUID, Any]] = []
        self.agents = {(DEV, AGENT): {"id": AGENT, "name": "Ada", "developer_id": DEV}}
        self.docs: dict[tuple[UUID, str, UUID], list[Row]] = {}

    def _record(self, name: str, developer_id: UUID, *args: Any) -> None:
        self.calls.append((name, developer_id, args))

    async def get_agent(self, developer_id: UUID, agent_id: UUID) -> Row:
        self._record("get_agent", developer_id, agent_id)
        if (developer_id, agent_id) not in self.agents:
            raise NotFoundError(f"Agent {agent_id} not found")
        return self.agents[(developer_id, agent_id)]

    async def get_user(self, developer_id: UUID, user_id: UUID) -> Row:
        self._record("get_user", developer_id, user_id)
        return {"id": user_id, "name": "Grace"}

    async def get_session(self, developer_id: UUID, session_id: UUID) -> Row:
        self._record("get_session", developer_id, session_id)
        return {"id": session_id, "situation": "testing"}

    async def session_history(
        self, developer_id: UUID, session_id: UUID, limit: int | None
    ) -> list[Row]:
        self._record("session_history", developer_id, session_id, limit)
        entries = [
            {"id": uuid4(), "role": "user", "content": f"m{i}", "token_count": 3, "seq": i}
            for i in range(5)
        ]
        return entries[-limit:] if limit else entries

    async def list_docs(
        self, developer_id: UUID, owner: DocOwner, owner_id: UUID, limit: int, offset: int
    ) -> list[Row]:
        self._record("list_docs", developer_id, owner, owner_id, limit, offset)
        return self.docs.get((developer_id, owner, owner_id), [])[offset : offset + limit]

    async def create_doc(
        self, developer_id: UUID, owner: DocOwner, owner_id: UUID, doc: Row
    ) -> Row:
        self._record("create_doc", developer_id, owner, owner_id, doc)
        row = {"id": uuid4(), **doc, "developer_id": developer_id, "content_hash": "x"}
        self.docs.setdefault((developer_id, owner, owner_id), []).append(row)
        return row

    async def search_docs(
        self, developer_id: UUID, owner: DocOwner, owner_id: UUID, text: str, limit: int
    ) -> list[Row]:
        self._record("search_docs", developer_id, owner, owner_id, text, limit)
        docs = self.docs.get((developer_id, owner, owner_id), [])
        return [d for d in docs if text in str(d.get("content"))][:limit]


@pytest.fixture
def services() -> FakeServices:
    return FakeServices()


def ctx(services: SystemServices, developer: UUID = DEV) -> ToolContext:
    return ToolContext(developer, AGENT, SESSION, (USER,), services)


async def test_fake_matches_the_protocol(services: FakeServices) -> None:
    port: SystemServices = services
    assert port is services


async def test_agent_get_defaults_to_the_conversation_agent(services: FakeServices) -> None:
    result = await SystemRegistry().run(
        {"resource": "agent", "operation": "get"}, {}, ctx(services)
    )
    assert result == {"id": AGENT, "name": "Ada"}  # developer_id left out
    assert services.calls == [("get_agent", DEV, (AGENT,))]


async def test_other_tenant_is_passed_through_and_cannot_see_the_agent(
    services: FakeServices,
) -> None:
    with pytest.raises(NotFoundError):
        await SystemRegistry().run(
            {"resource": "agent", "operation": "get"}, {}, ctx(services, OTHER_DEV)
        )
    assert services.calls[0][1] == OTHER_DEV


async def test_docs_create_then_search_for_the_first_user(services: FakeServices) -> None:
    registry = SystemRegistry()
    create = {"resource": "user", "subresource": "doc", "operation": "create"}
    made = await registry.run(create, {"title": "t", "content": "the sky is blue"}, ctx(services))
    assert "developer_id" not in made and "content_hash" not in made
    search = {"resource": "user", "subresource": "doc", "operation": "search"}
    found = await registry.run(search, {"text": "sky"}, ctx(services))
    assert [d["title"] for d in found["docs"]] == ["t"]
    assert services.calls[-1] == ("search_docs", DEV, ("user", USER, "sky", 5))


async def test_fixed_resource_id_and_arguments_win(services: FakeServices) -> None:
    other = uuid4()
    body = {
        "resource": "agent",
        "subresource": "doc",
        "operation": "list",
        "resource_id": str(other),
        "arguments": {"limit": 2},
    }
    result = await SystemRegistry().run(body, {"offset": 1}, ctx(services))
    assert result == {"items": []}
    assert services.calls == [("list_docs", DEV, ("agent", other, 2, 1))]
    with pytest.raises(BadRequestError, match="limit"):
        await SystemRegistry().run(body, {"limit": 50}, ctx(services))


async def test_session_history_returns_the_last_entries_trimmed(services: FakeServices) -> None:
    body = {"resource": "session", "operation": "history"}
    result = await SystemRegistry().run(body, {"limit": 2}, ctx(services))
    assert [e["content"] for e in result["entries"]] == ["m3", "m4"]
    assert set(result["entries"][0]) == {"id", "role", "content"}
    assert services.calls == [("session_history", DEV, (SESSION, 2))]


async def test_argument_errors(services: FakeServices) -> None:
    registry = SystemRegistry()
    get_user = {"resource": "user", "operation": "get"}
    with pytest.raises(BadRequestError, match="not a valid id"):
        await registry.run(get_user, {"user_id": "nope"}, ctx(services))
    with pytest.raises(BadRequestError, match="Additional properties"):
        await registry.run(get_user, {"user_id": str(USER), "x": 1}, ctx(services))
    lonely = ToolContext(DEV, services=services)
    with pytest.raises(BadRequestError, match="No user_id given"):
        await registry.run(get_user, {}, lonely)


async def test_unsupported_operations_list_the_supported_ones(services: FakeServices) -> None:
    with pytest.raises(NotImplementedFeatureError, match=r"'agent\.delete'.*agent\.doc\.search"):
        await SystemRegistry().run({"resource": "agent", "operation": "delete"}, {}, ctx(services))


async def test_no_services_in_context_is_a_clear_error() -> None:
    with pytest.raises(NotImplementedFeatureError, match="not available"):
        await SystemRegistry().run(
            {"resource": "agent", "operation": "get"}, {}, ToolContext(DEV, AGENT)
        )
