"""Jinja's filters and tests, wrapped: each call is counted (and the clock checked), its
arguments are checked before it runs where they decide the size of the result (``center``,
``indent``, ``wordwrap``, ``replace``, ``join``, ``format``, ``batch``, ``slice``…), and its
result's size after. Wrapped filters take the context, so Jinja never runs them at compile time
(no constant is computed, or cached, while compiling)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import wraps
from typing import Any

from jinja2 import pass_context
from jinja2.filters import make_attrgetter
from jinja2.runtime import Context
from jinja2.utils import _PassArg

from .guards import bounded_items, check_printf, replace_size
from .limits import TemplateLimitError, check_size, check_value, current

Args = dict[str, Any]
_CONTEXT = " context"  # the Jinja context, in the arguments a guard sees
_LEAD_NAMES = ("context", "eval_ctx", "environment")

# Filters whose input is measured (as text, repeated parts counted each time) before they run:
# those that turn it into text, and those that compare its items (a list repeating two long
# strings with a long common prefix makes every comparison long).
_MEASURED = (
    "capitalize center e escape forceescape format indent lower pprint replace safe string "
    "striptags title tojson trim truncate upper urlencode urlize wordcount wordwrap xmlattr "
    "reverse filesizeformat int float sort unique min max dictsort groupby"
)
_MEASURED_FILTERS = frozenset(_MEASURED.split())


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _center(a: Args) -> Args:
    if isinstance(a["width"], int):
        check_size(max(len(_text(a["value"])), a["width"]))
    return a


def _indent(a: Args) -> Args:
    width = a["width"]
    w = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
    text = _text(a["s"])
    check_size(len(text) + (text.count("\n") + 1) * max(w, 0))
    return a


def _wordwrap(a: Args) -> Args:
    wrap = a["wrapstring"] or "\n"
    if isinstance(wrap, str) and len(wrap) > 1:
        check_size(len(_text(a["s"])) * (1 + len(wrap)))
    return a


def _replace(a: Args) -> Args:
    check_value(a["old"], "the old text of replace")
    check_value(a["new"], "the new text of replace")
    text, count = _text(a["s"]), a["count"]
    check_size(replace_size(text, _text(a["old"]), _text(a["new"]), -1 if count is None else count))
    return a


def _count(name: str, what: str) -> Callable[[Args], Args]:
    def guard(a: Args) -> Args:
        n, cap = a[name], current().limits.max_range
        if isinstance(n, int) and n > cap:
            raise TemplateLimitError(f"{what} of {n} exceeds the limit of {cap}")
        return a

    return guard


def _join(a: Args) -> Args:
    check_value(a["d"], "the separator of join")
    values, attribute = a["value"], a["attribute"]
    if attribute is not None:
        values = map(make_attrgetter(a[_CONTEXT].environment, attribute), values)
    return {**a, "value": bounded_items(values, a["d"]), "attribute": None}


def _format(a: Args) -> Args:
    check_printf(_text(a["value"]), a["kwargs"] or a["args"])
    return a


def _tojson(a: Args) -> Args:
    indent = a["indent"]
    width = len(indent) if isinstance(indent, str) else indent if isinstance(indent, int) else 0
    if width > 100:
        raise TemplateLimitError(f"a tojson indent of {width} exceeds the limit of 100")
    return a


def _urlize(a: Args) -> Args:
    text = _text(a["value"])
    extra = sum(len(_text(a[k])) for k in ("target", "rel") if a[k] is not None)
    check_size(3 * len(text) + len(text.split()) * (extra + 64))
    return a


def _round(a: Args) -> Args:
    precision = a["precision"]
    if a["method"] != "common" and isinstance(precision, int) and abs(precision) > 400:
        raise TemplateLimitError(f"round precision {precision} exceeds the limit of 400")
    return a


def _sum(a: Args) -> Args:
    if not isinstance(a["start"], int | float):
        raise TemplateLimitError("the sum filter adds numbers only (start must be a number)")
    return a


_GUARDS: dict[str, Callable[[Args], Args]] = {
    "center": _center,
    "indent": _indent,
    "wordwrap": _wordwrap,
    "replace": _replace,
    "batch": _count("linecount", "a batch size"),
    "slice": _count("slices", "a number of slices"),
    "join": _join,
    "format": _format,
    "round": _round,
    "sum": _sum,
    "tojson": _tojson,
    "urlize": _urlize,
}


def _lead(pass_arg: _PassArg | None, context: Context) -> tuple[Any, ...]:
    if pass_arg is _PassArg.context:
        return (context,)
    if pass_arg is _PassArg.eval_context:
        return (context.eval_ctx,)
    if pass_arg is _PassArg.environment:
        return (context.environment,)
    return ()


def _unflatten(named: Args, sig: inspect.Signature) -> tuple[list[Any], dict[str, Any]]:
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for name, param in sig.parameters.items():
        if param.kind is param.VAR_POSITIONAL:
            args.extend(named.get(name, ()))
        elif param.kind is param.VAR_KEYWORD:
            kwargs = named.get(name, {})
        else:
            args.append(named[name])
    return args, kwargs


def _signature(func: Callable[..., Any]) -> inspect.Signature:
    """The parameters after the one Jinja passes (context, eval_ctx or environment), which
    an async-variant wrapper takes without its sync function's signature showing it."""
    sig = inspect.signature(func)
    params = list(sig.parameters.values())
    if params and params[0].name in _LEAD_NAMES:
        params = params[1:]
    return sig.replace(parameters=params)


def wrap_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    pass_arg = _PassArg.from_obj(func)
    guard = _GUARDS.get(name)
    sig = _signature(func) if guard is not None else None
    measure = name in _MEASURED_FILTERS

    @pass_context
    @wraps(func)
    def filter_(context: Context, *args: Any, **kwargs: Any) -> Any:
        current().spend()
        if measure and args:
            check_value(args[0], f"the input of the {name} filter")
        lead = _lead(pass_arg, context)
        if guard is not None and sig is not None:
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            named = guard({**bound.arguments, _CONTEXT: context})
            args_, kwargs = _unflatten(named, sig)
            args = tuple(args_)
        return current().produced(func(*lead, *args, **kwargs))

    return filter_


def wrap_test(func: Any) -> Callable[..., Any]:
    pass_arg = _PassArg.from_obj(func)

    @pass_context
    @wraps(func)
    def test(context: Context, *args: Any, **kwargs: Any) -> Any:
        current().spend()
        return func(*_lead(pass_arg, context), *args, **kwargs)

    return test
