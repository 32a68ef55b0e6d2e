"""The calculator, the datetime provider, and the integration registry's errors."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from sprig.server.errors import BadRequestError, NotImplementedFeatureError
from sprig.server.tools.calculator import evaluate
from sprig.server.tools.integrations import (
    DatetimeProvider,
    IntegrationRegistry,
    MathProvider,
    default_integrations,
)


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("7 / 2", 3.5),
        ("7 // 2", 3),
        ("-7 % 3", 2),
        ("2 ** 10", 1024),
        ("2 ^ 10", 1024),
        ("sqrt(16) + abs(-2)", 6.0),
        ("round(pi, 3)", 3.142),
        ("max(1, 5, 3) - min(4, 2)", 3),
        ("factorial(5)", 120),
        ("1e3 + 0.5", 1000.5),
        ("  -(3)  ", -3),
    ],
)
def test_arithmetic(expression: str, value: float) -> None:
    assert evaluate(expression) == value


def test_float_functions() -> None:
    assert math.isclose(evaluate("sin(pi / 2) + log(e)"), 2.0)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("__import__('os').system('true')", "documented math functions"),
        ("(1).__class__", "Unsupported syntax"),
        ("x + 1", "Unknown name"),
        ("'a' * 3", "Only numbers"),
        ("True + 1", "Only numbers"),
        ("1 / 0", "Division by zero"),
        ("9 ** 9 ** 9", "too large"),
        ("10 ** 5000", "too large"),
        ("factorial(100000)", "factorial"),
        ("sqrt(-1)", "Math error"),
        ("(-8) ** 0.5", "complex"),
        ("1e308 * 10", "not a finite"),
        ("lambda: 1", "Unsupported syntax"),
        ("[1, 2]", "Unsupported syntax"),
        ("1 +", "Not an arithmetic"),
        ("sqrt(x=4)", "Keyword"),
        ("1" * 2000, "longer than"),
    ],
)
def test_refusals(expression: str, message: str) -> None:
    with pytest.raises(BadRequestError, match=message):
        evaluate(expression)


async def test_math_provider() -> None:
    result = await MathProvider().run(None, {"expression": "6 * 7"}, {})
    assert result == {"expression": "6 * 7", "result": 42}


async def test_datetime_now_and_convert_with_a_fixed_clock() -> None:
    fixed = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
    provider = DatetimeProvider(now=lambda: fixed)
    now = await provider.run("now", {"timezone": "Asia/Tokyo"}, {})
    assert now["iso"] == "2024-03-10T21:00:00+09:00" and now["weekday"] == "Sunday"
    assert now["unix"] == int(fixed.timestamp())
    utc = await provider.run(None, {}, {})
    assert utc["timezone"] == "UTC" and utc["time"] == "12:00:00"
    converted = await provider.run(
        "convert", {"datetime": "2024-01-01T00:00:00", "timezone": "America/New_York"}, {}
    )
    assert converted["iso"] == "2023-12-31T19:00:00-05:00"
    with pytest.raises(BadRequestError, match="Unknown time zone"):
        await provider.run("now", {"timezone": "Mars/Olympus"}, {})


async def test_registry_errors_name_the_provider_and_the_configured_ones() -> None:
    registry = default_integrations()
    assert registry.names() == ["datetime", "dummy", "math", "mcp"]
    with pytest.raises(NotImplementedFeatureError, match=r"'brave' is not configured.*datetime"):
        registry.get("brave")
    with pytest.raises(BadRequestError, match=r"Unknown integration provider 'nope'.*math"):
        registry.get("nope")
    with pytest.raises(BadRequestError, match="no method 'integrate'"):
        await registry.run("math", "integrate", {}, {})
    empty = IntegrationRegistry()
    with pytest.raises(NotImplementedFeatureError, match="configured: none"):
        empty.get("weather")
