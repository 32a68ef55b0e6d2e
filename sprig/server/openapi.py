"""The OpenAPI document, true to what the server sends.

FastAPI documents a 422 of its own shape (``detail`` as a list) and nothing else that can go
wrong. Every error Sprig sends has one shape (`ErrorResponse`), so each operation here lists
the statuses it can really answer, each with that shape, plus ``default`` for the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

from sprig.server.openai.shapes import (
    ChatCompletionChunk,
    OpenAIErrorResponse,
    ResponseStreamEvent,
)

ERROR_REF = "#/components/schemas/ErrorResponse"
OPENAI_ERROR_REF = "#/components/schemas/OpenAIErrorResponse"
PUBLIC_PATHS = frozenset({"/healthz", "/openapi.json", "/docs", "/redoc"})
# Operations that call a model or an embedder (their provider may fail, rate-limit, hang).
UPSTREAM_SUFFIXES = (
    "/chat", "/search", "/memories", "/embed", "/render", "/completions", "/embeddings",
    "/responses",
)  # fmt: skip
# What each kind of failure means, in the descriptions of the document.
REASONS = {
    400: "The request is not valid here (a rule the schema cannot say)",
    401: "No API key was sent",
    403: "The API key is not valid or was revoked",
    404: "Not found (or held by another tenant)",
    409: "Conflicts with an existing resource",
    413: "The request body is larger than the server accepts",
    422: "The request does not match the schema (`error.details` names each field)",
    429: "A limit of the tenant was reached (requests or tokens per minute, tokens per day, "
    "cost per month, concurrent streams: `retry-after` says when to try again), or the model "
    "provider is rate limiting",
    502: "The model provider or another upstream service failed",
    503: "Not available right now",
    504: "The model provider did not answer in time",
}


class ErrorDetail(BaseModel):
    loc: list[str]
    msg: str
    type: str


class ErrorInfo(BaseModel):
    message: str = Field(description="What went wrong, in words meant for a person")
    code: str = Field(description="A stable machine-readable code, e.g. `not_found`")
    type: str = Field(description="The error's family, e.g. `invalid_request_error`")
    details: list[ErrorDetail] | None = Field(
        default=None, description="422 only: each offending field"
    )


class ErrorResponse(BaseModel):
    """Every error: 4xx but 408 and 429 are never worth retrying (``x-should-retry: false``)."""

    error: ErrorInfo
    detail: str = Field(description="The same message (the Julep SDKs read `detail`)")


def error_statuses(path: str, method: str, operation: dict[str, Any]) -> list[int]:
    """The error statuses an operation can answer."""
    codes: set[int] = set()
    if path not in PUBLIC_PATHS:
        codes |= {401, 403, 429}  # 429: the tenant's requests per minute
    if "{" in path or method != "get":
        codes.add(404)  # a path id, or a body naming one
    if operation.get("parameters") or "requestBody" in operation:
        codes |= {400, 422}
    if "requestBody" in operation:
        codes |= {409, 413} if method in ("post", "put", "patch") else {413}
    if method != "get" and path.endswith(UPSTREAM_SUFFIXES):
        codes |= {429, 502, 503, 504}
    return sorted(codes)


def _header(description: str, kind: str = "integer") -> dict[str, Any]:
    return {"description": description, "schema": {"type": kind}}


# A 429 of the tenant's limits says when to retry, as OpenAI does (the SDKs read these).
RATE_LIMIT_HEADERS = {
    "retry-after": _header("Seconds to wait before retrying"),
    "retry-after-ms": _header("Milliseconds to wait before retrying"),
    **{
        f"x-ratelimit-{what}-{kind}": _header(meaning, "string")
        for kind in ("requests", "tokens")
        for what, meaning in (
            ("limit", f"The tenant's limit of {kind} (per minute; tokens: or per day)"),
            ("remaining", f"The {kind} left now"),
            ("reset", "When the limit is whole again (e.g. `1s`, `6m0s`)"),
        )
    },
}


def _error_response(status: int, ref: str) -> dict[str, Any]:
    description = REASONS.get(status) or HTTPStatus(status).phrase
    response = {"description": description, "content": {"application/json": {"schema": ref}}}
    if status == 429:
        response["headers"] = RATE_LIMIT_HEADERS
    return response


def _document_errors(path: str, method: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    responses.pop("422", None)  # FastAPI's own shape, never sent
    openai = path == "/v1" or path.startswith("/v1/")
    ref = OPENAI_ERROR_REF if openai else ERROR_REF
    for status in error_statuses(path, method, operation):
        if not (openai and status in (403, 422)):  # OpenAI's: 401 for a bad key, 400 for a bad body
            responses[str(status)] = _error_response(status, ref)
    responses["default"] = {
        "description": "Any other error (5xx: a server fault), in the same shape",
        "content": {"application/json": {"schema": ref}},
    }


FILTER_REF = "#/components/schemas/MetadataFilter"
# Values a metadata filter can compare: integers within 64 bits, at any depth.
FILTER_SCHEMAS: dict[str, Any] = {
    "MetadataFilter": {
        "type": "object",
        "additionalProperties": {"$ref": "#/components/schemas/MetadataFilterValue"},
        "description": "Matches metadata that contains this (JSON containment)",
    },
    "MetadataFilterValue": {
        "anyOf": [
            {"type": ["string", "boolean", "null"]},
            {"type": "number", "minimum": -(2**63), "maximum": 2**63 - 1},
            {"type": "array", "items": {"$ref": "#/components/schemas/MetadataFilterValue"}},
            {"$ref": FILTER_REF},
        ]
    },
}


def _json_parameters(operation: dict[str, Any]) -> None:
    """``metadata_filter`` in a query is the JSON of an object (or dotted keys)."""
    for parameter in operation.get("parameters", []):
        if parameter.get("name") == "metadata_filter" and parameter.get("in") == "query":
            parameter.pop("schema", None)
            parameter["content"] = {"application/json": {"schema": {"$ref": FILTER_REF}}}


def _filter_fields(components: dict[str, Any]) -> None:
    """Every body's ``metadata_filter`` refers to the one filter schema."""
    for schema in list(components.values()):
        properties = schema.get("properties", {})
        if "metadata_filter" in properties:
            described = properties["metadata_filter"].get("description")
            properties["metadata_filter"] = {"$ref": FILTER_REF}
            if described:
                properties["metadata_filter"]["description"] = described
    components.update(FILTER_SCHEMAS)


