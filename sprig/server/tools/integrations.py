"""Integration providers for ``integration`` tools, and their registry.

A tool ``{provider, method?, setup?, arguments?}`` runs ``provider.run(method, arguments,
setup)``; ``arguments`` fixed in the tool win over the model's, and are hidden from the
model's schema. Shipped providers (none needs the network):

- ``math`` — ``evaluate {expression}``: safe arithmetic (see calculator.py).
- ``datetime`` — ``now {timezone?}`` and ``convert {datetime, timezone?, assume_timezone?}``.
- ``dummy`` — ``echo``: returns its arguments (Julep's test provider).
- ``mcp`` — ``call_tool`` / ``list_tools`` on an MCP server (mcp/integration.py).

Julep's network providers (weather, brave, …) are known by name and answer a clear
"not configured" error listing the configured ones; other names are a bad request.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sprig.server.errors import BadRequestError, NotImplementedFeatureError
from sprig.server.tools import calculator, clock
from sprig.server.tools.schema import Schema

JULEP_PROVIDERS = frozenset(
    {
        "dummy", "weather", "wikipedia", "spider", "brave", "browserbase", "email", "mailgun",
        "remote_browser", "llama_parse", "ffmpeg", "cloudinary", "arxiv", "unstructured",
        "algolia", "mcp", "google_sheets",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class IntegrationMethod:
    description: str
    parameters: Schema = field(default_factory=lambda: {"type": "object", "properties": {}})


class IntegrationProvider(ABC):
    """One provider: named methods with argument schemas, and an async ``run``."""

    name: str
    description: str = ""
    methods: Mapping[str, IntegrationMethod]
    default_method: str

    def method(self, method: str | None) -> tuple[str, IntegrationMethod]:
        chosen = method or self.default_method
        if chosen not in self.methods:
            known = ", ".join(sorted(self.methods))
            raise BadRequestError(f"Integration {self.name!r} has no method {chosen!r} ({known})")
        return chosen, self.methods[chosen]

    @abstractmethod
    async def run(
        self, method: str | None, arguments: Mapping[str, Any], setup: Mapping[str, Any]
    ) -> Any:
        """Run one method; the result must be JSON-able."""


def _string(description: str) -> dict[str, str]:
    return {"type": "string", "description": description}


class MathProvider(IntegrationProvider):
    name = "math"
    description = "Evaluate arithmetic expressions exactly and safely."
    default_method = "evaluate"
    methods = {
        "evaluate": IntegrationMethod(
            "Evaluate an arithmetic expression, e.g. '(2 + 3) * sqrt(16) / 4'.",
            {
                "type": "object",
                "properties": {"expression": _string("The expression to evaluate")},
                "required": ["expression"],
            },
        )
    }

    async def run(
        self, method: str | None, arguments: Mapping[str, Any], setup: Mapping[str, Any]
    ) -> Any:
        self.method(method)
        expression = str(arguments.get("expression", ""))
        return {"expression": expression, "result": calculator.evaluate(expression)}


class DatetimeProvider(IntegrationProvider):
    name = "datetime"
    description = "The current date and time, and time zone conversion."
    default_method = "now"
    methods = {
        "now": IntegrationMethod(
            "The current date and time in a time zone (default UTC).",
            {"type": "object", "properties": {"timezone": _string("IANA zone, e.g. Europe/Paris")}},
        ),
        "convert": IntegrationMethod(
            "Convert an ISO 8601 datetime to another time zone.",
            {
                "type": "object",
                "properties": {
                    "datetime": _string("ISO 8601 datetime"),
                    "timezone": _string("Target IANA zone (default UTC)"),
                    "assume_timezone": _string("Zone of a datetime without offset (default UTC)"),
                },
                "required": ["datetime"],
            },
        ),
    }

    def __init__(self, now: clock.Clock = clock.utc_now) -> None:
        self._now = now

    async def run(
        self, method: str | None, arguments: Mapping[str, Any], setup: Mapping[str, Any]
    ) -> Any:
        chosen, _ = self.method(method)
        zone = setup.get("timezone") if "timezone" not in arguments else arguments["timezone"]
        if chosen == "now":
            return clock.now_in(zone, self._now)
        assume = arguments.get("assume_timezone")
        return clock.convert(str(arguments.get("datetime", "")), zone, assume)


class DummyProvider(IntegrationProvider):
    name = "dummy"
    description = "Echo the arguments back (for testing tool plumbing)."
    default_method = "echo"
    methods = {
        "echo": IntegrationMethod(
            "Return the arguments unchanged.",
            {"type": "object", "properties": {}, "additionalProperties": True},
        )
    }

    async def run(
        self, method: str | None, arguments: Mapping[str, Any], setup: Mapping[str, Any]
    ) -> Any:
        self.method(method)
        return {"arguments": dict(arguments)}


class IntegrationRegistry:
    """The configured providers, by name."""

    def __init__(self, providers: Iterable[IntegrationProvider] = ()) -> None:
        self._providers: dict[str, IntegrationProvider] = {}
        for provider in providers:
            self.register(provider)

    def register(self, provider: IntegrationProvider) -> None:
        self._providers[provider.name] = provider

    def names(self) -> list[str]:
        return sorted(self._providers)

    def get(self, name: str) -> IntegrationProvider:
        provider = self._providers.get(name)
        if provider is not None:
            return provider
        configured = ", ".join(self.names()) or "none"
        if name in JULEP_PROVIDERS:
            raise NotImplementedFeatureError(
                f"Integration provider {name!r} is not configured on this server "
                f"(configured: {configured})"
            )
        raise BadRequestError(f"Unknown integration provider {name!r} (configured: {configured})")

    async def run(
        self,
        name: str,
        method: str | None,
        arguments: Mapping[str, Any],
        setup: Mapping[str, Any],
    ) -> Any:
        return await self.get(name).run(method, arguments, setup)


def default_integrations() -> IntegrationRegistry:
    """The shipped providers; ``mcp`` unconfigured (the ToolRunner's registry has a
    configured one)."""
    from sprig.server.mcp.integration import McpProvider

    return IntegrationRegistry([MathProvider(), DatetimeProvider(), DummyProvider(), McpProvider()])
