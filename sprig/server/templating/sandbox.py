"""The sandboxed Jinja environment with limits, its compile cache, and rendering.

On top of Jinja's ``ImmutableSandboxedEnvironment`` (no internals, no mutation):

- every ``{% for %}`` iterable is passed through a counting filter (added to the parsed tree),
  so each iteration is counted and the clock checked, loops without any call inside too;
- every call, filter and test is counted; ``range()`` is refused past ``max_range`` items
  (either way, any step); ``*``, ``**``, ``+``, ``%`` and ``~`` are intercepted and refused
  when their result would be too large (so Jinja's optimizer never folds them into constants);
- every piece of text the template produces (output, macro and ``{% set %}`` bodies) is
  counted against ``max_output_chars`` as it is produced, and values are measured before
  they are turned into text.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from threading import Lock
from typing import Any

from jinja2 import Template, TemplateError, Undefined, nodes, pass_context
from jinja2.compiler import CodeGenerator, Frame
from jinja2.nodes import EvalContext
from jinja2.runtime import LoopContext, markup_join, str_join
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedFormatter
from markupsafe import Markup, escape

from . import guards
from .filters import wrap_filter, wrap_test
from .limits import (
    Budget,
    TemplateLimitError,
    TemplateLimits,
    activate,
    check_size,
    check_value,
    current,
    deactivate,
    time_limit_error,
)

MAX_TEMPLATE_CHARS = 100_000


LOOP_GUARD = "sprig_counted"  # the filter every {% for %} iterable is passed through


class _CodeGenerator(CodeGenerator):
    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.sprig_concat(context.eval_ctx, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")

    def _output_const_repr(self, group: Iterable[Any]) -> str:
        return f"environment.emit({super()._output_const_repr(group)})"

    def _output_child_pre(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        self.write("environment.emit_value(context.eval_ctx, ")

    def _output_child_post(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        self.write(")")

    _raw = False

    def simple_write(self, s: str, frame: Frame, node: nodes.Node | None = None) -> None:
        # ``yield event`` of a block: its text was counted when the block produced it.
        self._raw = True
        try:
            super().simple_write(s, frame, node)
        finally:
            self._raw = False

    def start_write(self, frame: Frame, node: nodes.Node | None = None) -> None:
        # Output of a call block, a filter block or a recursive loop.
        super().start_write(frame, node)
        if not self._raw:
            self.write("environment.emit(")

    def end_write(self, frame: Frame) -> None:
        if not self._raw:
            self.write(")")
        super().end_write(frame)


class _Formatter(SandboxedFormatter):
    """``str.format`` that measures each field before formatting it."""

    produced = 0

    def format_field(self, value: Any, format_spec: str) -> Any:
        self.produced += guards.format_field_size(value, format_spec)
        check_size(self.produced)
        return super().format_field(value, format_spec)


class _EscapeFormatter(_Formatter):
    def __init__(self, env: Any, escape: Any) -> None:
        super().__init__(env)
        self.escape = escape

    def format_field(self, value: Any, format_spec: str) -> Any:
        value = value.__html__() if hasattr(value, "__html__") else self.escape(value)
        return super().format_field(value, format_spec)


class SandboxEnvironment(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox with the limits above (read from the active budget)."""

    code_generator_class = _CodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self) -> None:
        super().__init__(autoescape=False, undefined=Undefined, keep_trailing_newline=False)
        self.globals = {"range": range, "NEWLINE": "\n"}
        self.filters = {name: wrap_filter(name, f) for name, f in self.filters.items()}
        self.tests = {name: wrap_test(f) for name, f in self.tests.items()}
        self.filters[LOOP_GUARD] = self._loop_guard

    @pass_context
    def _loop_guard(self, context: Any, iterable: Any) -> Iterator[Any]:
        return self.guard_iter(iterable)

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Filter(
                loop.iter, LOOP_GUARD, [], [], None, None, lineno=loop.iter.lineno
            )
        return tree

    # -- hooks the generated code calls ----------------------------------------------------

    def guard_iter(self, iterable: Any) -> Iterator[Any]:
        budget = current()
        for item in iterable:
            budget.spend()
            yield item

    def emit(self, text: str) -> str:
        return current().emit(text)

    def emit_value(self, eval_ctx: EvalContext, value: Any) -> str:
        if type(value) is not str:
            check_value(value, "an output value")
            value = escape(value) if eval_ctx.autoescape else str(value)
        return current().emit(value)

    def sprig_concat(self, eval_ctx: EvalContext, parts: Sequence[Any]) -> str:
        for part in parts:
            check_value(part, "a ~ operand")
        joined = markup_join(parts) if eval_ctx.autoescape else str_join(parts)
        return current().produced(joined)  # type: ignore[no-any-return]

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        guards.check_binop(operator, left, right)
        return current().produced(super().call_binop(context, operator, left, right))

    def call(self, context: Any, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        current().spend()
        if obj is range:
            guards.check_range(args)
        elif isinstance(obj, LoopContext) and args:  # loop(children) in a recursive loop
            args = (self.guard_iter(args[0]), *args[1:])
        else:
            args = guards.guard_method(obj, args, kwargs)
        return current().produced(super().call(context, obj, *args, **kwargs))

    def wrap_str_format(self, value: Any) -> Any:
        wrapper = super().wrap_str_format(value)
        if wrapper is None:
            return None
        f_self = value.__self__
        is_map = value.__name__ == "format_map"

        def format_(*args: Any, **kwargs: Any) -> str:
            if is_map:
                if kwargs or len(args) != 1:
                    raise TypeError("format_map() takes exactly one argument")
                kwargs = args[0]
                args = ()
            formatter: _Formatter = (
                _EscapeFormatter(self, f_self.escape)
                if isinstance(f_self, Markup)
                else _Formatter(self)
            )
            text: str = type(f_self)(formatter.vformat(f_self, args, kwargs))
            return text

        return format_


_env: SandboxEnvironment | None = None
_env_lock = Lock()


def environment() -> SandboxEnvironment:
    global _env
    with _env_lock:
        if _env is None:
            _env = SandboxEnvironment()
        return _env


class _Cache:
    """Compiled templates, least recently used first out; bounded by count and by the total
    length of their sources (a compiled template holds no value computed from it)."""

    def __init__(self, max_entries: int = 128, max_chars: int = 2_000_000) -> None:
        self.entries: OrderedDict[str, Template] = OrderedDict()
        self.chars = 0
        self.max_entries, self.max_chars = max_entries, max_chars
        self.lock = Lock()

    def get(self, source: str) -> Template:
        with self.lock:
            template = self.entries.get(source)
            if template is not None:
                self.entries.move_to_end(source)
                return template
        template = environment().from_string(source)
        with self.lock:
            self.entries[source] = template
            self.chars += len(source)
            while len(self.entries) > self.max_entries or self.chars > self.max_chars:
                old, _ = self.entries.popitem(last=False)
                self.chars -= len(old)
        return template


compiled = _Cache()


def render_all(
    sources: Sequence[str], variables: dict[str, Any], limits: TemplateLimits
) -> list[str]:
    """Render templates with one budget (time, operations, output) shared by all of them.
    Raises ``TemplateLimitError`` naming a limit, or the template's own error."""
    deadline = time.monotonic() + limits.time_limit if limits.time_limit > 0 else math.inf
    budget = Budget(limits, deadline)
    token = activate(budget)
    try:
        return [_render_one(source, variables, budget) for source in sources]
    finally:
        deactivate(token)


def _render_one(source: str, variables: dict[str, Any], budget: Budget) -> str:
    if is_plain(source):  # the client's own text, not produced by a template: not counted
        return plain_text(source)
    if len(source) > MAX_TEMPLATE_CHARS:
        raise TemplateLimitError(
            f"a template of {len(source)} characters exceeds the limit of {MAX_TEMPLATE_CHARS}"
        )
    template = compiled.get(source)
    if time.monotonic() > budget.deadline:
        raise time_limit_error(budget.limits)
    return "".join(template.root_render_func(template.new_context(variables)))


def plain_text(source: str) -> str:
    """What Jinja renders for a source without any tag: newlines normalised, one trailing
    newline dropped."""
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines[-1] == "":
        lines.pop()
    return "\n".join(lines)


def is_plain(source: str) -> bool:
    return not any(mark in source for mark in ("{{", "{%", "{#"))


def describe(err: BaseException) -> str:
    """The message a client gets for a template's fault."""
    if isinstance(err, TemplateError):
        return str(err)
    return f"{type(err).__name__}: {err}"
