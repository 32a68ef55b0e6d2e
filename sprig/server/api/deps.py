"""Dependencies shared by the routes: the runtime and its services, caller's tenant, list
queries, client family."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import Depends, Query, Request

from sprig.server.api.body import comparable
from sprig.server.auth.keys import authenticate
from sprig.server.chat.service import ChatService
from sprig.server.docs.service import DocService
from sprig.server.errors import AuthenticationError, PermissionDeniedError, ValidationError
from sprig.server.history.service import HistoryService
from sprig.server.jobs.service import JobService
from sprig.server.memory.service import MemoryService
from sprig.server.observability import logs
from sprig.server.openai.errors import is_openai
from sprig.server.runtime import Runtime
from sprig.server.store.crud import ListQuery


async def get_runtime(request: Request) -> Runtime:
    """``async``: FastAPI runs a plain ``def`` dependency on its thread pool, a round trip
    to another thread (~0.1 ms) on every request."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


# One service per route module where that is all it needs (FastAPI caches the runtime
# dependency per request: these are attribute reads).
async def _chat(runtime: RuntimeDep) -> ChatService:
    return runtime.chat


async def _docs(runtime: RuntimeDep) -> DocService:
    return runtime.docs


async def _history(runtime: RuntimeDep) -> HistoryService:
    return runtime.history


async def _jobs(runtime: RuntimeDep) -> JobService:
    return runtime.jobs


async def _memory(runtime: RuntimeDep) -> MemoryService:
    return runtime.memory


ChatDep = Annotated[ChatService, Depends(_chat)]
DocsDep = Annotated[DocService, Depends(_docs)]
HistoryDep = Annotated[HistoryService, Depends(_history)]
JobsDep = Annotated[JobService, Depends(_jobs)]
MemoryDep = Annotated[MemoryService, Depends(_memory)]


def presented_key(headers: Mapping[str, str]) -> str | None:
    """The API key a request (or a WebSocket handshake) presents, if any."""
    for header in ("authorization", "x-auth-key"):
        value = headers.get(header)
        if value:
            value = value.strip()
            if value[:7].lower() == "bearer ":
                value = value[7:].strip()
            return value or None
    return None


async def current_developer(request: Request, runtime: RuntimeDep) -> UUID:
    key = presented_key(request.headers)
    if key is None:
        raise AuthenticationError("Missing API key: send 'Authorization: Bearer <key>'")
    developer_id = await authenticate(runtime.db, key, runtime.key_cache)
    if developer_id is None:
        if is_openai(request.scope):  # OpenAI answers a wrong key with 401 invalid_api_key
            raise InvalidAPIKeyError("Incorrect API key provided")
        raise PermissionDeniedError("Could not validate API key")
    request.state.developer_id = developer_id
    logs.add_context(tenant_id=str(developer_id))
    await runtime.quotas.admit(developer_id)  # requests per minute (none: a dict lookup)
    return developer_id


class InvalidAPIKeyError(AuthenticationError):
    code = "invalid_api_key"
    type = "invalid_request_error"


Developer = Annotated[UUID, Depends(current_developer)]


async def metered_developer(runtime: RuntimeDep, dev: Developer) -> UUID:
    """The caller of a route that calls a model, if its tenant's tokens per minute and per
    day and cost this month leave room for a turn (429 otherwise, before anything runs)."""
    await runtime.quotas.check_spend(dev)
    return dev


Metered = Annotated[UUID, Depends(metered_developer)]


def is_legacy(request: Request) -> bool:
    """The 0.x (Fern) SDKs identify themselves; they need the legacy view of some types."""
    return "x-fern-language" in request.headers


Legacy = Annotated[bool, Depends(is_legacy)]


def _coerce(value: str) -> Any:
    """Query-string filter values: bool, int, float, else the string (v1 plus booleans)."""
    if value in ("true", "false"):
        return value == "true"
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            continue
    return value


def parse_metadata_filter(request: Request, raw: str | None) -> dict[str, Any]:
    """Both dialects: ``metadata_filter=<JSON>`` (0.x) and ``metadata_filter.<k>=<v>`` (2.x)."""
    result: dict[str, Any] = {}
    if raw:
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError as err:
            raise _query_error("metadata_filter", f"not valid JSON: {err.msg}") from err
        if not isinstance(parsed, dict):
            raise _query_error("metadata_filter", "must be a JSON object")
        result.update(parsed)
    for key, value in request.query_params.multi_items():
        if key.startswith("metadata_filter.") and len(key) > len("metadata_filter."):
            result[key[len("metadata_filter.") :]] = _coerce(value)
    try:
        comparable(result)
    except ValueError as err:
        raise _query_error("metadata_filter", str(err)) from err
    return result


def _query_error(field: str, message: str) -> ValidationError:
    return ValidationError(
        f"Validation error: query.{field}: {message}",
        details=[{"loc": ["query", field], "msg": message, "type": "value_error"}],
    )


MAX_LIMIT = 100  # upstream's bound for list routes
MAX_OFFSET = 2**31 - 1  # beyond any list; larger values overflow the databases' integers
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"1 to {MAX_LIMIT}")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description=f"0 to {MAX_OFFSET}")]


def list_query(
    request: Request,
    limit: Limit = 100,
    offset: Offset = 0,
    sort_by: Literal["created_at", "updated_at"] = "created_at",
    direction: Literal["asc", "desc"] | None = None,
    order: Annotated[Literal["asc", "desc"] | None, Query(description="Alias of direction")] = None,
    metadata_filter: Annotated[
        str | None, Query(description="JSON object, or use metadata_filter.<key>=<value>")
    ] = None,
) -> ListQuery:
    return ListQuery(
        limit=limit,
        offset=offset,
        sort_by=sort_by,
        direction=direction or order or "desc",
        metadata_filter=parse_metadata_filter(request, metadata_filter),
    )


ListQueryDep = Annotated[ListQuery, Depends(list_query)]
