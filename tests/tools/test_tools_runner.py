"""ToolRunner: dispatch by type, errors as results, client-side markers, api_call end to end."""

from __future__ import annotations

import json
import logging
from typing import Any
from uuid import uuid4

import pytest

from sprig.server.models.base import ToolCall
from sprig.server.resources.tools import tool_values
from sprig.server.tools import HttpPolicy, SafeHttpClient, ToolContext, ToolRunner
from sprig.server.tools.integrations import (
    IntegrationMethod,
    IntegrationProvider,
    IntegrationRegistry,
)

CTX = ToolContext(developer_id=uuid4())


def call(name: str, arguments: str) -> ToolCall:
    return ToolCall(id="call_1", name=name, arguments=arguments)


def payload(content: str) -> Any:
    return json.loads(content)


MATH = {"name": "calc", "type": "integration", "integration": {"provider": "math"}}


async def test_integration_runs_and_returns_json() -> None:
    result = await ToolRunner().run(MATH, call("calc", '{"expression": "2 + 2"}'), CTX)
    assert not result.is_error and not result.client_side
    assert payload(result.content) == {"expression": "2 + 2", "result": 4}


async def test_fixed_integration_arguments_win_and_are_not_model_settable() -> None:
    tool = {
        "name": "calc",
        "type": "integration",
        "integration": {"provider": "math", "arguments": {"expression": "10 * 10"}},
    }
    ok = await ToolRunner().run(tool, call("calc", "{}"), CTX)
    assert payload(ok.content)["result"] == 100
    refused = await ToolRunner().run(tool, call("calc", '{"expression": "1"}'), CTX)
    assert refused.is_error and "Additional properties" in refused.content


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        ("{not json", "invalid_arguments"),
        ("[1, 2]", "invalid_arguments"),
        ('{"expression": 5}', "bad_request"),
        ('{"expression": "1/0"}', "bad_request"),
    ],
)
async def test_bad_arguments_and_tool_errors_become_error_results(
    arguments: str, code: str
) -> None:
    result = await ToolRunner().run(MATH, call("calc", arguments), CTX)
    assert result.is_error
    assert payload(result.content)["error"]["code"] == code


async def test_empty_arguments_mean_an_empty_object() -> None:
    tool = {"name": "echo", "type": "integration", "integration": {"provider": "dummy"}}
    result = await ToolRunner().run(tool, call("echo", ""), CTX)
    assert payload(result.content) == {"arguments": {}}


async def test_unconfigured_provider_is_an_error_result() -> None:
    tool = {"name": "w", "type": "integration", "integration": {"provider": "weather"}}
    result = await ToolRunner().run(tool, call("w", "{}"), CTX)
    assert result.is_error and "not configured" in result.content


class Exploding(IntegrationProvider):
    name = "boom"
    default_method = "go"
    methods = {"go": IntegrationMethod("explode")}

    async def run(self, method: str | None, arguments: Any, setup: Any) -> Any:
        raise RuntimeError("kaboom with internals")


async def test_unexpected_exceptions_become_error_results(caplog: pytest.LogCaptureFixture) -> None:
    runner = ToolRunner(integrations=IntegrationRegistry([Exploding()]))
    tool = {"name": "b", "type": "integration", "integration": {"provider": "boom"}}
    with caplog.at_level(logging.ERROR):
        result = await runner.run(tool, call("b", "{}"), CTX)
    assert result.is_error and "kaboom" not in result.content
    assert "kaboom" in caplog.text


@pytest.mark.parametrize(
    "tool",
    [
        tool_values({"name": "f", "type": "function", "function": {"parameters": {}}}),
        tool_values({"name": "f", "type": "computer_20241022", "computer_20241022": {}}),
        {"name": "f", "type": "bash_20241022"},
        {"type": "webhook", "function": {"name": "f"}},
    ],
)
async def test_client_side_tools_are_marked_for_the_client(tool: dict[str, Any]) -> None:
    result = await ToolRunner().run(tool, call("f", "{bad"), CTX)
    assert result.client_side and not result.is_error
    assert payload(result.content)["client_side"] is True


async def test_run_named_finds_the_tool_or_reports_the_known_ones() -> None:
    tools = [MATH, {"name": "f", "type": "function", "function": {}}]
    found = await ToolRunner().run_named(tools, call("calc", '{"expression": "3*3"}'), CTX)
    assert payload(found.content)["result"] == 9
    missing = await ToolRunner().run_named(tools, call("nope", "{}"), CTX)
    assert missing.is_error and "calc, f" in missing.content


def weather_tool(base_url: str) -> dict[str, Any]:
    api = {
        "method": "GET",
        "url": f"{base_url}/json/{{city}}",
        "headers": {"X-Api-Key": "very-secret-key-42"},
        "params": {"units": "metric"},
        "params_schema": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["city"],
        },
    }
    return tool_values({"name": "weather", "type": "api_call", "api_call": api})


async def test_api_call_end_to_end_with_allow_list(
    base_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    runner = ToolRunner(http=SafeHttpClient(HttpPolicy(allow=("127.0.0.1",))))
    result = await runner.run(
        weather_tool(base_url), call("weather", '{"city": "New York", "days": 2}'), CTX
    )
    assert not result.is_error, result.content
    echo = payload(result.content)["json"]
    assert echo["path"] == "/json/New%20York"
    assert echo["query"] == {"units": ["metric"], "days": ["2"]}
    assert echo["headers"]["X-Api-Key"] == "[redacted]"
    assert "very-secret-key-42" not in result.content
    assert "very-secret-key-42" not in caplog.text


async def test_api_call_refused_without_allow_list(base_url: str) -> None:
    result = await ToolRunner().run(
        weather_tool(base_url), call("weather", '{"city": "Oslo"}'), CTX
    )
    assert result.is_error
    assert payload(result.content)["error"]["code"] == "blocked_address"


async def test_api_call_http_error_status_is_an_error_result(base_url: str) -> None:
    tool = {
        "name": "s",
        "type": "api_call",
        "api_call": {"method": "GET", "url": f"{base_url}/status/404"},
    }
    runner = ToolRunner(http=SafeHttpClient(HttpPolicy(allow=("127.0.0.1",))))
    result = await runner.run(tool, call("s", "{}"), CTX)
    assert result.is_error and payload(result.content)["status_code"] == 404
