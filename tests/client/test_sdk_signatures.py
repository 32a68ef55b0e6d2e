"""The documented signatures: docs/sdk.md's reference block is what `inspect.signature` shows.

The ```pyi block of docs/sdk.md's Reference lists every method of `JulepApi` and of the
`Client` managers with the Julep SDK documentation's parameters (names, kinds, defaults,
order), then Sprig's additions after a ``# Sprig`` line. Each method of the sync and the
async clients must have exactly that signature, and be listed.
"""

from __future__ import annotations

import ast
import inspect
import pydoc
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import sprig
from sprig import AsyncClient, AsyncJulepApi, Client, JulepApi

DOC = Path(__file__).resolve().parents[2] / "docs" / "sdk.md"
STUBS = re.compile(r"^```pyi\n(.*?)^```", re.S | re.M)
KINDS = inspect.Parameter
MANAGERS = ("agents", "users", "sessions", "sessions.docs", "docs", "memories", "tools", "jobs")

Param = tuple[str, Any, Any]  # name, kind, default (inspect.Parameter.empty when required)


def stub_source() -> str:
    (block,) = STUBS.findall(DOC.read_text())
    return str(block)


def documented() -> dict[str, dict[str, ast.FunctionDef]]:
    """Class name → method name → its stub, from docs/sdk.md."""
    tree = ast.parse(stub_source())
    return {
        cls.name: {fn.name: fn for fn in cls.body if isinstance(fn, ast.FunctionDef)}
        for cls in tree.body
        if isinstance(cls, ast.ClassDef)
    }


def stub_parameters(fn: ast.FunctionDef) -> list[Param]:
    a = fn.args
    positional = [*a.posonlyargs, *a.args]
    defaults = [KINDS.empty] * (len(positional) - len(a.defaults)) + [
        ast.literal_eval(d) for d in a.defaults
    ]
    kinds = [KINDS.POSITIONAL_ONLY] * len(a.posonlyargs) + [KINDS.POSITIONAL_OR_KEYWORD] * len(
        a.args
    )
    params: list[Param] = [
        (arg.arg, kind, default)
        for arg, kind, default in zip(positional, kinds, defaults, strict=True)
    ]
    if a.vararg:
        params.append((a.vararg.arg, KINDS.VAR_POSITIONAL, KINDS.empty))
    for arg, default in zip(a.kwonlyargs, a.kw_defaults, strict=True):
        value = KINDS.empty if default is None else ast.literal_eval(default)
        params.append((arg.arg, KINDS.KEYWORD_ONLY, value))
    if a.kwarg:
        params.append((a.kwarg.arg, KINDS.VAR_KEYWORD, KINDS.empty))
    return params


def sprig_additions(fn: ast.FunctionDef) -> list[str]:
    """The parameters written after the stub's ``# Sprig`` line, if it has one."""
    lines = stub_source().splitlines()
    marks = [
        number
        for number in range(fn.lineno, (fn.end_lineno or fn.lineno) + 1)
        if lines[number - 1].strip().startswith("# Sprig")
    ]
    if not marks:
        return []
    a = fn.args
    every = [*a.posonlyargs, *a.args, *a.kwonlyargs, *filter(None, [a.vararg, a.kwarg])]
    return [arg.arg for arg in every if arg.lineno > marks[0]]


def code_parameters(method: Any) -> list[Param]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(method).parameters.values()]


def manager(client: Any, path: str) -> Any:
    for part in path.split("."):
        client = getattr(client, part)
    return client


def public(cls: type) -> set[str]:
    return {n for n in dir(cls) if not n.startswith("_") and callable(getattr(cls, n))} - {"close"}


def client_classes() -> list[tuple[str, type, type]]:
    """(stub class name, sync class, async class) for the flat clients and every manager."""
    sync_client, async_client = Client(api_key="k"), AsyncClient(api_key="k")
    pairs = [("JulepApi", JulepApi, AsyncJulepApi)]
    for path in MANAGERS:
        sync_type, async_type = type(manager(sync_client, path)), type(manager(async_client, path))
        assert async_type.__name__ == "Async" + sync_type.__name__
        pairs.append((sync_type.__name__, sync_type, async_type))
    return pairs


