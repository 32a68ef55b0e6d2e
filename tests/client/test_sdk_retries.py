"""The retry policy: what is retried, how long it waits, and when it gives up."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from sprig import (
    APIConnectionError,
    APITimeoutError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    RateLimitError,
)
from sprig.client._base import RetryPolicy, retry_after, should_retry
from tests.helpers.sdk import Recorder, ok

AGENT = {"id": "0b7e7d3e-1111-4e2f-9a55-aaaaaaaaaaaa", "name": "a"}


def script(*answers: httpx.Response | Exception) -> Callable[[httpx.Request], httpx.Response]:
    """Answer each request with the next item (raising it if it is an exception)."""
    items: Iterator[httpx.Response | Exception] = iter(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        item = next(items)
        if isinstance(item, Exception):
            raise item
        return item

    return handler


def test_5xx_is_retried_then_succeeds(no_sleep: list[float]) -> None:
    recorder = Recorder(script(ok(status=500), ok(status=503), ok(AGENT)))
    agent = recorder.sync().agents.get(AGENT["id"])
    assert agent.name == "a"
    assert len(recorder.requests) == 3
    assert len(no_sleep) == 2
    assert 0.375 <= no_sleep[0] <= 0.5 and 0.75 <= no_sleep[1] <= 1.0  # backoff, jitter


def test_gives_up_after_max_retries(no_sleep: list[float]) -> None:
    recorder = Recorder(lambda r: ok({"detail": "down"}, status=500))
    with pytest.raises(InternalServerError, match="down"):
        recorder.sync(max_retries=3).agents.get(AGENT["id"])
    assert len(recorder.requests) == 4


def test_max_retries_zero_sends_once(no_sleep: list[float]) -> None:
    recorder = Recorder(lambda r: ok(status=502))
    with pytest.raises(InternalServerError):
        recorder.sync(max_retries=0).agents.get(AGENT["id"])
    assert len(recorder.requests) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_4xx_is_not_retried(no_sleep: list[float], status: int) -> None:
    recorder = Recorder(lambda r: ok({"detail": "no"}, status=status))
    with pytest.raises(Exception, match="no"):
        recorder.sync().agents.get(AGENT["id"])
    assert len(recorder.requests) == 1
    assert no_sleep == []


def test_409_and_429_are_retried_unless_the_server_says_no(no_sleep: list[float]) -> None:
    recorder = Recorder(script(ok(status=409), ok(status=429), ok(AGENT)))
    recorder.sync().agents.get(AGENT["id"])
    assert len(recorder.requests) == 3
    refused = Recorder(lambda r: ok(status=409, **{"x-should-retry": "false"}))
    with pytest.raises(ConflictError):
        refused.sync().agents.get(AGENT["id"])
    assert len(refused.requests) == 1


def test_x_should_retry_true_forces_a_retry(no_sleep: list[float]) -> None:
    recorder = Recorder(script(ok(status=400, **{"x-should-retry": "true"}), ok(AGENT)))
    recorder.sync().agents.get(AGENT["id"])
    assert len(recorder.requests) == 2
    never = Recorder(lambda r: ok(status=400, **{"x-should-retry": "false"}))
    with pytest.raises(BadRequestError):
        never.sync().agents.get(AGENT["id"])
    assert len(never.requests) == 1


def test_retry_after_is_honoured(no_sleep: list[float]) -> None:
    recorder = Recorder(
        script(
            ok(status=429, **{"retry-after": "3"}),
            ok(status=429, **{"retry-after-ms": "250"}),
            ok(status=429, **{"retry-after": "9999"}),  # too long: ignored, backoff instead
            ok(AGENT),
        )
    )
    recorder.sync(max_retries=3).agents.get(AGENT["id"])
    assert no_sleep[:2] == [3.0, 0.25]
    assert 1.5 <= no_sleep[2] <= 2.0


def test_retry_after_http_date() -> None:
    date = "Wed, 21 Oct 2015 07:28:00 GMT"
    response = httpx.Response(503, headers={"retry-after": date})
    assert retry_after(response) is not None and retry_after(response) < 0  # type: ignore[operator]
    assert retry_after(httpx.Response(503, headers={"retry-after": "soon"})) is None
    assert retry_after(httpx.Response(503)) is None


def test_connection_errors_are_retried_then_raised(no_sleep: list[float]) -> None:
    recorder = Recorder(script(httpx.ConnectError("refused"), ok(AGENT)))
    assert recorder.sync().agents.get(AGENT["id"]).id == AGENT["id"]
    failing = Recorder(script(*[httpx.ConnectError("refused")] * 3))
    with pytest.raises(APIConnectionError, match="refused") as caught:
        failing.sync().agents.get(AGENT["id"])
    assert not isinstance(caught.value, APITimeoutError)
    assert len(failing.requests) == 3


def test_timeouts_raise_api_timeout_error(no_sleep: list[float]) -> None:
    recorder = Recorder(script(*[httpx.ReadTimeout("slow")] * 3))
    with pytest.raises(APITimeoutError):
        recorder.sync().agents.get(AGENT["id"])
    assert len(recorder.requests) == 3


async def test_async_client_follows_the_same_policy(no_sleep: list[float]) -> None:
    recorder = Recorder(
        script(ok(status=500), httpx.ConnectError("x"), ok(status=429, **{"retry-after": "1"}))
    )
    with pytest.raises(RateLimitError):
        await recorder.async_().agents.get(AGENT["id"])
    assert len(recorder.requests) == 3
    assert no_sleep[1] == pytest.approx(0.75, abs=0.25)
    again = Recorder(script(ok(status=500), ok(AGENT)))
    assert (await again.async_().agents.get(AGENT["id"])).name == "a"


def test_policy_table() -> None:
    policy = RetryPolicy(max_retries=2)
    assert policy.delay(2, None) is None
    assert policy.delay(0, None) is not None  # connection error
    assert should_retry(httpx.Response(408)) and should_retry(httpx.Response(599))
    assert not should_retry(httpx.Response(404)) and not should_retry(httpx.Response(501))
    assert not should_retry(httpx.Response(500, headers={"x-should-retry": "false"}))
