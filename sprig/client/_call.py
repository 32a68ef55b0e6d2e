"""Calls as data: what one API method sends and how it reads the answer (no I/O here).

Every method is written once as an *operation*: a plain function that checks its arguments
and returns a `Call`. The sync and async clients run the same `Call` through one request
builder (`_base.py`), so their behaviour cannot drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from sprig.client.errors import ArgumentValueError

T = TypeVar("T")
X = TypeVar("X")


@dataclass(frozen=True)
class Call(Generic[T]):
    """One HTTP exchange: method, path (relative to the base URL), query, JSON body, parser.

    ``stream`` asks for Server-Sent Events: the answer is read as a stream of chunks.
    """

    method: str
    path: str
    parse: Callable[[Any], T]
    params: Mapping[str, Any] = field(default_factory=dict)
    json: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    stream: bool = False

    def recast(self, parse: Callable[[Any], X]) -> Call[X]:
        """The same request, read as another type."""
        return Call(
            self.method, self.path, parse, self.params, self.json, self.headers, self.stream
        )


@dataclass(frozen=True)
class ListCall(Generic[X]):
    """A ``GET`` of a ``{"items": [...]}`` list honouring ``limit``/``offset``: pageable."""

    path: str
    item: Callable[[Any], X]
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def limit(self) -> int | None:
        value = self.params.get("limit")
        return int(value) if value is not None else None

    @property
    def offset(self) -> int:
        return int(self.params.get("offset") or 0)

    def at(self, offset: int) -> ListCall[X]:
        return replace(self, params={**self.params, "offset": offset})

    def as_call(self) -> Call[list[X]]:
        return Call("GET", self.path, self.items, self.params)

    def items(self, body: Any) -> list[X]:
        raw = body.get("items", []) if isinstance(body, dict) else body
        return [self.item(entry) for entry in raw or []]


def path(template: str, *ids: str | UUID) -> str:
    """Fill ``{}`` slots with ids (validated UUIDs by then; `str()` keeps them canonical)."""
    return template.format(*(str(i) for i in ids))


def compact(**values: Any) -> dict[str, Any]:
    """A JSON body or query without the keys left as ``None`` (null means "not given")."""
    return {key: jsonable(value) for key, value in values.items() if value is not None}


def jsonable(value: Any) -> Any:
    """UUIDs to strings, pydantic models to dicts, ``None`` inside dicts dropped."""
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def list_params(
    limit: int | None,
    offset: int | None,
    metadata_filter: Mapping[str, Any] | str | None = None,
    sort_by: str | None = None,
    order: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Query of a list call; ``metadata_filter`` goes as a JSON string, ``order`` as direction."""
    query = compact(limit=limit, offset=offset, sort_by=sort_by, direction=order, **extra)
    if isinstance(metadata_filter, str):  # already JSON, as the legacy raw client sends it
        query["metadata_filter"] = metadata_filter
    elif metadata_filter:
        query["metadata_filter"] = json.dumps(jsonable(metadata_filter), separators=(",", ":"))
    return {k: _query_value(v) for k, v in query.items()}


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def one_owner(agent_id: Any, user_id: Any) -> tuple[str, Any]:
    """Docs belong to exactly one agent or one user: ``("agents", id)`` or ``("users", id)``."""
    if (agent_id is None) == (user_id is None):
        raise ArgumentValueError("give exactly one of agent_id or user_id")
    return ("agents", agent_id) if agent_id is not None else ("users", user_id)
