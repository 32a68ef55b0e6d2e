"""Generic create/read/update/delete for tenant-owned resources, with per-kind hooks.

Each operation is one transaction: a failure anywhere (a hook, a constraint) rolls back
everything it wrote.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from sprig.server.errors import ConflictError, NotFoundError
from sprig.server.ids import new_id, utcnow
from sprig.server.store import crud
from sprig.server.store.crud import ListQuery, Row, Rows
from sprig.server.store.db import Database


class ResourceService:
    """CRUD over one table. Subclasses set ``table``/``label`` and override the hooks."""

    table: sa.Table
    label: str = "Resource"

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- hooks ---------------------------------------------------------------------------
    def defaults(self) -> Row:
        """Values of every optional column when a create or replace leaves it out."""
        return {}

    async def prepare(self, conn: AsyncConnection, developer_id: UUID, values: Row) -> Row:
        """Validate references and normalise values before a write; may raise."""
        return values

    async def after_write(
        self, conn: AsyncConnection, developer_id: UUID, row: Row, extra: Row, created: bool
    ) -> None:
        """Write related rows (inline tools, docs, participants) in the same transaction."""

    async def before_delete(self, conn: AsyncConnection, developer_id: UUID, id_: UUID) -> None:
        """Delete dependent rows in the same transaction."""

    async def expand(self, conn: AsyncConnection, rows: Rows) -> Rows:
        """Attach related data needed by the views (e.g. session participants)."""
        return rows

    # -- reads ---------------------------------------------------------------------------
    async def get(self, developer_id: UUID, id_: UUID) -> Row:
        async with self.db.read() as conn:
            return await self.get_in(conn, developer_id, id_)

    async def get_in(self, conn: AsyncConnection, developer_id: UUID, id_: UUID) -> Row:
        row = await crud.get(conn, self.table, developer_id, id_)
        if row is None:
            raise NotFoundError(f"{self.label} {id_} not found")
        return (await self.expand(conn, [row]))[0]

    async def list(
        self,
        developer_id: UUID,
        query: ListQuery,
        where: Sequence[sa.ColumnElement[bool]] = (),
    ) -> Rows:
        async with self.db.read() as conn:
            rows = await crud.list_rows(conn, self.table, developer_id, query, where)
            return await self.expand(conn, rows)

    # -- writes --------------------------------------------------------------------------
    async def create(
        self, developer_id: UUID, values: Row, extra: Row | None = None, id_: UUID | None = None
    ) -> Row:
        async with self._writing() as conn:
            return await self._insert(conn, developer_id, values, extra or {}, id_ or new_id())

    async def create_or_update(
        self, developer_id: UUID, id_: UUID, values: Row, extra: Row | None = None
    ) -> tuple[Row, bool]:
        async with self._writing() as conn:
            if await crud.get(conn, self.table, developer_id, id_) is not None:
                row = await self._write(conn, developer_id, id_, values, extra or {}, replace=True)
                return row, False
            if await crud.exists_elsewhere(conn, self.table, id_):
                raise ConflictError(f"{self.label} id {id_} is already in use")
            return await self._insert(conn, developer_id, values, extra or {}, id_), True

    async def replace(
        self, developer_id: UUID, id_: UUID, values: Row, extra: Row | None = None
    ) -> Row:
        async with self._writing() as conn:
            return await self._write(conn, developer_id, id_, values, extra or {}, replace=True)

    async def patch(
        self, developer_id: UUID, id_: UUID, values: Row, extra: Row | None = None
    ) -> Row:
        async with self._writing() as conn:
            return await self._write(conn, developer_id, id_, values, extra or {}, replace=False)

    async def delete(self, developer_id: UUID, id_: UUID) -> Row:
        async with self._writing() as conn:
            await self.get_in(conn, developer_id, id_)
            await self.before_delete(conn, developer_id, id_)
            await crud.delete(conn, self.table, developer_id, id_)
        return {"id": id_, "deleted_at": utcnow()}

    # -- internals -----------------------------------------------------------------------
    def _writing(self) -> _Writing:
        return _Writing(self.db, self.label)

    async def _insert(
        self, conn: AsyncConnection, developer_id: UUID, values: Row, extra: Row, id_: UUID
    ) -> Row:
        now = utcnow()
        row = {**self.defaults(), **values}
        row = await self.prepare(conn, developer_id, row)
        row.update(id=id_, developer_id=developer_id, created_at=now, updated_at=now)
        await crud.insert(conn, self.table, row)
        await self.after_write(conn, developer_id, row, extra, True)
        return await self.get_in(conn, developer_id, id_)

    async def _write(
        self,
        conn: AsyncConnection,
        developer_id: UUID,
        id_: UUID,
        values: Row,
        extra: Row,
        *,
        replace: bool,
    ) -> Row:
        current = await self.get_in(conn, developer_id, id_)
        if replace:
            row = {**self.defaults(), **values}
        else:
            row = {**values}
            if "metadata" in values and isinstance(current.get("metadata"), dict):
                row["metadata"] = {**current["metadata"], **values["metadata"]}
        row = await self.prepare(conn, developer_id, row)
        row["updated_at"] = utcnow()
        await crud.update(conn, self.table, developer_id, id_, row)
        await self.after_write(conn, developer_id, {**current, **row}, extra, False)
        return await self.get_in(conn, developer_id, id_)


class _Writing:
    """``db.write()`` that turns constraint violations into a 409 instead of a 500."""

    def __init__(self, db: Database, label: str) -> None:
        self._cm = db.write()
        self._label = label

    async def __aenter__(self) -> AsyncConnection:
        return await self._cm.__aenter__()

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        try:
            await self._cm.__aexit__(exc_type, exc, tb)
        except IntegrityError as err:
            raise ConflictError(f"{self._label} conflicts with an existing one") from err
        if isinstance(exc, IntegrityError):
            raise ConflictError(f"{self._label} conflicts with an existing one") from exc


def writing(db: Database, label: str) -> _Writing:
    return _Writing(db, label)
