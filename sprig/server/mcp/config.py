"""Which MCP server a tool names, and what the settings allow.

An ``mcp`` tool's object::

    {"url": "https://host/mcp", "headers": {"Authorization": "Bearer ..."}}     streamable HTTP
    {"transport": "sse", "url": "https://host/sse"}                              the older SSE
    {"command": "uvx", "args": ["mcp-server-time"], "env": {...}, "cwd": "..."}  stdio
    + "tools": ["name", ...]   only these of the server's tools (default: all)
    + "timeout": 20            seconds per call (at most SPRIG_MCP_TIMEOUT)

A header or env value may be ``{"env": "NAME"}``: the server's environment variable NAME,
allowed only when SPRIG_MCP_ENV_ALLOW lists it. Julep's ``integration`` shape
(``{provider: "mcp", setup: {transport, http_url, http_headers, command, args, cwd, env}}``)
names a server the same way (`from_setup`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from sprig.server.errors import BadRequestError, PermissionDeniedError
from sprig.server.settings import Settings

Transport = Literal["http", "sse", "stdio"]
TRANSPORTS: tuple[Transport, ...] = ("http", "sse", "stdio")
_KEYS = frozenset(
    {"transport", "url", "headers", "command", "args", "env", "cwd", "tools", "timeout"}
)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class McpPolicy:
    """What the settings allow MCP tool sources (``SPRIG_MCP_*`` and ``tool_http_allow``)."""

    allow: tuple[str, ...] = ()
    timeout: float = 30.0
    max_output_bytes: int = 1_000_000
    ttl: float = 300.0
    stdio: bool = False
    commands: tuple[str, ...] = ()
    env_allow: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> McpPolicy:
        return cls(
            allow=tuple(settings.tool_http_allow),
            timeout=settings.mcp_timeout,
            max_output_bytes=settings.mcp_max_output_bytes,
            ttl=settings.mcp_tools_ttl_seconds,
            stdio=settings.mcp_stdio_servers,
            commands=tuple(settings.mcp_stdio_commands),
            env_allow=tuple(settings.mcp_env_allow),
        )


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """One MCP server, opened: header and env values are the real ones (never log them)."""

    transport: Transport
    url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    command: str | None = None
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None
    only: tuple[str, ...] | None = None
    timeout: float | None = None

    def fingerprint(self) -> str:
        """A digest of everything that picks the server and what it answers (the cache key;
        the secrets in it are hashed, never kept)."""
        data = [
            self.transport,
            self.url,
            sorted(self.headers.items()),
            self.command,
            list(self.args),
            sorted(self.env.items()),
            self.cwd,
        ]
        return hashlib.sha256(json.dumps(data).encode()).hexdigest()

    @property
    def label(self) -> str:
        """How logs and errors name the server: scheme and host, or the command; never a
        path, query, header or argument."""
        if self.transport == "stdio":
            return f"stdio command {self.command!r}"
        parts = urlsplit(self.url or "")
        return f"{parts.scheme}://{parts.hostname or '?'}"

    def limit(self, policy: McpPolicy, asked: float | None = None) -> float:
        """A call's time limit: the tool's or the call's, never over the setting."""
        wanted = [t for t in (asked, self.timeout) if t is not None and t > 0]
        return min([*wanted, policy.timeout])


def check_tool(body: Any) -> None:
    """Raise a `BadRequestError` naming what is wrong with an ``mcp`` tool's object."""
    if not isinstance(body, Mapping):
        raise BadRequestError("An mcp tool needs its 'mcp' object: {url} or {command}")
    unknown = sorted(set(body) - _KEYS)
    if unknown:
        raise BadRequestError(f"Unknown keys in the mcp object: {', '.join(unknown)}")
    transport = _transport(body)
    if transport == "stdio":
        _text(body.get("command"), "mcp.command")
        _texts(body.get("args"), "mcp.args")
    else:
        _check_url(body.get("url"))
    for name in ("headers", "env"):
        _values(body.get(name), f"mcp.{name}")
    _texts(body.get("tools"), "mcp.tools")
    timeout = body.get("timeout")
    valid = isinstance(timeout, int | float) and not isinstance(timeout, bool) and timeout > 0
    if timeout is not None and not valid:
        raise BadRequestError("mcp.timeout must be a positive number of seconds")


