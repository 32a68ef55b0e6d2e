"""``client.users``: create, get, list, update, delete."""

from __future__ import annotations

from sprig.client._call import Call, ListCall, compact, list_params, path
from sprig.client._methods import (
    AsyncResource,
    SyncResource,
    async_list,
    async_method,
    sync_list,
    sync_method,
)
from sprig.client._validation import Id
from sprig.client.params import DocParam
from sprig.client.resources._shared import Limit, Metadata, MetadataFilter, Offset, Order, SortBy
from sprig.client.types import ResourceDeletedResponse, User


def user_create(
    name: str | None = None,
    about: str | None = None,
    docs: list[DocParam] | None = None,
    metadata: Metadata | None = None,
    project: str | None = None,
) -> Call[User]:
    """Create a user (``POST /users``) with its inline documents."""
    body = compact(name=name, about=about, docs=docs, metadata=metadata, project=project)
    return Call("POST", "/users", User.model_validate, json=body)


def user_get(id: Id) -> Call[User]:
    """Get a user by id (``GET /users/{id}``)."""
    return Call("GET", path("/users/{}", id), User.model_validate)


def user_list(
    limit: Limit | None = None,
    offset: Offset | None = None,
    metadata_filter: MetadataFilter | None = None,
    sort_by: SortBy | None = None,
    order: Order | None = None,
) -> ListCall[User]:
    """List users (``GET /users``), newest first unless ``order="asc"``."""
    params = list_params(limit, offset, metadata_filter, sort_by, order)
    return ListCall("/users", User.model_validate, params)


def user_update(
    user_id: Id,
    about: str | None = None,
    name: str | None = None,
    metadata: Metadata | None = None,
    overwrite: bool = False,
) -> Call[User]:
    """Update a user: only the given fields (``PATCH``), or replace it (``overwrite=True``)."""
    body = compact(about=about, name=name, metadata=metadata)
    method = "PUT" if overwrite else "PATCH"
    return Call(method, path("/users/{}", user_id), User.model_validate, json=body)


def user_delete(user_id: Id) -> Call[ResourceDeletedResponse]:
    """Delete a user and their documents (``DELETE /users/{id}``)."""
    return Call("DELETE", path("/users/{}", user_id), ResourceDeletedResponse.model_validate)


class Users(SyncResource):
    _label = "users"
    create = sync_method(user_create)
    get = sync_method(user_get)
    list = sync_list(user_list)
    update = sync_method(user_update)
    delete = sync_method(user_delete)


class AsyncUsers(AsyncResource):
    _label = "users"
    create = async_method(user_create)
    get = async_method(user_get)
    list = async_list(user_list)
    update = async_method(user_update)
    delete = async_method(user_delete)
