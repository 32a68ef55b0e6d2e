"""Types shared by the search backends (in-memory on SQLite, pgvector/tsvector on PostgreSQL)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

Owner = tuple[str, UUID]  # ("agent" | "user" | "session", owner id)
Hit = tuple[int, UUID, float]  # chunk id, doc id, relevance (higher is better)


@dataclass(frozen=True)
class Scope:
    """What a search may return: chunks of the tenant's docs owned by one of ``owners``
    whose metadata contains ``metadata_filter`` (JSON containment)."""

    developer_id: UUID
    owners: tuple[Owner, ...]
    metadata_filter: dict[str, Any] = field(default_factory=dict)

    @property
    def filter_key(self) -> str:
        return json.dumps(self.metadata_filter, sort_keys=True)
