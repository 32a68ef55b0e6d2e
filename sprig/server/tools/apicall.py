"""``api_call`` tools: an HTTP request built from a stored template plus the model's arguments.

The template fixes ``method``, ``url``, ``headers``, ``cookies`` and any ``params`` / ``json`` /
``data`` / ``content`` values. The model sees only the declared parameters schema
(``params_schema``, else ``schema``) and may fill only those properties. Each argument goes:

- into the URL, when the URL template names it as ``{name}`` (URL-encoded, ``/`` included;
  placeholders are allowed in the path and query only, never in the scheme or host);
- else where its property's ``x-in`` says (``query``, ``json`` or ``data``);
- else into the query string for GET/HEAD/DELETE/OPTIONS, or the body for POST/PUT/PATCH
  (form fields when the template has ``data``, JSON otherwise).

The result holds the status, content type and body text (capped; parsed JSON when it is
JSON), never headers or cookies; secret-looking values sent by the tool are redacted from it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from sprig.server.errors import BadRequestError
from sprig.server.tools.http import HttpRequest, HttpResponse, SafeHttpClient
from sprig.server.tools.schema import Schema, check_arguments, closed, object_schema

METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
SECRET_NAME = re.compile(
    r"auth|token|key|secret|passw|pwd|session|cookie|sig|credential|appid|app_id", re.I
)
LOCATIONS = frozenset({"query", "json", "data"})
REDACTED = "[redacted]"


def declared_schema(api: Mapping[str, Any]) -> Schema:
    """The parameters schema the tool declares, with Sprig's ``x-in`` hints."""
    declared = api.get("params_schema") or api.get("schema")
    return object_schema(declared if isinstance(declared, Mapping) else None)


def parameters_schema(api: Mapping[str, Any]) -> Schema:
    """What the model sees: the declared properties, closed, hints stripped."""
    schema = closed(declared_schema(api))
    schema["properties"] = {
        name: {k: v for k, v in prop.items() if k != "x-in"} if isinstance(prop, Mapping) else prop
        for name, prop in schema["properties"].items()
    }
    return schema


def build_request(api: Mapping[str, Any], arguments: Mapping[str, Any]) -> HttpRequest:
    method = str(api.get("method") or "GET").upper()
    if method not in METHODS:
        raise BadRequestError(f"HTTP method {method!r} is not allowed for api_call tools")
    schema = declared_schema(api)
    check_arguments(arguments, schema)
    url, used = fill_url(str(api.get("url") or ""), arguments)
    request = HttpRequest(
        method=method,
        url=url,
        headers={str(k): str(v) for k, v in (api.get("headers") or {}).items()},
        params=_template_params(api.get("params")),
        cookies={str(k): str(v) for k, v in (api.get("cookies") or {}).items()},
        follow_redirects=bool(api.get("follow_redirects", False)),
        timeout=float(api["timeout"]) if api.get("timeout") else None,
    )
    _fixed_body(request, api)
    free = {k: v for k, v in arguments.items() if k not in used}
    _place_arguments(request, api, schema["properties"], free)
    return request


def fill_url(template: str, arguments: Mapping[str, Any]) -> tuple[str, set[str]]:
    """The URL with ``{name}`` placeholders filled from the (declared, checked) arguments."""
    parts = urlsplit(template)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadRequestError("An api_call URL must be an absolute http or https URL")
    if "{" in parts.scheme + parts.netloc:
        raise BadRequestError("URL placeholders may appear in the path and query only")
    used: set[str] = set()

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in arguments:
            raise BadRequestError(f"Missing value for the URL parameter {name!r}")
        used.add(name)
        return _path_value(name, arguments[name])

    return PLACEHOLDER.sub(fill, template), used


