"""Route factory for the resources that share the Julep CRUD shape (agents, users, sessions).

No ``from __future__ import annotations`` here: FastAPI reads the closures' annotations,
which name the body models passed in.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from fastapi import APIRouter, status

from sprig.server.api import views
from sprig.server.api.body import Body
from sprig.server.api.deps import Developer, Legacy, RuntimeDep
from sprig.server.api.responses import Deleted, documented
from sprig.server.resources.crud import ResourceService
from sprig.server.runtime import Runtime

View = Callable[..., dict[str, Any]]
Split = Callable[[Any], tuple[dict[str, Any], dict[str, Any]]]


@dataclass(frozen=True)
class CrudSpec:
    path: str  # "/agents"
    tag: str
    service: Callable[[Runtime], ResourceService]
    view: View
    create_model: type[Body]
    patch_model: type[Body]
    # The documented bodies (api/responses.py): one item, a list; each 0.x view, if any.
    model: Any = None
    list_model: Any = None
    legacy_model: Any = None
    legacy_list_model: Any = None
    fill_defaults: Callable[[dict[str, Any]], dict[str, Any]] = lambda values: values


def _split(body: Body) -> tuple[dict[str, Any], dict[str, Any]]:
    split = getattr(body, "split", None)
    if split is not None:
        result: tuple[dict[str, Any], dict[str, Any]] = split()
        return result
    return body.values(), {}


def register_crud(router: APIRouter, spec: CrudSpec, list_route: Callable[..., Any]) -> None:
    """Add create, create-or-update, get, replace, patch and delete; list is per resource."""
    create_model, patch_model, view = spec.create_model, spec.patch_model, spec.view
    item = spec.path + "/{id}"
    one = documented(spec.model, spec.legacy_model)
    listed = documented(spec.list_model, spec.legacy_list_model)
    router.add_api_route(
        spec.path, list_route, methods=["GET"], tags=[spec.tag], response_model=listed
    )

    async def create(
        body: create_model,  # type: ignore[valid-type]
        runtime: RuntimeDep,
        dev: Developer,
        legacy: Legacy,
    ) -> dict[str, Any]:
        values, extra = _split(body)
        row = await spec.service(runtime).create(dev, spec.fill_defaults(values), extra)
        return view(row, legacy)

    async def create_or_update(
        id: UUID,
        body: create_model,  # type: ignore[valid-type]
        runtime: RuntimeDep,
        dev: Developer,
        legacy: Legacy,
    ) -> dict[str, Any]:
        values, extra = _split(body)
        row, _ = await spec.service(runtime).create_or_update(
            dev, id, spec.fill_defaults(values), extra
        )
        return view(row, legacy)

    async def get(id: UUID, runtime: RuntimeDep, dev: Developer, legacy: Legacy) -> dict[str, Any]:
        return view(await spec.service(runtime).get(dev, id), legacy)

    async def replace(
        id: UUID,
        body: create_model,  # type: ignore[valid-type]
        runtime: RuntimeDep,
        dev: Developer,
        legacy: Legacy,
    ) -> dict[str, Any]:
        values, extra = _split(body)
        row = await spec.service(runtime).replace(dev, id, spec.fill_defaults(values), extra)
        return view(row, legacy)

    async def patch(
        id: UUID,
        body: patch_model,  # type: ignore[valid-type]
        runtime: RuntimeDep,
        dev: Developer,
        legacy: Legacy,
    ) -> dict[str, Any]:
        values, extra = _split(body)
        row = await spec.service(runtime).patch(dev, id, values, extra)
        return view(row, legacy)

    async def delete(id: UUID, runtime: RuntimeDep, dev: Developer) -> dict[str, Any]:
        return views.deleted(await spec.service(runtime).delete(dev, id))

    tags: list[str | Any] = [spec.tag]
    created = {"status_code": status.HTTP_201_CREATED, "tags": tags, "response_model": one}
    router.add_api_route(spec.path, create, methods=["POST"], **created)
    router.add_api_route(item, create_or_update, methods=["POST"], **created)
    router.add_api_route(item, get, methods=["GET"], tags=tags, response_model=one)
    router.add_api_route(item, replace, methods=["PUT"], tags=tags, response_model=one)
    router.add_api_route(item, patch, methods=["PATCH"], tags=tags, response_model=one)
    router.add_api_route(
        item,
        delete,
        methods=["DELETE"],
        status_code=status.HTTP_202_ACCEPTED,
        tags=tags,
        response_model=documented(Deleted),
    )