def _refs(schema: dict[str, Any]) -> None:
    """Point every error response at the one schema (``$ref``, not a copy)."""
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            for response in operation.get("responses", {}).values():
                media = response.get("content", {}).get("application/json", {})
                if media.get("schema") in (ERROR_REF, OPENAI_ERROR_REF):
                    media["schema"] = {"$ref": media["schema"]}


def _add_models(components: dict[str, Any], models: Iterable[type[BaseModel]]) -> None:
    for model in models:
        schema = model.model_json_schema(
            ref_template="#/components/schemas/{model}", mode="serialization"
        )
        components.update(schema.pop("$defs", {}))
        components[model.__name__] = schema


def build_openapi(app: FastAPI, models: Iterable[type[BaseModel]] = ()) -> dict[str, Any]:
    """``app.openapi``: FastAPI's document with the real errors, built once; `models` are
    the schemas it names that no route's JSON body does (a stream's events)."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, routes=app.routes, description=app.description
    )
    for path, path_item in schema.get("paths", {}).items():
        for method, operation in path_item.items():
            _document_errors(path, method, operation)
            _json_parameters(operation)
    _refs(schema)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    _add_models(
        components,
        [ErrorResponse, OpenAIErrorResponse, ChatCompletionChunk, ResponseStreamEvent, *models],
    )
    _filter_fields(components)
    app.openapi_schema = schema
    return schema
