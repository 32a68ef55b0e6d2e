"""What schema comparisons (autogenerate, the migration test) leave out."""

from __future__ import annotations


def include_object(
    obj: object, name: str | None, kind: str, reflected: bool, other: object
) -> bool:
    """Leave SQLite's FTS5 virtual tables (and their shadow tables) out of comparisons."""
    return not (kind == "table" and name is not None and name.startswith("doc_chunks_fts"))
