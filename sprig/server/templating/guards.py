"""Checks made before an operation that could explode: the size of what it would produce is
computed from its operands and refused past the limits (ranges, ``*``, ``**``, ``+``, ``%``,
string methods, ``str.format``)."""

from __future__ import annotations

import math
import re
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .limits import TemplateLimitError, check_size, current, text_size

_SEQUENCES = (str, bytes, list, tuple)


def range_length(args: tuple[Any, ...]) -> int:
    """The number of items ``range(*args)`` has (without making it)."""
    r = range(*args)
    step = r.step
    span = r.stop - r.start + (step - 1 if step > 0 else step + 1)
    return max(0, span // step)


def check_range(args: tuple[Any, ...]) -> None:
    n, cap = range_length(args), current().limits.max_range
    if n > cap:
        raise TemplateLimitError(f"range of {n} items exceeds the limit of {cap}")


def check_binop(op: str, left: Any, right: Any) -> None:
    if op == "*":
        _check_mul(left, right)
    elif op == "**":
        _check_pow(left, right)
    elif op == "+":
        if isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
            _check_sequence(left, len(left) + len(right))
    elif op == "%" and isinstance(left, str | bytes):
        check_printf(left, right)


def _is_int(x: Any) -> bool:
    return isinstance(x, int)


def _check_mul(left: Any, right: Any) -> None:
    if _is_int(left) and _is_int(right):
        _check_bits(left.bit_length() + right.bit_length())
    elif _is_int(right) and isinstance(left, _SEQUENCES):
        _check_sequence(left, len(left) * max(right, 0))
    elif _is_int(left) and isinstance(right, _SEQUENCES):
        _check_sequence(right, len(right) * max(left, 0))


def _check_pow(base: Any, exp: Any) -> None:
    if _is_int(base) and _is_int(exp) and exp > 0 and abs(base) > 1:
        try:
            bits = int(exp * math.log2(abs(base))) + 1
        except OverflowError:
            bits = exp  # at least one bit per factor
        _check_bits(bits)


def _check_bits(bits: int) -> None:
    cap = current().limits.max_int_bits
    if bits > cap:
        raise TemplateLimitError(f"an integer of about {bits} bits exceeds the limit of {cap} bits")


def _check_sequence(sample: Any, n: int) -> None:
    if isinstance(sample, str | bytes):
        check_size(n)
    else:
        check_size(n, "a list", "items")


_PRINTF = re.compile(
    r"%(?:\((?P<key>[^)]*)\))?[#0\- +]*(?P<width>\*|\d+)?(?:\.(?P<prec>\*|\d*))?[hlL]?(?P<conv>.)",
    re.S,
)


def check_printf(fmt: str | bytes, args: Any) -> None:
    """``fmt % args``: refused when widths, precisions and arguments could exceed the limit."""
    text = fmt.decode("latin-1") if isinstance(fmt, bytes) else fmt
    cap = current().limits.max_output_chars
    total = len(text)
    keyed = isinstance(args, Mapping)
    for m in _PRINTF.finditer(text):
        if m["conv"] == "%":
            continue
        if "*" in (m["width"], m["prec"]):
            raise TemplateLimitError("'*' widths in % formatting are not allowed in templates")
        total += int(m["width"] or 0) + int(m["prec"] or 0)
        if keyed and m["key"] is not None:
            total += text_size(args.get(m["key"]), cap)
    if not keyed:
        total += text_size(args, cap)
    check_size(total)


def format_field_size(value: Any, spec: str) -> int:
    """What ``format(value, spec)`` may produce at most (widths and precisions included)."""
    cap = current().limits.max_output_chars
    return sum(int(d) for d in re.findall(r"\d+", spec)) + text_size(value, cap)


# -- builtin methods of str and bytes (and int.to_bytes), before they run -------------------


def _width(s: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    width = args[0] if args else 0
    if _is_int(width):
        check_size(max(len(s), width))


def _expandtabs(s: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    size = args[0] if args else kwargs.get("tabsize", 8)
    if _is_int(size):
        check_size(len(s) + s.count("\t" if isinstance(s, str) else b"\t") * max(size, 0))


def replace_size(s: Any, old: Any, new: Any, count: Any = -1) -> int:
    """An upper bound of ``len(s.replace(old, new, count))``."""
    if not (isinstance(old, str | bytes) and isinstance(new, str | bytes)):
        return len(s)
    hits = len(s) // max(len(old), 1) + 1
    if _is_int(count) and count >= 0:
        hits = min(hits, count)
    return len(s) + hits * max(len(new) - len(old), 0)


def _replace(s: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if len(args) >= 2:
        check_size(replace_size(s, *args[:3]))


def _translate(s: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    table = args[0] if args else None
    if isinstance(s, str) and isinstance(table, Mapping):
        longest = max((len(v) for v in table.values() if isinstance(v, str)), default=1)
        check_size(len(s) * max(longest, 1))


def _to_bytes(n: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    length = args[0] if args else kwargs.get("length", 1)
    if _is_int(length):
        check_size(length, "a bytes object", "bytes")


def bounded_items(values: Iterable[Any], separator: Any = "") -> list[Any]:
    """The items of ``values`` as a list, refused as soon as joining them with
    ``separator`` would exceed the size limit."""
    cap = current().limits.max_output_chars
    step = len(separator) if isinstance(separator, str | bytes) else text_size(separator, cap)
    items, total = [], 0
    for item in values:
        total += text_size(item, cap) + step
        if total > cap:
            check_size(total)
        items.append(item)
    return items


_METHOD_GUARDS: dict[str, Callable[[Any, tuple[Any, ...], dict[str, Any]], None]] = {
    "center": _width,
    "ljust": _width,
    "rjust": _width,
    "zfill": _width,
    "expandtabs": _expandtabs,
    "replace": _replace,
    "translate": _translate,
}


def guard_method(obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """Check a call of a builtin method; returns the arguments to call it with."""
    if not isinstance(obj, types.BuiltinMethodType):
        return args
    owner, name = obj.__self__, obj.__name__
    if isinstance(owner, str | bytes):
        if name == "join" and args:
            return (bounded_items(args[0], owner), *args[1:])
        guard = _METHOD_GUARDS.get(name)
        if guard is not None:
            guard(owner, args, kwargs)
    elif isinstance(owner, int) and name == "to_bytes":
        _to_bytes(owner, args, kwargs)
    return args
