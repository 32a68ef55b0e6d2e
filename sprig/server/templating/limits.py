"""The limits a template renders under, the per-render budget, and size estimates.

Every check raises :class:`TemplateLimitError` naming the limit, before the work is done.
"""

from __future__ import annotations

import math
import time
from collections.abc import ItemsView, KeysView, Mapping, ValuesView
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from jinja2 import TemplateError


class TemplateLimitError(TemplateError):
    """A template asked for more than a limit allows; the message names the limit."""


WORK_FACTOR = 10


@dataclass(frozen=True)
class TemplateLimits:
    time_limit: float = 1.0  # seconds for all the templates of one request
    max_output_chars: int = 1_000_000  # text produced, and the size of any one value
    max_range: int = 10_000  # items of a range(), slices and batch sizes
    max_operations: int = 100_000  # loop iterations + calls + filter and test calls
    max_int_bits: int = 10_000  # size of an integer a multiplication or power may produce

    def as_dict(self) -> dict[str, float]:
        return {
            "time_limit": self.time_limit,
            "max_output_chars": self.max_output_chars,
            "max_range": self.max_range,
            "max_operations": self.max_operations,
            "max_int_bits": self.max_int_bits,
        }


@dataclass(slots=True)
class Budget:
    """What one render (one request's templates) has spent so far."""

    limits: TemplateLimits
    deadline: float = math.inf
    operations: int = 0
    output: int = 0
    work: int = 0

    def spend(self) -> None:
        """One loop iteration, call, filter or test: counted, and the clock checked."""
        self.operations += 1
        if self.operations > self.limits.max_operations:
            raise TemplateLimitError(
                f"more than {self.limits.max_operations} operations (loop iterations and "
                f"calls); the limit is {self.limits.max_operations}"
            )
        if time.monotonic() > self.deadline:
            raise time_limit_error(self.limits)

    def produced(self, value: Any) -> Any:
        """A result (of a call, filter or operator): a string or list larger than the size
        limit is refused, and all such results of a render together are limited too
        (``WORK_FACTOR`` times the output limit), which bounds memory and time."""
        if isinstance(value, str | bytes):
            n = len(value)
            check_size(n)
        elif isinstance(value, list | tuple):
            n = len(value)
            check_size(n, "a list", "items")
        else:
            return value
        self.work += n
        cap = WORK_FACTOR * self.limits.max_output_chars
        if self.work > cap:
            raise TemplateLimitError(
                f"intermediate results of more than {cap} characters or items exceed the "
                f"limit of {cap} ({WORK_FACTOR} times the output limit)"
            )
        return value

    def emit(self, text: str) -> str:
        """Text the template produces (anywhere: output, macros, set blocks), counted."""
        self.output += len(text)
        if self.output > self.limits.max_output_chars:
            raise TemplateLimitError(
                f"output of more than {self.limits.max_output_chars} characters exceeds the "
                f"limit of {self.limits.max_output_chars} characters"
            )
        return text


def time_limit_error(limits: TemplateLimits) -> TemplateLimitError:
    return TemplateLimitError(
        f"rendering took longer than the time limit of {limits.time_limit:g} s"
    )


DEFAULT_LIMITS = TemplateLimits()
_active: ContextVar[Budget | None] = ContextVar("sprig_template_budget", default=None)


def current() -> Budget:
    """The budget of the render in progress (outside a render: default limits, no clock)."""
    return _active.get() or Budget(DEFAULT_LIMITS)


def activate(budget: Budget) -> Any:
    return _active.set(budget)


def deactivate(token: Any) -> None:
    _active.reset(token)


def check_size(n: int, what: str = "a string", unit: str = "characters") -> None:
    cap = current().limits.max_output_chars
    if n > cap:
        raise TemplateLimitError(f"{what} of {n} {unit} exceeds the limit of {cap} {unit}")


def check_value(value: Any, what: str = "a value") -> None:
    """Refuse turning ``value`` into text when the text would exceed the size limit."""
    cap = current().limits.max_output_chars
    n = len(value) if type(value) is str else text_size(value, cap)
    if n > cap:
        raise TemplateLimitError(
            f"{what} of about {n} characters as text exceeds the limit of {cap} characters"
        )


_CONTAINERS = (list, tuple, set, frozenset, KeysView, ValuesView)


def text_size(value: Any, cap: int) -> int:
    """About how long ``str(value)`` is, counting shared parts each time they appear;
    stops counting once past ``cap`` (so the work is bounded by ``cap``)."""
    total, stack = 0, [value]
    while stack and total <= cap:
        v = stack.pop()
        if isinstance(v, str):
            total += len(v) + 2
        elif isinstance(v, bytes | bytearray):
            total += 4 * len(v) + 3
        elif isinstance(v, int):
            total += v.bit_length() // 3 + 2
        elif isinstance(v, Mapping):
            total += 2 + 4 * len(v)
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, ItemsView):
            total += 2 + 6 * len(v)
            stack.extend(x for pair in v for x in pair)
        elif isinstance(v, _CONTAINERS):
            total += 2 + 2 * len(v)
            stack.extend(v)
        else:
            total += 40
    return total
