"""The 429 a limit answers: OpenAI's words and headers (``retry-after``, ``retry-after-ms``,
``x-ratelimit-limit-*``, ``-remaining-*``, ``-reset-*``), so its SDKs and Julep's wait and
retry as they do against OpenAI; ``x-should-retry: false`` when the wait is over a minute."""

from __future__ import annotations

import math

from sprig.server.errors import RateLimitError

# Longest wait the SDKs retry after by themselves (openai-python honours up to 60 s).
RETRY_WITHIN = 60.0


def duration(seconds: float) -> str:
    """A wait as OpenAI writes it in ``x-ratelimit-reset-*``: ``120ms``, ``1.5s``, ``6m0s``."""
    seconds = max(seconds, 0.0)
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    minutes, rest = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    text = f"{rest:.3f}".rstrip("0").rstrip(".") + "s"
    if hours or minutes:
        text = f"{minutes}m{text}"
    return f"{hours}h{text}" if hours else text


def _headers(wait: float) -> dict[str, str]:
    wait = max(wait, 0.001)
    return {
        "retry-after": str(math.ceil(wait)),
        "retry-after-ms": str(math.ceil(wait * 1000)),
        "x-should-retry": "true" if wait <= RETRY_WITHIN else "false",
    }


def _state(kind: str, limit: float, reset: float) -> dict[str, str]:
    return {
        f"x-ratelimit-limit-{kind}": f"{limit:g}",
        f"x-ratelimit-remaining-{kind}": "0",
        f"x-ratelimit-reset-{kind}": duration(reset),
    }


def _again(wait: float) -> str:
    return f"Please try again in {duration(max(wait, 0.001))}."


def requests(limit: int, wait: float, reset: float) -> RateLimitError:
    message = f"Rate limit reached on requests per minute (RPM): limit {limit}. {_again(wait)}"
    return RateLimitError(message, headers={**_headers(wait), **_state("requests", limit, reset)})


def tokens_per_minute(limit: int, wait: float, reset: float) -> RateLimitError:
    message = f"Rate limit reached on tokens per minute (TPM): limit {limit}. {_again(wait)}"
    headers = {**_headers(wait), **_state("tokens", limit, reset)}
    return RateLimitError(message, type_="tokens", headers=headers)


def tokens_per_day(limit: int, used: int, wait: float) -> RateLimitError:
    message = (
        f"Rate limit reached on tokens per day (TPD): limit {limit}, used {used}. "
        f"The day's count starts again at 00:00 UTC. {_again(wait)}"
    )
    headers = {**_headers(wait), **_state("tokens", limit, wait)}
    return RateLimitError(message, type_="tokens", headers=headers)


def cost_per_month(limit: float, spent: float, wait: float) -> RateLimitError:
    message = (
        f"You exceeded your monthly cost limit: limit ${limit:g}, estimated spend "
        f"${spent:.4f}. It starts again on the 1st, 00:00 UTC."
    )
    return RateLimitError(
        message, type_="insufficient_quota", code="insufficient_quota", headers=_headers(wait)
    )


STREAM_WAIT = 1.0  # when a slot frees is unknown: try again in a second


def streams(limit: int) -> RateLimitError:
    message = f"Too many concurrent streams: limit {limit}. {_again(STREAM_WAIT)}"
    headers = {**_headers(STREAM_WAIT), **_state("streams", limit, STREAM_WAIT)}
    return RateLimitError(message, headers=headers)
