"""Secret fields of stored tools: which they are, encrypted at rest, redacted in every view.

Secret fields, by tool type:

- ``api_call``: ``headers``, ``params`` and ``json``/``data`` fields (at any depth) whose
  names look like credentials (Authorization, X-Api-Key, Cookie, anything with key, token,
  secret, auth, password, signature…) and hold a string; every ``cookies`` and ``secrets``
  entry; ``params`` given as a query string, and the ``url``, when they carry such a field
  (or, for the URL, a password).
- ``integration``: ``setup`` and ``arguments`` fields (at any depth) whose names look like
  credentials and hold a string.
- ``mcp``: every ``headers`` and ``env`` value that is a string (a ``{"env": NAME}``
  reference to the server's environment stays as it is: it holds no secret), and the ``url``
  when it carries a credential.

Stored, each secret value becomes ``{"$sealed": <token>, "shown": <redacted>}`` (the token
from `Cipher.seal`, bound to the tenant). Views show ``shown``: ``***``, ``Bearer ***``, or a
URL/query string with its credential values as ``***``. An update that sends back a value
equal to what the view showed keeps the stored secret (a client may GET, edit, PUT).
The server opens the sealed values only to run the tool (`reveal`).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit
from uuid import UUID

SEALED = "$sealed"
SHOWN = "shown"
MASK = "***"
CREDENTIAL_NAME = re.compile(
    r"auth|token|key|secret|passw|pwd|cookie|credential|signature|private|session|appid|app_id"
    r"|service_account|(^|[-_])sig($|[-_])",
    re.IGNORECASE,
)
AUTH_SCHEMES = frozenset({"bearer", "basic", "token", "bot", "digest", "apikey", "key"})
_NAMED_FIELDS = {
    "api_call": ("headers", "params", "json", "data"),
    "integration": ("setup", "arguments"),
}
_ALL_SECRET = {"api_call": ("cookies", "secrets")}
_ALL_TEXT = {"mcp": ("headers", "env")}
_URL_TYPES = frozenset({"api_call", "mcp"})

Path = tuple[str, ...]


class Cipher(Protocol):
    def seal(self, value: Any, tenant: UUID) -> str: ...

    def open(self, token: str, tenant: UUID) -> Any: ...


def is_sealed(value: Any) -> bool:
    return isinstance(value, Mapping) and isinstance(value.get(SEALED), str)


def secret_paths(kind: str, body: Mapping[str, Any]) -> list[Path]:
    """Where the secret values of a tool's type object are."""
    paths: list[Path] = []
    for name in _NAMED_FIELDS.get(kind, ()):
        value = body.get(name)
        if name == "params" and isinstance(value, str):  # a query string: sealed whole
            paths.extend([(name,)] if _query_has_credential(value) else [])
        else:
            paths.extend(_named(value, (name,)))
    for name in _ALL_SECRET.get(kind, ()):
        if isinstance(body.get(name), Mapping):
            paths.extend((name, str(k)) for k in body[name])
    for name in _ALL_TEXT.get(kind, ()):
        if isinstance(body.get(name), Mapping):
            texts = [k for k, v in body[name].items() if _is_text(v) or is_sealed(v)]
            paths.extend((name, str(k)) for k in texts)
    url = body.get("url") if kind in _URL_TYPES else None
    if is_sealed(url) or (isinstance(url, str) and _url_has_credential(url)):
        paths.append(("url",))
    return paths


def _named(node: Any, path: Path) -> Iterator[Path]:
    if is_sealed(node):
        yield path
    elif isinstance(node, Mapping):
        for key, value in node.items():
            here = (*path, str(key))
            if _is_text(value) and CREDENTIAL_NAME.search(str(key)):
                yield here
            else:
                yield from _named(value, here)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _named(value, (*path, str(index)))


def _is_text(value: Any) -> bool:
    """A string, or a list of strings (a repeated query parameter)."""
    if isinstance(value, list):
        return bool(value) and all(isinstance(v, str) for v in value)
    return isinstance(value, str)


def redacted(value: Any, path: Path) -> Any:
    """What a view shows of one secret value (clear or sealed)."""
    if is_sealed(value):
        return value.get(SHOWN, MASK)
    if path == ("url",) and isinstance(value, str):
        return _redact_url(value)
    if path == ("params",) and isinstance(value, str):
        return _redact_query(value)
    if isinstance(value, str):
        scheme, _, rest = value.partition(" ")
        if rest.strip() and scheme.lower() in AUTH_SCHEMES:
            return f"{scheme} {MASK}"
    return MASK


def redact(kind: str, body: Any) -> Any:
    """The type object as every API response shows it: secret values redacted."""
    if not isinstance(body, Mapping):
        return body
    return _map(body, secret_paths(kind, body), redacted)


def seal(kind: str, body: Mapping[str, Any], cipher: Cipher, tenant: UUID) -> dict[str, Any]:
    """The type object as stored: every clear secret value sealed (sealed ones kept)."""

    def one(value: Any, path: Path) -> Any:
        if is_sealed(value):
            return value
        return {SEALED: cipher.seal(value, tenant), SHOWN: redacted(value, path)}

    return _map(body, secret_paths(kind, body), one)


def keep_unchanged(
    kind: str, incoming: Mapping[str, Any], stored: Mapping[str, Any]
) -> dict[str, Any]:
    """An update's type object, where a secret sent back as the view showed it (``***``)
    takes the stored value again."""

    def one(value: Any, path: Path) -> Any:
        current = _get(stored, path)
        if current is not None and value == redacted(current, path):
            return current
        return value

    return _map(incoming, secret_paths(kind, incoming), one)


def reveal(kind: str, body: Mapping[str, Any], cipher: Cipher, tenant: UUID) -> dict[str, Any]:
    """The type object with its sealed values opened, to run the tool."""
    paths = [p for p in secret_paths(kind, body) if is_sealed(_get(body, p))]
    return _map(body, paths, lambda value, _: cipher.open(value[SEALED], tenant))


def _map(
    body: Mapping[str, Any], paths: list[Path], change: Callable[[Any, Path], Any]
) -> dict[str, Any]:
    result: dict[str, Any] = copy.deepcopy(dict(body))
    for path in paths:
        parent = _get(result, path[:-1])
        key: Any = int(path[-1]) if isinstance(parent, list) else path[-1]
        parent[key] = change(parent[key], path)
    return result


def _get(node: Any, path: Path) -> Any:
    for part in path:
        if isinstance(node, Mapping):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _query_has_credential(query: str) -> bool:
    return any(CREDENTIAL_NAME.search(k) for k, _ in parse_qsl(query.lstrip("?"), True))


def _url_has_credential(url: str) -> bool:
    parts = urlsplit(url)
    return bool(parts.password) or _query_has_credential(parts.query)


def _redact_query(query: str) -> str:
    pairs = parse_qsl(query.lstrip("?"), keep_blank_values=True)
    shown = [(k, MASK if CREDENTIAL_NAME.search(k) else v) for k, v in pairs]
    return ("?" if query.startswith("?") else "") + urlencode(shown, safe="*{}", quote_via=quote)


def _redact_url(url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password:
        netloc = f"{parts.username or ''}:{MASK}@{netloc.rpartition('@')[2]}"
    query = _redact_query(parts.query) if _query_has_credential(parts.query) else parts.query
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
