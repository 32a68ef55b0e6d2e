"""The public surface: sync/async parity, the documented names, and a light import."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
import textwrap
from typing import Any

import pytest

import sprig
from sprig import AsyncClient, AsyncJulepApi, Client, JulepApi

# The flat methods of the Julep API-client documentation.
JULEP_API = {
    "chat", "create_agent", "create_agent_doc", "create_agent_tool", "create_session",
    "create_user", "create_user_doc", "delete_agent", "delete_agent_doc", "delete_agent_memory",
    "delete_agent_tool", "delete_session", "delete_session_history", "delete_user",
    "delete_user_doc", "get_agent", "get_agent_docs", "get_agent_memories", "get_agent_tools",
    "get_history", "get_job_status", "get_session", "get_suggestions", "get_user",
    "get_user_docs", "list_agents", "list_sessions", "list_users", "patch_agent",
    "patch_agent_tool", "patch_session", "patch_user", "update_agent", "update_agent_tool",
    "update_session", "update_user",
}  # fmt: skip
# The managers of the Julep SDK documentation, with the methods Sprig offers on each
# (``sessions.trace``/``traces``: Sprig's own, stored turn traces).
MANAGERS = {
    "agents": {"create", "get", "list", "update", "delete"},
    "users": {"create", "get", "list", "update", "delete"},
    "sessions": {
        "create", "get", "list", "update", "delete", "chat", "history", "clear",
        "delete_history", "suggestions", "trace", "traces",
    },
    "sessions.docs": {"create", "list", "delete", "search"},
    "docs": {"create", "get", "list", "delete", "search", "bulk_delete"},
    "memories": {"list", "delete"},
    "tools": {"create", "get", "list", "update", "delete"},
    "jobs": {"get"},
}  # fmt: skip


def public_methods(obj: Any) -> dict[str, Any]:
    return {
        name: getattr(type(obj), name)
        for name in dir(type(obj))
        if not name.startswith("_") and callable(getattr(type(obj), name))
    }


def manager(client: Any, path: str) -> Any:
    for part in path.split("."):
        client = getattr(client, part)
    return client


@pytest.fixture
def clients() -> tuple[Client, AsyncClient]:
    return Client(api_key="k"), AsyncClient(api_key="k")


def test_client_managers_have_the_documented_methods(clients: tuple[Client, AsyncClient]) -> None:
    for client in clients:
        for path, names in MANAGERS.items():
            assert set(public_methods(manager(client, path))) == names, path


def test_flat_clients_have_the_documented_methods() -> None:
    for api in (JulepApi(api_key="k"), AsyncJulepApi(api_key="k")):
        assert set(public_methods(api)) - {"close"} == JULEP_API


def parameters(method: Any) -> list[tuple[str, Any, Any, Any]]:
    signature = inspect.signature(method)
    return [(p.name, p.kind, p.default, str(p.annotation)) for p in signature.parameters.values()]


def result(method: Any) -> str:
    """The return annotation, with the sync/async page and stream classes made one."""
    text = str(inspect.signature(method).return_annotation)
    return re.sub(r"\b(Sync|Async)(?=Page|ChatStream)", "", text)


def assert_twins(sync_obj: Any, async_obj: Any) -> int:
    sync_methods, async_methods = public_methods(sync_obj), public_methods(async_obj)
    assert set(sync_methods) == set(async_methods)
    for name, method in sync_methods.items():
        twin = async_methods[name]
        assert parameters(method) == parameters(twin), name
        assert result(method) == result(twin), name
        bound = getattr(async_obj, name)
        assert parameters(getattr(sync_obj, name)) == parameters(bound), name
        assert result(getattr(sync_obj, name)) == result(bound), name
        assert inspect.iscoroutinefunction(bound), name
        assert not inspect.iscoroutinefunction(getattr(sync_obj, name)), name
        assert inspect.getdoc(getattr(sync_obj, name)) == inspect.getdoc(bound), name
    return len(sync_methods)


def test_sync_and_async_twins_match(clients: tuple[Client, AsyncClient]) -> None:
    sync_client, async_client = clients
    count = sum(
        assert_twins(manager(sync_client, path), manager(async_client, path)) for path in MANAGERS
    )
    count += assert_twins(sync_client, async_client)
    count += assert_twins(JulepApi(api_key="k"), AsyncJulepApi(api_key="k"))
    assert count >= 40 + 36
    chat = type(sync_client.sessions).chat, type(async_client.sessions).chat
    assert [result(m) for m in chat] == ["ChatResponse | ChatStream"] * 2
    assert str(inspect.signature(chat[1]).return_annotation) == "ChatResponse | AsyncChatStream"


def test_every_method_is_documented(clients: tuple[Client, AsyncClient]) -> None:
    for path in MANAGERS:
        for name, method in public_methods(manager(clients[0], path)).items():
            assert inspect.getdoc(method), f"{path}.{name}"
    for name in JULEP_API:
        assert inspect.getdoc(getattr(JulepApi, name)), name


def test_bound_methods_show_their_real_signature(clients: tuple[Client, AsyncClient]) -> None:
    method = clients[0].agents.get
    assert str(inspect.signature(method)) == "(id: 'Id') -> 'Agent'"
    assert method.__qualname__ == "agents.get"
    assert str(inspect.signature(clients[1].agents.list).return_annotation) == "AsyncPage[Agent]"


def test_public_names_are_exported() -> None:
    for name in sprig.__all__:
        assert getattr(sprig, name) is not None
    assert issubclass(sprig.SessionNotFoundError, sprig.NotFoundError)


IMPORT_PROBE = textwrap.dedent(
    """
    import sys, time
    start = time.process_time()  # CPU time: other processes on the machine do not count
    import sprig
    from sprig import Client, AsyncClient, JulepApi, AsyncJulepApi
    elapsed = time.process_time() - start
    heavy = sorted(
        m for m in sys.modules
        if m == "sprig.cli" or m.startswith(("sprig.server", "sprig.cli.", "fastapi", "sqlalchemy", "torch",
                         "litellm", "llama_cpp", "numpy", "starlette", "uvicorn", "asyncio"))
    )
    print(elapsed, ",".join(heavy))
    """
)


def test_import_is_light_and_loads_no_server_code() -> None:
    runs = []
    for _ in range(5):
        result = subprocess.run(
            [sys.executable, "-c", IMPORT_PROBE], capture_output=True, text=True, check=True
        )
        elapsed, _, heavy = result.stdout.strip().partition(" ")
        assert heavy == "", heavy
        runs.append(float(elapsed))
    assert min(runs) < 0.5, runs


def test_configuration_from_arguments_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPRIG_API_KEY", raising=False)
    monkeypatch.delenv("SPRIG_BASE_URL", raising=False)
    with pytest.raises(sprig.JulepError, match="SPRIG_API_KEY"):
        Client()
    with pytest.raises(sprig.JulepError, match="max_retries"):
        JulepApi(api_key="k", max_retries=-1)
    assert Client(api_key="k").base_url == "http://127.0.0.1:8080"
    monkeypatch.setenv("SPRIG_API_KEY", "env-key")
    monkeypatch.setenv("SPRIG_BASE_URL", "http://example.test/api/")
    client = Client()
    assert client.base_url == "http://example.test/api"
    assert Client(base_url="http://other.test").base_url == "http://other.test"
    client.close()
