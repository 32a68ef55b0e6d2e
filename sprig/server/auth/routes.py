"""``GET /me``: whose key this is (the console shows the tenant it signed in to)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from sprig.server.api.deps import Developer, RuntimeDep
from sprig.server.api.responses import documented
from sprig.server.auth.keys import tenant
from sprig.server.ids import rfc3339

router = APIRouter(tags=["auth"])


class Me(BaseModel):
    tenant_id: str
    tenant: str
    created_at: str | None


@router.get("/me", response_model=documented(Me))
async def me(runtime: RuntimeDep, dev: Developer) -> dict[str, Any]:
    """The tenant the API key belongs to."""
    row = await tenant(runtime.db, dev)
    created = rfc3339(row["created_at"])
    return {"tenant_id": str(row["id"]), "tenant": row["name"], "created_at": created}
