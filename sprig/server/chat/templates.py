"""System templates, rendered in a Jinja sandbox.

The sandbox blocks attribute access to internals (``__class__``, ``mro`` …) and unsafe
callables; the template sees only plain data (dicts, lists, strings, numbers) and the few
globals below. User message text is never rendered as a template.

Variables: ``agent`` (name, about, instructions, metadata), ``agents`` (all of the session's),
``user`` (name, about, metadata; the first user or None), ``users``, ``session`` (id,
situation, metadata), ``situation``, ``metadata`` (the session's metadata updated by the
request's), ``docs`` (recalled documents: title, content, metadata), ``memories``.
Globals: ``now`` (UTC, RFC 3339 text), ``NEWLINE``.

Limits (``sprig.server.templating``): a request's templates share a time limit, an operation
budget (loop iterations, calls) and an output size; ranges, numbers and strings too large are
refused before they are made. Sprig's own default template and text without any tag render
in process (on the chat hot path); every other template renders in a worker process that is
killed when late and has a memory cap, so no template can stall or exhaust the server.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from jinja2 import TemplateError

from sprig.server.errors import BadRequestError
from sprig.server.ids import rfc3339, utcnow
from sprig.server.settings import Settings
from sprig.server.templating.limits import TemplateLimits
from sprig.server.templating.pool import WorkerPool
from sprig.server.templating.sandbox import MAX_TEMPLATE_CHARS, describe, is_plain, render_all

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


class TemplateRenderer:
    """Renders a request's templates under ``limits``; any fault is a 400 naming it."""

    def __init__(
        self, limits: TemplateLimits | None = None, workers: int = 2, memory_mb: int = 512
    ) -> None:
        self.limits = limits or TemplateLimits()
        self.pool = WorkerPool(workers, memory_mb)

    @classmethod
    def from_settings(cls, settings: Settings) -> TemplateRenderer:
        limits = TemplateLimits(
            time_limit=settings.template_time_limit_seconds,
            max_output_chars=settings.template_max_output_chars,
            max_range=settings.template_max_range,
            max_operations=settings.template_max_operations,
        )
        return cls(limits, settings.template_workers, settings.template_worker_memory_mb)

    async def render(self, sources: Sequence[str], variables: dict[str, Any]) -> list[str]:
        for source in sources:
            if len(source) > MAX_TEMPLATE_CHARS and not is_plain(source):
                raise BadRequestError(f"Template longer than {MAX_TEMPLATE_CHARS} characters")
        variables = {**variables, "now": rfc3339(utcnow())}
        local = [i for i, s in enumerate(sources) if is_trusted(s)]
        remote = sorted(set(range(len(sources))) - set(local))
        texts = [""] * len(sources)
        try:
            if local:
                done = render_all([sources[i] for i in local], variables, self.limits)
                texts = _place(texts, local, done)
            if remote:
                done = await self.pool.render([sources[i] for i in remote], variables, self.limits)
                texts = _place(texts, remote, done)
        except TemplateError as err:
            raise BadRequestError(f"Template error: {describe(err)}") from err
        except (ArithmeticError, LookupError, TypeError, ValueError, RecursionError) as err:
            raise BadRequestError(f"Template error: {describe(err)}") from err
        return texts

    def close(self) -> None:
        self.pool.close()


@functools.cache
def shared_renderer() -> TemplateRenderer:
    """A renderer with the default limits, for callers given none."""
    return TemplateRenderer()


def is_trusted(source: str) -> bool:
    """Sprig's own default template, or text with no template tag at all."""
    return (
        source is DEFAULT_SYSTEM_TEMPLATE or source == DEFAULT_SYSTEM_TEMPLATE or is_plain(source)
    )


def _place(texts: list[str], positions: list[int], done: list[str]) -> list[str]:
    for i, text in zip(positions, done, strict=True):
        texts[i] = text
    return texts
