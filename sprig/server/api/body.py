"""The base of every request body (unknown keys ignored, ``null`` is absent, no NUL
characters) and the metadata filter type; ``api.schemas`` has the bodies themselves.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, model_validator

Metadata = dict[str, Any]
INT64 = 2**63 - 1


def comparable(value: Any, depth: int = 0) -> Any:
    """A metadata filter's values must be comparable in the database: integers within 64
    bits, finite numbers (a larger one cannot match anything stored)."""
    if isinstance(value, bool) or depth > 64:
        return value
    if isinstance(value, int) and not -INT64 - 1 <= value <= INT64:
        raise ValueError("metadata filter integers must fit in 64 bits")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("metadata filter numbers must be finite")
    if isinstance(value, dict):
        for item in value.values():
            comparable(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            comparable(item, depth + 1)
    return value


MetadataFilter = Annotated[Metadata, AfterValidator(comparable)]


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _null_is_absent(cls, data: Any) -> Any:
        """The 0.x SDKs send every key, ``null`` when unset: treat those as not sent."""
        if isinstance(data, dict):
            _refuse_nul(data)
            return {k: v for k, v in data.items() if v is not None}
        return data

    def values(
        self, *, exclude: set[str] | None = None, include: set[str] | None = None
    ) -> dict[str, Any]:
        return self.model_dump(exclude_none=True, exclude=exclude or set(), include=include)


def _refuse_nul(value: Any, depth: int = 0) -> None:
    """NUL characters cannot be stored (PostgreSQL text and JSON refuse them): a 422."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("text must not contain NUL (\\u0000) characters")
    elif isinstance(value, dict) and depth < 64:
        for key, item in value.items():
            _refuse_nul(key, depth + 1)
            _refuse_nul(item, depth + 1)
    elif isinstance(value, list) and depth < 64:
        for item in value:
            if not isinstance(item, float | int):  # a vector's 384 numbers cost no call each
                _refuse_nul(item, depth + 1)
