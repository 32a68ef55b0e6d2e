"""``system`` tools: Sprig's own operations, run for the calling tenant only.

A tool ``{resource, subresource?, operation, resource_id?, arguments?}`` names one operation.
``resource_id`` and ``arguments`` are fixed by the tool (hidden from the model, winning over
its arguments); missing ids default to the conversation's own agent, first user or session.

Supported operations (resource[.subresource].operation: model arguments):

- ``agent.get``: agent_id?
- ``user.get``: user_id?
- ``session.get``: session_id?
- ``session.history``: session_id?, limit? (last N entries, default 20, at most 200)
- ``agent.doc.list`` / ``user.doc.list``: agent_id|user_id?, limit? (10), offset?
- ``agent.doc.create`` / ``user.doc.create``: agent_id|user_id?, title, content, metadata?
- ``agent.doc.search`` / ``user.doc.search``: agent_id|user_id?, text, limit? (5, at most 50)

Anything else (deletes, tasks, executions, …) answers a clear "not supported" error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sprig.server.errors import BadRequestError, NotImplementedFeatureError
from sprig.server.tools.context import DocOwner, SystemServices, ToolContext
from sprig.server.tools.schema import Schema, check_arguments, without
from sprig.server.tools.types import public

Handler = Callable[[ToolContext, SystemServices, dict[str, Any]], Awaitable[Any]]
Key = tuple[str, str | None, str]
ENTRY_FIELDS = (
    "id",
    "role",
    "name",
    "content",
    "source",
    "created_at",
    "tool_call_id",
    "tool_calls",
)


@dataclass(frozen=True, slots=True)
class SystemOperation:
    resource: str
    subresource: str | None
    operation: str
    description: str
    parameters: Schema
    handler: Handler

    @property
    def key(self) -> Key:
        return self.resource, self.subresource, self.operation

    @property
    def label(self) -> str:
        return ".".join(p for p in self.key if p)

    @property
    def id_field(self) -> str:
        return f"{self.resource}_id"


def _id_prop(kind: str) -> dict[str, str]:
    return {"type": "string", "description": f"The {kind} id (default: this conversation's)"}


_TEXT = {"type": "string", "minLength": 1}
_CONTENT = {"anyOf": [_TEXT, {"type": "array", "items": {"type": "string"}}]}


def _schema(props: dict[str, Any], required: list[str] | None = None) -> Schema:
    out: Schema = {"type": "object", "properties": props}
    if required:
        out["required"] = required
    return out


def _int(low: int, high: int, default: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": low, "maximum": high, "default": default}


def _uuid(args: Mapping[str, Any], name: str, default: UUID | None) -> UUID:
    value = args.get(name)
    if value is None:
        if default is None:
            raise BadRequestError(f"No {name} given and this conversation has none to default to")
        return default
    try:
        return UUID(str(value))
    except ValueError:
        raise BadRequestError(f"{name} is not a valid id: {value!r}") from None


def _default_owner(ctx: ToolContext, owner: DocOwner) -> UUID | None:
    if owner == "agent":
        return ctx.agent_id
    return ctx.user_ids[0] if ctx.user_ids else None


async def _agent_get(ctx: ToolContext, svc: SystemServices, args: dict[str, Any]) -> Any:
    return public(await svc.get_agent(ctx.developer_id, _uuid(args, "agent_id", ctx.agent_id)))


async def _user_get(ctx: ToolContext, svc: SystemServices, args: dict[str, Any]) -> Any:
    user_id = _uuid(args, "user_id", _default_owner(ctx, "user"))
    return public(await svc.get_user(ctx.developer_id, user_id))


async def _session_get(ctx: ToolContext, svc: SystemServices, args: dict[str, Any]) -> Any:
    session_id = _uuid(args, "session_id", ctx.session_id)
    return public(await svc.get_session(ctx.developer_id, session_id))


async def _session_history(ctx: ToolContext, svc: SystemServices, args: dict[str, Any]) -> Any:
    session_id = _uuid(args, "session_id", ctx.session_id)
    limit = int(args.get("limit", 20))
    entries = await svc.session_history(ctx.developer_id, session_id, limit)
    return {"entries": [{k: e[k] for k in ENTRY_FIELDS if e.get(k) is not None} for e in entries]}


def _doc_ops(owner: DocOwner) -> list[SystemOperation]:
    id_name = f"{owner}_id"

    async def list_docs(ctx: ToolContext, svc: SystemServices, args: dict[str, Any]) -> Any:
        owner_id = _uuid(args, id_name, _default_owner(ctx, owner))
        limit, offset = int(args.get("limit", 10)), int(args.get("offset", 0))
        rows = await svc.list_docs(ctx.developer_id, owner, owner_id, limit, offset)
        return {"items": [public(r) for r in rows]}

    async def create_doc(ctx: ToolContext, svc: SystemServices, args: dict[str, Any]) -> Any:
        owner_id = _uuid(args, id_name, _default_owner(ctx, owner))
        doc: dict[str, Any] = {k: args[k] for k in ("title", "content", "metadata") if k in args}
        return public(await svc.create_doc(ctx.developer_id, owner, owner_id, doc))

    async def search_docs(ctx: ToolContext, svc: SystemServices, args: dict[str, Any]) -> Any:
        owner_id = _uuid(args, id_name, _default_owner(ctx, owner))
        limit = int(args.get("limit", 5))
        rows = await svc.search_docs(ctx.developer_id, owner, owner_id, str(args["text"]), limit)
        return {"docs": [public(r) for r in rows]}

    target = {id_name: _id_prop(owner)}
    listing = {**target, "limit": _int(1, 100, 10), "offset": _int(0, 10**6, 0)}
    creating = {**target, "title": _TEXT, "content": _CONTENT, "metadata": {"type": "object"}}
    searching = {**target, "text": _TEXT, "limit": _int(1, 50, 5)}
    return [
        SystemOperation(
            owner, "doc", "list", f"List the {owner}'s documents.", _schema(listing), list_docs
        ),
        SystemOperation(
            owner,
            "doc",
            "create",
            f"Store a document for the {owner}.",
            _schema(creating, ["title", "content"]),
            create_doc,
        ),
        SystemOperation(
            owner,
            "doc",
            "search",
            f"Search the {owner}'s documents.",
            _schema(searching, ["text"]),
            search_docs,
        ),
    ]


def _single(resource: str, operation: str, description: str, handler: Handler) -> SystemOperation:
    props: dict[str, Any] = {f"{resource}_id": _id_prop(resource)}
    if operation == "history":
        props["limit"] = _int(1, 200, 20)
    return SystemOperation(resource, None, operation, description, _schema(props), handler)


def builtin_operations() -> list[SystemOperation]:
    return [
        _single("agent", "get", "Get an agent.", _agent_get),
        _single("user", "get", "Get a user.", _user_get),
        _single("session", "get", "Get a session.", _session_get),
        _single(
            "session", "history", "The latest entries of a session's history.", _session_history
        ),
        *_doc_ops("agent"),
        *_doc_ops("user"),
    ]


class SystemRegistry:
    """(resource, subresource, operation) → operation."""

    def __init__(self, operations: Iterable[SystemOperation] | None = None) -> None:
        ops = builtin_operations() if operations is None else operations
        self._ops: dict[Key, SystemOperation] = {op.key: op for op in ops}

    def labels(self) -> list[str]:
        return sorted(op.label for op in self._ops.values())

    def lookup(self, body: Mapping[str, Any]) -> SystemOperation | None:
        key = (
            str(body.get("resource")),
            body.get("subresource") or None,
            str(body.get("operation")),
        )
        return self._ops.get(key)

    def find(self, body: Mapping[str, Any]) -> SystemOperation:
        op = self.lookup(body)
        if op is None:
            parts = (body.get("resource"), body.get("subresource"), body.get("operation"))
            label = ".".join(str(p) for p in parts if p)
            supported = ", ".join(self.labels())
            raise NotImplementedFeatureError(
                f"System operation {label!r} is not supported; supported: {supported}"
            )
        return op

    def fixed_arguments(self, body: Mapping[str, Any], op: SystemOperation) -> dict[str, Any]:
        fixed = dict(body.get("arguments") or {})
        if body.get("resource_id"):
            fixed[op.id_field] = str(body["resource_id"])
        return fixed

    def parameters(self, body: Mapping[str, Any]) -> Schema | None:
        """The schema the model sees for this tool; None when the operation is unsupported."""
        op = self.lookup(body)
        if op is None:
            return None
        return without(op.parameters, self.fixed_arguments(body, op))

    async def run(
        self, body: Mapping[str, Any], arguments: Mapping[str, Any], context: ToolContext
    ) -> Any:
        op = self.find(body)
        fixed = self.fixed_arguments(body, op)
        check_arguments(arguments, without(op.parameters, fixed), force_closed=False)
        if context.services is None:
            raise NotImplementedFeatureError("System tools are not available in this context")
        return await op.handler(context, context.services, {**arguments, **fixed})
