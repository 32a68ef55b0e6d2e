"""System templates, rendered in a Jinja sandbox.

The sandbox blocks attribute access to internals (``__class__``, ``mro`` …) and unsafe
callables; the template sees only plain data (dicts, lists, strings, numbers) and the few
globals below. User message text is never rendered as a template.

Variables: ``agent`` (name, about, instructions, metadata), ``agents`` (all of the session's),
``user`` (name, about, metadata; the first user or None), ``users``, ``session`` (id,
situation, metadata), ``situation``, ``metadata`` (the session's metadata updated by the
request's), ``docs`` (recalled documents: title, content, metadata), ``memories``.
Globals: ``now`` (UTC, RFC 3339 text), ``NEWLINE``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import TemplateError, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from sprig.server.errors import BadRequestError
from sprig.server.ids import rfc3339, utcnow

DEFAULT_SYSTEM_TEMPLATE = """\
{%- if agent.name %}You are {{ agent.name }}.{% endif %}
{%- if agent.about %} {{ agent.about }}{% endif %}
{%- if user %}

You are talking to {{ user.name or "a user" }}.
{%- if user.about %} About them: {{ user.about }}{% endif %}
{%- endif %}
{%- if situation %}

Situation: {{ situation }}
{%- endif %}
{%- if agent.instructions %}

Instructions:
{%- for instruction in agent.instructions %}
- {{ instruction }}
{%- endfor %}
{%- endif %}
{%- if memories %}

What you remember about the user:
{%- for memory in memories %}
- {{ memory.content }}
{%- endfor %}
{%- endif %}
{%- if docs %}

Relevant documents:
{%- for doc in docs %}
<document title="{{ doc.title }}">
{{ doc.content }}
</document>
{%- endfor %}
{%- endif %}"""

MAX_TEMPLATE_CHARS = 100_000
MAX_OUTPUT_CHARS = 1_000_000


class _Env(ImmutableSandboxedEnvironment):
    """No loops over huge ranges, no mutation of the data the template sees."""

    def call(self, context: Any, obj: Any, *args: Any, **kwargs: Any) -> Any:
        if obj is range and args and max(int(a) for a in args) > 10_000:
            raise TemplateError("range too large in template")
        return super().call(context, obj, *args, **kwargs)


@lru_cache(maxsize=1)
def _env() -> _Env:
    env = _Env(autoescape=False, undefined=Undefined, keep_trailing_newline=False)
    env.globals = {"range": range, "NEWLINE": "\n"}
    return env


@lru_cache(maxsize=256)
def _compile(source: str) -> Any:
    return _env().from_string(source)


def render(source: str, variables: dict[str, Any]) -> str:
    """Render a template; any template fault is a 400 naming the problem."""
    if len(source) > MAX_TEMPLATE_CHARS:
        raise BadRequestError(f"Template longer than {MAX_TEMPLATE_CHARS} characters")
    try:
        text = str(_compile(source).render(**variables, now=rfc3339(utcnow())))
    except TemplateError as err:
        raise BadRequestError(f"Template error: {err}") from err
    except (ArithmeticError, TypeError, ValueError, RecursionError) as err:
        raise BadRequestError(f"Template error: {type(err).__name__}: {err}") from err
    if len(text) > MAX_OUTPUT_CHARS:
        raise BadRequestError("Rendered template is too long")
    return text
