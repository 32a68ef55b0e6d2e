"""Safe arithmetic: an expression is parsed with `ast` and walked; nothing is ever `eval`-ed.

Allowed: numbers, ``+ - * / // % **`` (``^`` also means power, as on calculators), unary
``+``/``-``, parentheses, the constants ``pi e tau inf`` and the functions in `FUNCTIONS`.
Integer results are capped at `MAX_INT_BITS` bits, so no expression can exhaust memory or time.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

from sprig.server.errors import BadRequestError

Number = int | float
MAX_EXPRESSION = 1000
MAX_INT_BITS = 4096
MAX_FACTORIAL = 500

CONSTANTS: dict[str, Number] = {"pi": math.pi, "e": math.e, "tau": math.tau, "inf": math.inf}
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": abs,
    "round": round,
    "min": min,
    "max": max,
    "sqrt": math.sqrt,
    "exp": math.exp,
    "log": math.log,
    "log10": math.log10,
    "log2": math.log2,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "asin": math.asin,
    "acos": math.acos,
    "atan": math.atan,
    "atan2": math.atan2,
    "hypot": math.hypot,
    "floor": math.floor,
    "ceil": math.ceil,
    "degrees": math.degrees,
    "radians": math.radians,
    "factorial": math.factorial,
    "gcd": math.gcd,
}
BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.BitXor: operator.pow,
}
UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}


def evaluate(expression: str) -> Number:
    """The value of an arithmetic expression; `BadRequestError` for anything else."""
    if len(expression) > MAX_EXPRESSION:
        raise BadRequestError(f"Expression longer than {MAX_EXPRESSION} characters")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        raise BadRequestError(f"Not an arithmetic expression: {expression!r}") from None
    try:
        value = _checked(_eval(tree.body))
    except ZeroDivisionError:
        raise BadRequestError("Division by zero") from None
    except (OverflowError, ValueError) as exc:
        raise BadRequestError(f"Math error: {exc}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise BadRequestError("The result is not a finite number")
    return value


def _eval(node: ast.expr) -> Number:
    if isinstance(node, ast.Constant):
        return _constant(node.value)
    if isinstance(node, ast.Name):
        if node.id not in CONSTANTS:
            raise BadRequestError(f"Unknown name {node.id!r}")
        return CONSTANTS[node.id]
    if isinstance(node, ast.UnaryOp) and type(node.op) in UNARY:
        return _checked(UNARY[type(node.op)](_eval(node.operand)))
    if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
        return _binary(node.op, _eval(node.left), _eval(node.right))
    if isinstance(node, ast.Call):
        return _call(node)
    raise BadRequestError(f"Unsupported syntax in expression: {type(node).__name__}")


def _constant(value: object) -> Number:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRequestError(f"Only numbers are allowed, not {value!r}")
    return _checked(value)


def _binary(op: ast.operator, left: Number, right: Number) -> Number:
    if isinstance(op, ast.Pow | ast.BitXor):
        _guard_power(left, right)
    return _checked(BINARY[type(op)](left, right))


def _guard_power(base: Number, exponent: Number) -> None:
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0:
        if base.bit_length() * exponent > MAX_INT_BITS:
            raise BadRequestError("The result would be too large")
    elif abs(exponent) > 10_000:
        raise BadRequestError("Exponent too large")


def _call(node: ast.Call) -> Number:
    if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
        raise BadRequestError("Only the documented math functions may be called")
    if node.keywords:
        raise BadRequestError("Keyword arguments are not supported")
    name = node.func.id
    args = [_eval(a) for a in node.args]
    if name == "factorial" and args and (not isinstance(args[0], int) or args[0] > MAX_FACTORIAL):
        raise BadRequestError(f"factorial takes an integer up to {MAX_FACTORIAL}")
    try:
        return _checked(FUNCTIONS[name](*args))
    except TypeError:
        raise BadRequestError(f"Wrong arguments for {name}()") from None


def _checked(value: Any) -> Number:
    if isinstance(value, complex):
        raise BadRequestError("The result is a complex number")
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise BadRequestError("The result would be too large")
    return value  # type: ignore[no-any-return]
