"""Secret fields of stored tools: found, sealed, redacted, kept on a redacted update, opened."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from sprig.server.auth.secret import SecretDecryptError, ServerSecret
from sprig.server.tools import sealing

TENANT = uuid.uuid4()
CIPHER = ServerSecret.of("s" * 40, "test").cipher()
API: dict[str, Any] = {
    "method": "POST",
    "url": "https://user:pa55word@api.example.com/v1/{city}?q=1&appid=APPID-123",
    "headers": {
        "Authorization": "Bearer tok-abcdef",
        "X-Api-Key": "xkey-123456",
        "Accept": "application/json",
    },
    "cookies": {"sid": "cookie-value-1"},
    "secrets": {"OPENAI": {"name": "openai"}},
    "params": {"api_key": ["k-one", "k-two"], "page": "1"},
    "json": {"max_tokens": 100, "nested": {"client_secret": "cs-999"}, "model": "m"},
    "params_schema": {"type": "object", "properties": {"token": {"type": "string"}}},
}
CLEAR = ["pa55word", "APPID-123", "tok-abcdef", "xkey-123456", "cookie-value-1", "openai"]
CLEAR += ["k-one", "k-two", "cs-999"]


def test_secret_paths_of_an_api_call() -> None:
    paths = set(sealing.secret_paths("api_call", API))
    assert paths == {
        ("url",),
        ("headers", "Authorization"),
        ("headers", "X-Api-Key"),
        ("cookies", "sid"),
        ("secrets", "OPENAI"),
        ("params", "api_key"),
        ("json", "nested", "client_secret"),
    }  # not Accept, not max_tokens (a number), not the schema


def test_integration_setup_and_query_string_params() -> None:
    setup = {"api_key": "brave-1", "region": "eu", "env": {"GITHUB_TOKEN": "gh-1"}}
    body = {"provider": "brave", "setup": setup, "arguments": {"q": "x"}}
    assert set(sealing.secret_paths("integration", body)) == {
        ("setup", "api_key"),
        ("setup", "env", "GITHUB_TOKEN"),
    }
    assert sealing.secret_paths("api_call", {"params": "a=1&token=t"}) == [("params",)]
    assert sealing.secret_paths("api_call", {"params": "a=1"}) == []
    assert sealing.secret_paths("function", {"parameters": {"api_key": "x"}}) == []


def test_sealed_body_holds_no_secret_and_reveals_the_original() -> None:
    sealed = sealing.seal("api_call", API, CIPHER, TENANT)
    text = json.dumps(sealed)
    assert not [s for s in CLEAR if s in text]
    assert sealed["headers"]["Accept"] == "application/json"
    assert sealed["json"]["max_tokens"] == 100
    assert sealed["params_schema"] == API["params_schema"]
    assert sealing.reveal("api_call", sealed, CIPHER, TENANT) == API
    assert sealing.seal("api_call", sealed, CIPHER, TENANT) == sealed  # sealing twice: no-op


def test_redaction_of_clear_and_sealed_bodies_is_the_same() -> None:
    sealed = sealing.seal("api_call", API, CIPHER, TENANT)
    shown = sealing.redact("api_call", sealed)
    assert shown == sealing.redact("api_call", API)
    assert shown["headers"] == {
        "Authorization": "Bearer ***",
        "X-Api-Key": "***",
        "Accept": "application/json",
    }
    assert shown["url"] == "https://user:***@api.example.com/v1/{city}?q=1&appid=***"
    assert shown["cookies"] == {"sid": "***"} and shown["secrets"] == {"OPENAI": "***"}
    assert shown["params"] == {"api_key": "***", "page": "1"}
    assert not [s for s in CLEAR if s in json.dumps(shown)]


def test_a_redacted_update_keeps_the_stored_secrets_and_a_new_value_replaces() -> None:
    stored = sealing.seal("api_call", API, CIPHER, TENANT)
    edited = sealing.redact("api_call", stored)
    edited["headers"]["X-Api-Key"] = "new-key-777"
    kept = sealing.keep_unchanged("api_call", edited, stored)
    opened = sealing.reveal(
        "api_call", sealing.seal("api_call", kept, CIPHER, TENANT), CIPHER, TENANT
    )
    assert opened == {**API, "headers": {**API["headers"], "X-Api-Key": "new-key-777"}}


def test_sealed_values_open_only_for_their_tenant_and_secret() -> None:
    sealed = sealing.seal("api_call", API, CIPHER, TENANT)
    with pytest.raises(SecretDecryptError, match="another tenant"):
        sealing.reveal("api_call", sealed, CIPHER, uuid.uuid4())
    other = ServerSecret.of("o" * 40, "other").cipher()
    with pytest.raises(SecretDecryptError, match="cannot be decrypted"):
        sealing.reveal("api_call", sealed, other, TENANT)