CLASSES = client_classes()


def test_the_reference_lists_every_class_and_method() -> None:
    stubs = documented()
    assert set(stubs) == {name for name, _, _ in CLASSES}
    for name, sync_type, async_type in CLASSES:
        assert set(stubs[name]) == public(sync_type) == public(async_type), name
    assert sum(len(methods) for methods in stubs.values()) >= 70


@pytest.mark.parametrize(("name", "sync_type", "async_type"), CLASSES)
def test_methods_have_the_documented_signatures(
    name: str, sync_type: type, async_type: type
) -> None:
    for method, stub in documented()[name].items():
        expected = stub_parameters(stub)
        for cls in (sync_type, async_type):
            got = code_parameters(getattr(cls, method))
            assert got == expected, f"{cls.__name__}.{method}"


def test_sprig_additions_come_after_the_documented_parameters() -> None:
    for methods in documented().values():
        for stub in methods.values():
            added = sprig_additions(stub)
            params = stub_parameters(stub)
            names = [p[0] for p in params]
            assert names[len(names) - len(added) :] == added, stub.name
            for _, kind, default in params[len(params) - len(added) :]:
                assert default is not KINDS.empty or kind is KINDS.VAR_KEYWORD, stub.name


def test_the_julep_chat_parameters_are_named_in_signatures_and_help() -> None:
    julep = [
        "session_id", "messages", "tools", "tool_choice", "frequency_penalty", "length_penalty",
        "logit_bias", "max_tokens", "presence_penalty", "repetition_penalty", "response_format",
        "seed", "stop", "stream", "temperature", "top_p", "recall", "remember",
    ]  # fmt: skip
    for method in (
        JulepApi.chat,
        AsyncJulepApi.chat,
        type(Client(api_key="k").sessions).chat,
        type(AsyncClient(api_key="k").sessions).chat,
    ):
        names = list(inspect.signature(method).parameters)
        assert [n for n in names if n in julep] == julep
        assert "kwargs" not in names
        text = pydoc.render_doc(method, renderer=pydoc.plaintext)
        assert all(f"{n}: " in text for n in julep), text[:300]
    flat = list(inspect.signature(JulepApi.chat).parameters)
    assert flat.index("min_p") < flat.index("preset") < flat.index("recall")
    assert flat.index("recall") < flat.index("record") < flat.index("remember")


def test_a_stub_parse_can_fail() -> None:
    """The comparison sees a moved, renamed or re-defaulted parameter."""
    (stub,) = ast.parse("def f(self, a, b=None, *, c=False, **d): ...").body
    assert isinstance(stub, ast.FunctionDef)
    expected = stub_parameters(stub)

    def f(self: Any, a: Any, b: Any = None, *, c: Any = False, **d: Any) -> None: ...
    def g(self: Any, b: Any = None, a: Any = None, *, c: Any = False, **d: Any) -> None: ...
    def h(self: Any, a: Any, b: Any = None, *, c: Any = None, **d: Any) -> None: ...

    assert code_parameters(f) == expected
    assert code_parameters(g) != expected
    assert code_parameters(h) != expected


def test_sprig_exceptions_are_the_sdk_errors() -> None:
    import sprig.exceptions as exceptions
    from sprig.client import errors

    assert exceptions.__all__
    for name in exceptions.__all__:
        assert getattr(exceptions, name) is getattr(errors, name) is getattr(sprig, name)
    assert set(exceptions.__all__) == set(errors.__all__) - {"make_status_error"}
    assert issubclass(exceptions.SessionNotFoundError, exceptions.JulepError)


def test_sprig_exceptions_import_no_server_code() -> None:
    probe = textwrap.dedent(
        """
        import sys
        from sprig.exceptions import JulepError, SessionNotFoundError
        heavy = ("sprig.server", "sprig.cli.", "fastapi", "sqlalchemy", "starlette", "numpy")
        print(",".join(sorted(m for m in sys.modules if m == "sprig.cli" or m.startswith(heavy))))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