def _path_value(name: str, value: Any) -> str:
    if isinstance(value, dict | list) or value is None:
        raise BadRequestError(f"The URL parameter {name!r} must be a string or a number")
    text = _scalar(value)
    if text in ("", ".", ".."):
        raise BadRequestError(f"The URL parameter {name!r} may not be {text!r}")
    return quote(text, safe="")


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _template_params(params: Any) -> list[tuple[str, str]]:
    if isinstance(params, str):
        return parse_qsl(params.lstrip("?"), keep_blank_values=True)
    if isinstance(params, Mapping):
        return _query_pairs(params)
    return []


def _query_pairs(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for key, value in values.items():
        items = value if isinstance(value, list) else [value]
        pairs.extend((str(key), _scalar(v)) for v in items if v is not None)
    return pairs


def _fixed_body(request: HttpRequest, api: Mapping[str, Any]) -> None:
    if api.get("files"):
        raise BadRequestError("api_call 'files' uploads are not supported")
    if isinstance(api.get("json"), Mapping):
        request.json = dict(api["json"])
    if isinstance(api.get("data"), Mapping):
        request.data = dict(api["data"])
    if api.get("content") and request.json is None and request.data is None:
        try:
            request.content = base64.b64decode(str(api["content"]), validate=True)
        except (binascii.Error, ValueError):
            raise BadRequestError("api_call 'content' must be base64") from None


def _place_arguments(
    request: HttpRequest, api: Mapping[str, Any], props: Mapping[str, Any], free: dict[str, Any]
) -> None:
    query: dict[str, Any] = {}
    for name, value in free.items():
        where = _location(request.method, api, props.get(name))
        if where == "query":
            query[name] = value
        elif where == "data":
            request.data = {**(request.data or {}), name: value}
        else:
            request.json = {**(request.json or {}), name: value}
    fixed = [(k, v) for k, v in request.params if k not in query]
    request.params = fixed + _query_pairs(query)
    if request.json is not None or request.data is not None:
        request.content = None


def _location(method: str, api: Mapping[str, Any], prop: Any) -> str:
    hint = prop.get("x-in") if isinstance(prop, Mapping) else None
    if hint is not None:
        if hint not in LOCATIONS:
            raise BadRequestError(f"x-in must be one of {sorted(LOCATIONS)}, not {hint!r}")
        return str(hint)
    if method not in BODY_METHODS:
        return "query"
    has_form = isinstance(api.get("data"), Mapping) and not isinstance(api.get("json"), Mapping)
    return "data" if has_form else "json"


def secret_values(api: Mapping[str, Any]) -> list[str]:
    """Values the tool sends that must not appear in a result: auth headers, cookies, keys."""
    found: list[str] = []
    for name, value in (api.get("headers") or {}).items():
        if SECRET_NAME.search(str(name)):
            found.append(str(value))
            found.extend(str(value).split()[1:])  # "Bearer <token>": the token alone too
    found.extend(str(v) for v in (api.get("cookies") or {}).values())
    found.extend(v for k, v in _template_params(api.get("params")) if SECRET_NAME.search(k))
    password = urlsplit(str(api.get("url") or "")).password
    if password:
        found.append(password)
    return sorted({v for v in found if len(v) >= 4}, key=len, reverse=True)


def redact(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


def response_result(
    response: HttpResponse, api: Mapping[str, Any], secrets: list[str]
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "status_code": response.status_code,
        "content_type": response.content_type,
    }
    if api.get("include_response_content", True) is False:
        return result
    text = redact(response.text(), secrets)
    result["text"] = text
    result["truncated"] = response.truncated
    if "json" in response.content_type.lower() and not response.truncated:
        with contextlib.suppress(ValueError, RecursionError):
            result["json"] = json.loads(text)
    return result


async def run_api_call(
    api: Mapping[str, Any], arguments: Mapping[str, Any], http: SafeHttpClient
) -> tuple[dict[str, Any], bool]:
    """Make the call; the result and whether it counts as an error (status >= 400)."""
    response = await http.send(build_request(api, arguments))
    result = response_result(response, api, secret_values(api))
    return result, response.status_code >= 400
