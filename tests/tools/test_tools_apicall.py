"""api_call templates: what the model may fill, where it goes, and what the result hides."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from sprig.server.errors import BadRequestError
from sprig.server.tools.apicall import build_request, redact, response_result, secret_values
from sprig.server.tools.http import HttpResponse

SCHEMA = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "days": {"type": "integer", "minimum": 1},
        "note": {"type": "string", "x-in": "query"},
    },
    "required": ["city"],
}


def api(**overrides: Any) -> dict[str, Any]:
    base = {
        "method": "GET",
        "url": "https://api.example.com/v1/weather/{city}?fixed=1",
        "headers": {"Authorization": "Bearer tok-123456", "Accept": "application/json"},
        "params": {"appid": "key-abcdef"},
        "params_schema": SCHEMA,
    }
    return {**base, **overrides}


def test_path_placeholder_is_encoded_and_the_rest_goes_to_the_query() -> None:
    request = build_request(api(), {"city": "São Paulo/../admin", "days": 3})
    assert request.url == "https://api.example.com/v1/weather/S%C3%A3o%20Paulo%2F..%2Fadmin?fixed=1"
    assert request.params == [("appid", "key-abcdef"), ("days", "3")]
    assert request.headers["Authorization"] == "Bearer tok-123456"
    assert request.json is None and request.method == "GET"


def test_post_puts_arguments_in_the_json_body_unless_hinted() -> None:
    template = api(method="post", url="https://api.example.com/v1/forecast", json={"v": 2})
    request = build_request(template, {"city": "Oslo", "note": "hi"})
    assert request.method == "POST"
    assert request.json == {"v": 2, "city": "Oslo"}
    assert ("note", "hi") in request.params


def test_form_template_takes_form_fields() -> None:
    template = api(method="POST", url="https://api.example.com/form", data={"a": "1"})
    request = build_request(template, {"city": "Rome"})
    assert request.data == {"a": "1", "city": "Rome"} and request.json is None


def test_fixed_base64_content() -> None:
    raw = base64.b64encode(b"<xml/>").decode()
    template = api(method="PUT", url="https://api.example.com/raw", content=raw, params_schema={})
    assert build_request(template, {}).content == b"<xml/>"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"city": "x", "url": "http://evil"}, "Additional properties"),
        ({"city": "x", "headers": {"Authorization": "mine"}}, "Additional properties"),
        ({"days": 2}, "'city' is a required property"),
        ({"city": "x", "days": 0}, "minimum"),
        ({"city": ".."}, "may not be"),
        ({"city": ["a"]}, "is not of type"),
    ],
)
def test_model_may_fill_only_declared_valid_parameters(
    arguments: dict[str, Any], message: str
) -> None:
    with pytest.raises(BadRequestError, match=message):
        build_request(api(), arguments)


def test_placeholders_never_in_the_host_and_must_be_declared() -> None:
    with pytest.raises(BadRequestError, match="path and query only"):
        build_request(api(url="https://{city}.example.com/"), {"city": "evil.com#"})
    with pytest.raises(BadRequestError, match="Missing value for the URL parameter 'zone'"):
        build_request(api(url="https://api.example.com/{zone}"), {"city": "x"})


def test_template_checks() -> None:
    with pytest.raises(BadRequestError, match="not allowed"):
        build_request(api(method="CONNECT"), {"city": "x"})
    with pytest.raises(BadRequestError, match="absolute http"):
        build_request(api(url="/relative/{city}"), {"city": "x"})
    with pytest.raises(BadRequestError, match="files"):
        build_request(api(files={"f": "x"}), {"city": "x"})


def test_result_redacts_secrets_and_never_carries_headers() -> None:
    template = api(cookies={"sid": "cookie-999999"})
    secrets = secret_values(template)
    assert {"Bearer tok-123456", "tok-123456", "key-abcdef", "cookie-999999"} <= set(secrets)
    body = b'{"echo": "Bearer tok-123456", "k": "key-abcdef", "c": "cookie-999999"}'
    response = HttpResponse(200, "application/json", body, truncated=False)
    result = response_result(response, template, secrets)
    text = repr(result)
    for secret in ("tok-123456", "key-abcdef", "cookie-999999"):
        assert secret not in text
    assert result["json"]["echo"] == "[redacted]"
    assert set(result) == {"status_code", "content_type", "text", "truncated", "json"}


def test_result_without_content_when_asked() -> None:
    response = HttpResponse(204, "text/plain", b"x", truncated=False)
    result = response_result(response, api(include_response_content=False), [])
    assert result == {"status_code": 204, "content_type": "text/plain"}


def test_redact_prefers_the_longest_secret() -> None:
    assert redact("Bearer abcd1234", ["Bearer abcd1234", "abcd1234"]) == "[redacted]"
