"""One metadata-filter semantics everywhere: JSON containment (``metadata @> filter``).

PostgreSQL has the operator; on SQLite the filter is compiled into ``json_extract`` /
``json_type`` checks per path, with lists matched element by element.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import ColumnElement


def metadata_contains(
    column: sa.ColumnElement[Any], wanted: dict[str, Any], dialect: str
) -> ColumnElement[bool]:
    if not wanted:
        return sa.true()
    if dialect == "postgresql":
        return column.op("@>")(sa.bindparam(None, wanted, type_=postgresql.JSONB))
    return sa.and_(*_sqlite_conditions(column, "$", wanted))


def _path(base: str, key: str) -> str:
    return f'{base}."{key.replace(chr(34), "")}"'


def _sqlite_conditions(
    column: sa.ColumnElement[Any], base: str, wanted: dict[str, Any]
) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    for key, value in wanted.items():
        conds.extend(_sqlite_value(column, _path(base, str(key)), value))
    return conds


def _sqlite_value(
    column: sa.ColumnElement[Any], path: str, value: Any
) -> list[ColumnElement[bool]]:
    jtype = sa.func.json_type(column, path)
    if isinstance(value, dict):
        return [jtype == "object", *_sqlite_conditions(column, path, value)]
    if isinstance(value, list):
        return [jtype == "array", *(_sqlite_array_has(column, path, v) for v in value)]
    return [_sqlite_scalar(column, path, value)]


def _sqlite_scalar(column: sa.ColumnElement[Any], path: str, value: Any) -> ColumnElement[bool]:
    jtype = sa.func.json_type(column, path)
    extracted = sa.func.json_extract(column, path)
    if value is None:
        return jtype == "null"
    if isinstance(value, bool):
        return jtype == ("true" if value else "false")
    if isinstance(value, int | float):
        return sa.and_(jtype.in_(["integer", "real"]), extracted == value)
    return sa.and_(jtype == "text", extracted == str(value))


def _sqlite_array_has(column: sa.ColumnElement[Any], path: str, value: Any) -> ColumnElement[bool]:
    """An element of the array at ``path`` equals (scalars) or contains (objects) ``value``."""
    each = sa.func.json_each(column, path).table_valued("value", "type").alias("je")
    if isinstance(value, dict | list):
        cond: ColumnElement[bool] = sa.func.json(each.c.value) == sa.func.json(json.dumps(value))
    elif isinstance(value, bool):
        cond = each.c.type == ("true" if value else "false")
    elif value is None:
        cond = each.c.type == "null"
    elif isinstance(value, int | float):
        cond = sa.and_(each.c.type.in_(["integer", "real"]), each.c.value == value)
    else:
        cond = sa.and_(each.c.type == "text", each.c.value == str(value))
    return sa.exists(sa.select(sa.literal(1)).select_from(each).where(cond))