def from_tool(body: Mapping[str, Any], policy: McpPolicy) -> ServerConfig:
    """The server an ``mcp`` tool's object (secrets already revealed) names."""
    check_tool(body)
    only = body.get("tools")
    return ServerConfig(
        transport=_transport(body),
        url=body.get("url"),
        headers=_opened(body.get("headers"), policy),
        command=body.get("command"),
        args=tuple(body.get("args") or ()),
        env=_opened(body.get("env"), policy),
        cwd=body.get("cwd"),
        only=tuple(only) if only is not None else None,
        timeout=float(body["timeout"]) if body.get("timeout") is not None else None,
    )


def from_setup(setup: Mapping[str, Any], policy: McpPolicy) -> ServerConfig:
    """The server of a Julep ``mcp`` integration's ``setup`` (``transport`` http or sse, with
    ``http_url`` and ``http_headers``; or a ``command``)."""
    body: dict[str, Any] = {
        "url": setup.get("http_url"),
        "headers": setup.get("http_headers") or None,
        "command": setup.get("command"),
        "args": setup.get("args") or None,
        "env": setup.get("env") or None,
        "cwd": setup.get("cwd"),
    }
    kind = setup.get("transport")
    body["transport"] = "stdio" if setup.get("command") and not setup.get("http_url") else kind
    return from_tool({k: v for k, v in body.items() if v is not None}, policy)


def _transport(body: Mapping[str, Any]) -> Transport:
    kind = body.get("transport")
    if kind is None:
        return "stdio" if body.get("command") and not body.get("url") else "http"
    if kind == "streamable-http":
        return "http"
    if kind not in TRANSPORTS:
        raise BadRequestError(f"mcp.transport must be one of {', '.join(TRANSPORTS)}")
    return kind  # type: ignore[no-any-return]


def _check_url(url: Any) -> None:
    _text(url, "mcp.url")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadRequestError("mcp.url must be an http or https URL")


def _text(value: Any, where: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise BadRequestError(f"{where} must be a non-empty string")


def _texts(value: Any, where: str) -> None:
    if value is not None and not (
        isinstance(value, list) and all(isinstance(v, str) for v in value)
    ):
        raise BadRequestError(f"{where} must be a list of strings")


def _values(value: Any, where: str) -> None:
    """Header or env values: strings, ``{"env": NAME}`` or sealed values (stored tools)."""
    if value is None:
        return
    if not isinstance(value, Mapping):
        raise BadRequestError(f"{where} must be an object")
    for key, item in value.items():
        if isinstance(item, str) or _is_reference(item) or _is_sealed(item):
            continue
        raise BadRequestError(f'{where}.{key} must be a string or {{"env": "NAME"}}')


def _is_reference(value: Any) -> bool:
    return isinstance(value, Mapping) and set(value) == {"env"} and _is_env_name(value["env"])


def _is_env_name(value: Any) -> bool:
    return isinstance(value, str) and bool(_ENV_NAME.match(value))


def _is_sealed(value: Any) -> bool:
    return isinstance(value, Mapping) and isinstance(value.get("$sealed"), str)


def _opened(values: Any, policy: McpPolicy) -> dict[str, str]:
    """Header or env values with ``{"env": NAME}`` read from the allowed environment."""
    out: dict[str, str] = {}
    for key, value in (values or {}).items():
        if _is_sealed(value):
            raise BadRequestError("The tool's secrets could not be opened")
        out[str(key)] = _from_env(value["env"], policy) if _is_reference(value) else str(value)
    return out


def _from_env(name: str, policy: McpPolicy) -> str:
    if name not in policy.env_allow:
        raise PermissionDeniedError(
            f"Environment variable {name} is not one mcp tools may use (SPRIG_MCP_ENV_ALLOW)"
        )
    value = os.environ.get(name)
    if value is None:
        raise BadRequestError(f"Environment variable {name} is not set on the server")
    return value
