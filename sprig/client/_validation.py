"""Run-time argument checks: every public method validates its arguments before any request.

Validators are built lazily (on a method's first call) so ``import sprig`` stays fast.
Pydantic's errors become `ArgumentTypeError` (also a `TypeError`) when an argument has the
wrong type, is missing or unknown, and `ArgumentValueError` (also a `ValueError`) otherwise.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Annotated, Any, ParamSpec, TypeVar
from uuid import UUID

from pydantic import BeforeValidator, ConfigDict, ValidationError, validate_call

from sprig.client.errors import ArgumentTypeError, ArgumentValueError, _ArgumentError

P = ParamSpec("P")
R = TypeVar("R")

_TYPE_ERRORS = {
    "missing_argument",
    "missing_keyword_only_argument",
    "missing_positional_only_argument",
    "multiple_argument_values",
    "unexpected_keyword_argument",
    "unexpected_positional_argument",
    "extra_forbidden",
    "missing",
    "is_instance_of",
}


def _to_uuid(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return UUID(value.strip())
        except ValueError:
            raise ValueError(f"{value!r} is not a valid UUID") from None
    return value


# An id: a `uuid.UUID` or its string form; a malformed string fails before any request.
Id = Annotated[str | UUID, BeforeValidator(_to_uuid)]

_CONFIG = ConfigDict(arbitrary_types_allowed=True)


def checked(fn: Callable[P, R], label: str) -> Callable[P, R]:
    """`fn` with its arguments validated against its annotations (built on first call)."""
    validator: Callable[P, R] | None = None

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        nonlocal validator
        if validator is None:
            validator = validate_call(config=_CONFIG)(fn)
        try:
            return validator(*args, **kwargs)
        except ValidationError as err:
            names = list(inspect.signature(fn).parameters)
            raise argument_error(label, err, names) from None
        except _ArgumentError as err:  # raised by the operation itself: name the method
            if str(err).startswith(f"{label}("):
                raise
            raise type(err)(f"{label}(): {err}", err.errors) from None

    return wrapper


def argument_error(
    label: str, err: ValidationError, names: list[str] | None = None
) -> ArgumentTypeError | ArgumentValueError:
    """One readable error naming the method and each bad argument (first problem per place)."""
    problems: dict[str, Any] = {}
    for problem in err.errors(include_url=False):
        problems.setdefault(_where(problem["loc"], names or []), problem)
    message = f"{label}(): " + "; ".join(_describe(loc, p) for loc, p in problems.items())
    is_type = all(_is_type_problem(p["type"]) for p in problems.values())
    cls = ArgumentTypeError if is_type else ArgumentValueError
    return cls(message, list(problems.values()))


def _is_type_problem(kind: str) -> bool:
    return kind in _TYPE_ERRORS or kind.endswith("_type")


def _where(loc: tuple[Any, ...], names: list[str]) -> str:
    parts = [part for part in loc if not _is_union_branch(part)]
    if parts and isinstance(parts[0], int) and parts[0] < len(names):
        parts[0] = names[parts[0]]
    return ".".join(str(part) for part in parts)


def _describe(loc: str, problem: Any) -> str:
    kind = problem["type"]
    if kind in ("missing_argument", "missing_keyword_only_argument"):
        return f"missing required argument {loc!r}"
    if kind in ("unexpected_keyword_argument", "extra_forbidden"):
        return f"unexpected argument {loc!r}"
    message = str(problem["msg"]).removeprefix("Value error, ")
    received = problem.get("input")
    if kind.startswith("missing") or received is None or kind == "value_error":
        return f"{loc!r}: {message}"
    return f"{loc!r}: {message} (got {_short(received)})"


def _is_union_branch(part: Any) -> bool:
    """Pydantic puts union member names (``str``, ``uuid``, ``function-after[...]``) in locs."""
    return isinstance(part, str) and (
        part in ("str", "uuid", "int", "float", "bool", "list", "dict", "none")
        or "[" in part
        or part.startswith(("function-", "typed-dict", "literal", "list[", "dict["))
    )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
