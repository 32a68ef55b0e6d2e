"""The official `julep==2.21.0` SDK, unmodified and strict, against a real `sprig serve` process."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from julep import (
    AsyncJulep,
    AuthenticationError,
    BadRequestError,
    Julep,
    NotFoundError,
    PermissionDeniedError,
)

pytestmark = pytest.mark.e2e

WEATHER_PARAMS = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}
RECALL = {
    "mode": "hybrid",
    "limit": 5,
    "alpha": 0.7,
    "confidence": 0.2,
    "num_search_messages": 3,
    "metadata_filter": {"lang": "en"},
}


def make_client(base_url: str, api_key: str) -> Julep:
    return Julep(
        api_key=api_key, base_url=base_url, _strict_response_validation=True, max_retries=0
    )


@pytest.fixture(scope="module")
def client(live_server: Any) -> Julep:
    return make_client(live_server.base_url, live_server.api_key)


@pytest.fixture
def tag() -> str:
    """A metadata value unique to one test, so list assertions see only its own items."""
    return uuid.uuid4().hex


@pytest.fixture
def agent_id(client: Julep) -> str:
    return client.agents.create(name="Fixture agent").id


def extra(model: Any, key: str) -> Any:
    """A field the server adds beyond the SDK model (allowed by the SDK, kept in model_extra)."""
    return (model.model_extra or {}).get(key)


def assert_not_found(call: Callable[[], object]) -> None:
    with pytest.raises(NotFoundError) as info:
        call()
    assert info.value.status_code == 404
    assert info.value.response.headers.get("x-should-retry") == "false"
    body = info.value.body
    assert isinstance(body, dict) and body["error"]["message"], body


# ------------------------------------------------------------------------------------ agents


def test_agent_crud_round_trip(client: Julep, tag: str) -> None:
    [model] = [m.id for m in client.agents.list_models().models][:1]
    fields: dict[str, Any] = {
        "name": "Ada",
        "about": "Answers questions about engines",
        "canonical_name": f"ada_{tag[:8]}",
        "default_settings": {"temperature": 0.3, "top_p": 0.9},
        "default_system_template": "You are {{agent.name}}.",
        "instructions": ["be brief", "cite sources"],
        "metadata": {"tag": tag, "tier": "gold"},
        "model": model,
    }
    created = client.agents.create(**fields)
    uuid.UUID(created.id)
    got = client.agents.get(created.id)
    for key, value in fields.items():
        assert getattr(created, key) == value, key
        assert getattr(got, key) == value, key
    assert got.created_at == created.created_at
    assert got.updated_at >= got.created_at


def test_agent_patch_keeps_other_fields(client: Julep, tag: str) -> None:
    created = client.agents.create(
        name="Patch me", about="before", instructions=["one"], metadata={"tag": tag}
    )
    patched = client.agents.update(created.id, about="after")
    assert (patched.id, patched.name, patched.about) == (created.id, "Patch me", "after")
    assert patched.instructions == ["one"]
    assert patched.metadata == {"tag": tag}
    assert patched.updated_at >= created.updated_at
    assert client.agents.get(created.id).about == "after"


def test_agent_reset_replaces_everything(client: Julep, tag: str) -> None:
    created = client.agents.create(
        name="Reset me", about="before", instructions=["one"], metadata={"tag": tag}
    )
    reset = client.agents.reset(created.id, name="Was reset", about="fresh")
    got = client.agents.get(created.id)
    for agent in (reset, got):
        assert (agent.id, agent.name, agent.about) == (created.id, "Was reset", "fresh")
        assert not agent.instructions
        assert not agent.metadata
    assert got.created_at == created.created_at


def test_agent_delete(client: Julep) -> None:
    created = client.agents.create(name="Short lived")
    deleted = client.agents.delete(created.id)
    assert deleted.id == created.id
    assert isinstance(deleted.deleted_at, datetime)
    assert_not_found(lambda: client.agents.get(created.id))
    assert_not_found(lambda: client.agents.delete(created.id))


def test_agent_create_or_update(client: Julep, tag: str) -> None:
    chosen = str(uuid.uuid4())
    first = client.agents.create_or_update(chosen, name="First", metadata={"tag": tag})
    assert first.id == chosen
    second = client.agents.create_or_update(chosen, name="Second", metadata={"tag": tag})
    assert (second.id, second.name) == (chosen, "Second")
    assert client.agents.get(chosen).name == "Second"
    listed = client.agents.list(metadata_filter={"tag": tag}).items
    assert [a.id for a in listed] == [chosen]


def test_agent_list_filter_and_sort(client: Julep, tag: str) -> None:
    made = [
        client.agents.create(name=f"Sorted {i}", metadata={"tag": tag, "rank": i}) for i in range(3)
    ]
    ids = [a.id for a in made]
    page = client.agents.list(metadata_filter={"tag": tag}, direction="asc")
    assert [a.id for a in page.items] == ids
    page = client.agents.list(metadata_filter={"tag": tag}, direction="desc")
    assert [a.id for a in page.items] == ids[::-1]
    only = client.agents.list(metadata_filter={"tag": tag, "rank": 1}).items
    assert [a.id for a in only] == [ids[1]]
    client.agents.update(ids[0], about="touched last")
    by_update = client.agents.list(
        metadata_filter={"tag": tag}, sort_by="updated_at", direction="desc"
    )
    assert by_update.items[0].id == ids[0]


def test_list_models(client: Julep) -> None:
    models = client.agents.list_models().models
    assert models and all(isinstance(m.id, str) and m.id for m in models)
    assert client.agents.create(name="Default model").model in {m.id for m in models}


# ------------------------------------------------------------------------------------- users


def test_user_crud(client: Julep, tag: str) -> None:
    created = client.users.create(name="Grace", about="Likes compilers", metadata={"tag": tag})
    got = client.users.get(created.id)
    assert (got.id, got.name, got.about, got.metadata) == (
        created.id, "Grace", "Likes compilers", {"tag": tag},
    )  # fmt: skip
    patched = client.users.update(created.id, about="Likes COBOL")
    assert (patched.name, patched.about, patched.metadata) == ("Grace", "Likes COBOL", {"tag": tag})
    reset = client.users.reset(created.id, name="Grace H.")
    assert (reset.name, client.users.get(created.id).name) == ("Grace H.", "Grace H.")
    assert not reset.about and not reset.metadata
    assert client.users.delete(created.id).id == created.id
    assert_not_found(lambda: client.users.get(created.id))


def test_user_create_or_update_and_list(client: Julep, tag: str) -> None:
    chosen = str(uuid.uuid4())
    client.users.create_or_update(chosen, name="Linus", metadata={"tag": tag})
    updated = client.users.create_or_update(chosen, name="Linus T.", metadata={"tag": tag})
    assert (updated.id, updated.name) == (chosen, "Linus T.")
    other = client.users.create(name="Other", metadata={"tag": tag})
    ids = [u.id for u in client.users.list(metadata_filter={"tag": tag}, direction="asc").items]
    assert ids == [chosen, other.id]


def test_pagination_auto_iteration_ends(client: Julep, tag: str) -> None:
    made = [client.users.create(name=f"Paged {i}", metadata={"tag": tag}).id for i in range(5)]
    pager = client.users.list(limit=1, metadata_filter={"tag": tag}, direction="asc")
    seen = [user.id for user in pager]
    assert seen == made
    pages = list(client.users.list(limit=2, metadata_filter={"tag": tag}).iter_pages())
    # the SDK fetches until a page comes back empty; that last empty page ends iteration
    assert [len(p.items) for p in pages] == [2, 2, 1, 0]
    past_end = client.users.list(offset=5, metadata_filter={"tag": tag})
    assert past_end.items == []


# ---------------------------------------------------------------------------------- sessions


def test_session_all_fields_round_trip(client: Julep, agent_id: str, tag: str) -> None:
    user = client.users.create(name="Session user")
    fields: dict[str, Any] = {
        "situation": "A support chat",
        "system_template": "{{agent.name}} helps {{user.name}}.",
        "render_templates": False,
        "token_budget": 1500,
        "context_overflow": "truncate",
        "auto_run_tools": True,
        "forward_tool_calls": True,
        "metadata": {"tag": tag},
    }
    created = client.sessions.create(agent=agent_id, user=user.id, recall_options=RECALL, **fields)
    got = client.sessions.get(created.id)
    for session in (created, got):
        for key, value in fields.items():
            assert getattr(session, key) == value, key
        assert session.recall_options is not None
        options = session.recall_options.model_dump()
        assert {k: options[k] for k in RECALL} == RECALL
        assert (extra(session, "agent_id"), extra(session, "user_id")) == (agent_id, user.id)


def test_session_defaults(client: Julep, agent_id: str) -> None:
    session = client.sessions.get(client.sessions.create(agent=agent_id).id)
    assert session.render_templates is True
    assert (session.auto_run_tools, session.forward_tool_calls) == (False, False)
    assert (session.token_budget, session.context_overflow, session.situation) == (None,) * 3
    assert extra(session, "agents") == [agent_id]
    assert extra(session, "users") == []


def test_multi_agent_multi_user_session(client: Julep) -> None:
    agents = [client.agents.create(name=f"Multi {i}").id for i in range(2)]
    users = [client.users.create(name=f"Multi user {i}").id for i in range(2)]
    created = client.sessions.create(agents=agents, users=users, situation="group chat")
    got = client.sessions.get(created.id)
    assert sorted(extra(got, "agents")) == sorted(agents)
    assert sorted(extra(got, "users")) == sorted(users)
    assert got.situation == "group chat"
    by_agent = client.sessions.list(extra_query={"agent_id": agents[1]}).items
    assert [s.id for s in by_agent] == [created.id]
    by_user = client.sessions.list(extra_query={"user_id": users[0]}).items
    assert [s.id for s in by_user] == [created.id]


def test_session_update_reset_delete(client: Julep, agent_id: str, tag: str) -> None:
    created = client.sessions.create(
        agent=agent_id, situation="before", token_budget=900, metadata={"tag": tag}
    )
    patched = client.sessions.update(created.id, situation="after")
    assert (patched.situation, patched.token_budget, patched.metadata) == (
        "after", 900, {"tag": tag},
    )  # fmt: skip
    reset = client.sessions.reset(created.id, situation="reset")
    assert (reset.situation, reset.token_budget) == ("reset", None)
    assert client.sessions.get(created.id).situation == "reset"
    assert extra(reset, "agent_id") == agent_id
    assert client.sessions.delete(created.id).id == created.id
    assert_not_found(lambda: client.sessions.get(created.id))


def test_session_create_or_update_and_list(client: Julep, agent_id: str, tag: str) -> None:
    chosen = str(uuid.uuid4())
    client.sessions.create_or_update(chosen, agent=agent_id, situation="v1", metadata={"tag": tag})
    again = client.sessions.create_or_update(
        chosen, agent=agent_id, situation="v2", metadata={"tag": tag}
    )
    assert (again.id, again.situation) == (chosen, "v2")
    listed = client.sessions.list(metadata_filter={"tag": tag}).items
    assert [(s.id, s.situation) for s in listed] == [(chosen, "v2")]


def test_new_session_history_is_empty(client: Julep, agent_id: str) -> None:
    session = client.sessions.create(agent=agent_id)
    history = client.sessions.history(session.id)
    assert history.session_id == session.id
    assert (history.entries, history.relations) == ([], [])


# ------------------------------------------------------------------------------------- tools


def create_three_tools(client: Julep, agent_id: str) -> list[Any]:
    tools = client.agents.tools
    return [
        tools.create(
            agent_id, name="get_weather", type="function", description="Weather by city",
            function={"description": "Weather by city", "parameters": WEATHER_PARAMS},
        ),
        tools.create(
            agent_id, name="fetch_page", type="api_call",
            api_call={"method": "GET", "url": "https://example.com/page", "timeout": 5},
        ),
        tools.create(
            agent_id, name="list_agents", type="system",
            system={"resource": "agent", "operation": "list"},
        ),
    ]  # fmt: skip


def test_agent_tools_of_every_type(client: Julep, agent_id: str) -> None:
    made = create_three_tools(client, agent_id)
    listed = {t.id: t for t in client.agents.tools.list(agent_id, limit=10)}
    assert set(listed) == {t.id for t in made}
    function, api_call, system = (listed[t.id] for t in made)
    assert (function.name, function.type, function.description) == (
        "get_weather", "function", "Weather by city",
    )  # fmt: skip
    assert function.function is not None and function.function.parameters == WEATHER_PARAMS
    assert (api_call.type, api_call.api_call and api_call.api_call.url) == (
        "api_call", "https://example.com/page",
    )  # fmt: skip
    assert api_call.api_call is not None and api_call.api_call.method == "GET"
    assert system.type == "system"
    assert system.system is not None
    assert (system.system.resource, system.system.operation) == ("agent", "list")


def test_agent_tool_update_reset_delete(client: Julep, agent_id: str) -> None:
    tool, *_ = create_three_tools(client, agent_id)
    tools = client.agents.tools
    patched = tools.update(tool.id, agent_id=agent_id, description="patched")
    assert (patched.id, patched.name, patched.description) == (tool.id, "get_weather", "patched")
    reset = tools.reset(
        tool.id, agent_id=agent_id, name="weather_v2", type="function",
        function={"parameters": {"type": "object"}},
    )  # fmt: skip
    assert (reset.id, reset.name, reset.type) == (tool.id, "weather_v2", "function")
    assert not reset.description
    assert tools.delete(tool.id, agent_id=agent_id).id == tool.id
    remaining = [t.id for t in tools.list(agent_id)]
    assert tool.id not in remaining and len(remaining) == 2
    assert_not_found(lambda: tools.delete(tool.id, agent_id=agent_id))


# -------------------------------------------------------------------------------------- docs


def test_agent_docs_create_list_get_delete(client: Julep, agent_id: str) -> None:
    docs = client.agents.docs
    text = docs.create(agent_id, title="Manual", content="Turn it off and on.", metadata={"v": 1})
    parts = docs.create(agent_id, title="Parts", content=["first part", "second part"])
    assert (text.title, text.content, text.metadata) == ("Manual", "Turn it off and on.", {"v": 1})
    assert parts.content == ["first part", "second part"]
    listed = docs.list(agent_id, direction="asc").items
    assert [d.id for d in listed] == [text.id, parts.id]
    got = client.docs.get(parts.id)
    assert (got.id, got.title, got.content) == (parts.id, "Parts", ["first part", "second part"])
    assert docs.delete(text.id, agent_id=agent_id).id == text.id
    assert_not_found(lambda: client.docs.get(text.id))
    assert [d.id for d in docs.list(agent_id)] == [parts.id]


def test_user_docs_and_metadata_filter(client: Julep) -> None:
    user = client.users.create(name="Doc owner")
    docs = client.users.docs
    red = docs.create(user.id, title="Red", content="r", metadata={"color": "red"})
    blue = docs.create(user.id, title="Blue", content="b", metadata={"color": "blue"})
    only_red = docs.list(user.id, metadata_filter={"color": "red"}).items
    assert [d.id for d in only_red] == [red.id]
    assert client.docs.get(blue.id).metadata == {"color": "blue"}
    assert docs.delete(blue.id, user_id=user.id).id == blue.id
    assert [d.id for d in docs.list(user.id)] == [red.id]


@pytest.mark.parametrize("owner", ["agents", "users"])
def test_docs_bulk_delete(client: Julep, owner: str) -> None:
    owner_id = getattr(client, owner).create(name="Bulk owner").id
    docs = getattr(client, owner).docs
    made = {
        color: [docs.create(owner_id, title=f"{color} {i}", content="x", metadata={"c": color}).id
                for i in range(2)]
        for color in ("red", "blue", "green")
    }  # fmt: skip
    removed = docs.bulk_delete(owner_id, metadata_filter={"c": "red"})
    assert sorted(d.id for d in removed) == sorted(made["red"])
    left = {d.id for d in docs.list(owner_id)}
    assert left == set(made["blue"] + made["green"])
    removed = docs.bulk_delete(owner_id, delete_all=True)
    assert {d.id for d in removed} == left
    assert docs.list(owner_id).items == []
    assert_not_found(lambda: client.docs.get(made["blue"][0]))


# -------------------------------------------------------------------------- errors & tenancy


@pytest.mark.parametrize(
    "call",
    ["agents.get", "users.get", "sessions.get", "docs.get", "jobs.get", "sessions.history"],
)
def test_missing_ids_are_not_found(client: Julep, call: str) -> None:
    resource, method = call.split(".")
    fn = getattr(getattr(client, resource), method)
    assert_not_found(lambda: fn(str(uuid.uuid4())))


def test_wrong_key_is_refused(live_server: Any) -> None:
    intruder = make_client(live_server.base_url, "sk-not-a-real-key")
    with pytest.raises((AuthenticationError, PermissionDeniedError)):
        intruder.agents.list()


@pytest.fixture(scope="module")
def other_tenant(live_server: Any) -> Julep:
    return make_client(live_server.base_url, live_server.create_key("tenant-b"))


def test_other_tenant_sees_nothing(client: Julep, other_tenant: Julep, agent_id: str) -> None:
    user = client.users.create(name="Private user")
    session = client.sessions.create(agent=agent_id, user=user.id)
    doc = client.agents.docs.create(agent_id, title="Secret", content="s")
    assert_not_found(lambda: other_tenant.agents.get(agent_id))
    assert_not_found(lambda: other_tenant.users.get(user.id))
    assert_not_found(lambda: other_tenant.sessions.get(session.id))
    assert_not_found(lambda: other_tenant.docs.get(doc.id))
    assert_not_found(lambda: other_tenant.agents.update(agent_id, name="hijacked"))
    assert_not_found(lambda: other_tenant.agents.delete(agent_id))
    with pytest.raises(BadRequestError) as info:  # a body naming what is not there: 400
        other_tenant.sessions.create(agent=agent_id)
    assert info.value.body["error"]["message"] == f"Agent {agent_id} not found"
    assert agent_id not in {a.id for a in other_tenant.agents.list(limit=100)}
    assert client.agents.get(agent_id).name == "Fixture agent"
    assert client.docs.get(doc.id).title == "Secret"


def test_other_tenant_has_its_own_data(other_tenant: Julep, client: Julep) -> None:
    mine = other_tenant.agents.create(name="Tenant B agent")
    assert other_tenant.agents.get(mine.id).name == "Tenant B agent"
    assert_not_found(lambda: client.agents.get(mine.id))


# ----------------------------------------------------------------------- mounts, async, restart


def test_api_prefix_mount(live_server: Any) -> None:
    prefixed = make_client(f"{live_server.base_url}/api", live_server.api_key)
    user = prefixed.users.create(name="Via /api")
    root = make_client(live_server.base_url, live_server.api_key)
    assert root.users.get(user.id).name == "Via /api"


async def test_async_round_trip(live_server: Any, tag: str) -> None:
    async with AsyncJulep(
        api_key=live_server.api_key, base_url=live_server.base_url,
        _strict_response_validation=True, max_retries=0,
    ) as aclient:  # fmt: skip
        agent = await aclient.agents.create(name="Async agent", metadata={"tag": tag})
        assert (await aclient.agents.get(agent.id)).name == "Async agent"
        page = await aclient.agents.list(metadata_filter={"tag": tag})
        assert [a.id for a in page.items] == [agent.id]
        patched = await aclient.agents.update(agent.id, about="async about")
        assert (patched.name, patched.about) == ("Async agent", "async about")
        session = await aclient.sessions.create(agent=agent.id, situation="async")
        assert (await aclient.sessions.get(session.id)).situation == "async"
        assert (await aclient.agents.delete(agent.id)).id == agent.id
        with pytest.raises(NotFoundError):
            await aclient.agents.get(agent.id)


async def test_async_auto_pagination(live_server: Any, tag: str) -> None:
    async with AsyncJulep(
        api_key=live_server.api_key, base_url=live_server.base_url,
        _strict_response_validation=True, max_retries=0,
    ) as aclient:  # fmt: skip
        made = [
            (await aclient.users.create(name=f"A{i}", metadata={"tag": tag})).id for i in range(3)
        ]
        pager = aclient.users.list(limit=1, metadata_filter={"tag": tag}, direction="asc")
        assert [user.id async for user in pager] == made


def test_concurrent_writers(client: Julep, tag: str) -> None:
    """One SQLite writer behind the server: parallel clients must all succeed, none lost."""

    def work(worker: int) -> list[str]:
        made = []
        for i in range(5):
            agent = client.agents.create(name=f"w{worker}-{i}", metadata={"tag": tag})
            client.agents.update(agent.id, about="touched")
            made.append(client.sessions.create(agent=agent.id).id)
        return made

    with ThreadPoolExecutor(8) as pool:
        sessions = [sid for batch in pool.map(work, range(8)) for sid in batch]
    assert len(set(sessions)) == 40
    listed = list(client.agents.list(metadata_filter={"tag": tag}, limit=7))
    assert len(listed) == 40
    assert {a.about for a in listed} == {"touched"}


def seed(client: Julep) -> dict[str, str]:
    agent = client.agents.create(name="Durable", instructions=["persist"])
    user = client.users.create(name="Durable user")
    session = client.sessions.create(agent=agent.id, user=user.id, situation="kept")
    doc = client.agents.docs.create(agent.id, title="Kept doc", content="still here")
    return {"agent": agent.id, "user": user.id, "session": session.id, "doc": doc.id}


def test_restart_keeps_data_and_key(server_factory: Callable[..., Any], tmp_path: Path) -> None:
    data_dir = tmp_path / "restart-data"
    first = server_factory(data_dir=data_dir)
    ids = seed(make_client(first.base_url, first.api_key))
    tenant_key = first.create_key("restart-tenant")
    tenant_agent = make_client(first.base_url, tenant_key).agents.create(name="Tenant durable")
    assert first.stop() is not None
    second = server_factory(data_dir=data_dir, api_key=first.api_key)
    again = make_client(second.base_url, second.api_key)
    tenant = make_client(second.base_url, tenant_key)
    assert tenant.agents.get(tenant_agent.id).name == "Tenant durable"
    assert_not_found(lambda: tenant.agents.get(ids["agent"]))
    assert again.agents.get(ids["agent"]).instructions == ["persist"]
    assert again.users.get(ids["user"]).name == "Durable user"
    assert again.sessions.get(ids["session"]).situation == "kept"
    assert again.docs.get(ids["doc"]).content == "still here"
    assert [a.id for a in again.agents.list()] == [ids["agent"]]
