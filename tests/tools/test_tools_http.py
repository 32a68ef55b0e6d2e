"""Safe HTTP against a real server on 127.0.0.1: the block, the allow-list, redirects, caps."""

from __future__ import annotations

import json
import logging
from urllib.parse import quote

import pytest

from sprig.server.errors import BadRequestError, UpstreamError, UpstreamTimeoutError
from sprig.server.tools import netguard
from sprig.server.tools.http import HttpPolicy, HttpRequest, SafeHttpClient
from sprig.server.tools.netguard import BlockedAddressError

LOCAL = ("127.0.0.1",)
LOCAL_LIST = ["127.0.0.1"]


def client(*allow: str, **limits: float) -> SafeHttpClient:
    return SafeHttpClient(HttpPolicy(allow=allow, **limits))  # type: ignore[arg-type]


def fake_dns(table: dict[str, list[str]]) -> netguard.Resolver:
    async def resolve(host: str, port: int) -> list[str]:
        return table[host]

    return resolve


async def test_loopback_refused_without_allow_list(base_url: str) -> None:
    with pytest.raises(BlockedAddressError, match="loopback"):
        await client().send(HttpRequest("GET", f"{base_url}/json"))


async def test_allowed_with_allow_list(base_url: str, server_port: int) -> None:
    response = await client(*LOCAL).send(HttpRequest("GET", f"{base_url}/json?a=1"))
    echo = json.loads(response.body)
    assert response.status_code == 200
    assert echo["path"] == "/json" and echo["query"] == {"a": ["1"]}
    assert echo["host"] == f"127.0.0.1:{server_port}"


async def test_cidr_allow_list(base_url: str) -> None:
    response = await client("127.0.0.0/8").send(HttpRequest("GET", f"{base_url}/json"))
    assert response.status_code == 200


async def test_hostname_resolving_to_loopback_refused(
    monkeypatch: pytest.MonkeyPatch, server_port: int
) -> None:
    async def resolve(host: str, port: int) -> list[str]:
        assert host == "api.example.com"
        return ["127.0.0.1"]

    monkeypatch.setattr(netguard, "resolve_host", resolve)
    with pytest.raises(BlockedAddressError, match=r"api\.example\.com resolves to 127\.0\.0\.1"):
        await client().send(HttpRequest("GET", f"http://api.example.com:{server_port}/json"))


async def test_allowed_hostname_connects_to_resolved_address_with_its_host_header(
    server_port: int,
) -> None:
    http = SafeHttpClient(
        HttpPolicy(allow=("api.example.com",)), resolver=fake_dns({"api.example.com": LOCAL_LIST})
    )
    response = await http.send(HttpRequest("GET", f"http://api.example.com:{server_port}/json"))
    assert json.loads(response.body)["host"] == f"api.example.com:{server_port}"


async def test_any_private_answer_among_many_is_refused(server_port: int) -> None:
    dns = fake_dns({"mixed.example.com": ["93.184.216.34", "10.1.2.3"]})
    http = SafeHttpClient(HttpPolicy(), resolver=dns)
    with pytest.raises(BlockedAddressError, match="private"):
        await http.send(HttpRequest("GET", f"http://mixed.example.com:{server_port}/"))


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://10.0.0.8/", "private"),
        ("http://172.16.4.4/", "private"),
        ("http://192.168.1.1/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("http://169.254.10.10/", "link-local"),
        ("http://100.64.0.1/", "carrier-grade NAT"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://[::1]/", "loopback"),
        ("http://[fe80::1]/", "link-local"),
        ("http://[fd00:ec2::254]/", "cloud metadata"),
        ("http://[fc00::5]/", "private"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://[64:ff9b::a9fe:a9fe]/", "metadata"),
        ("http://224.0.0.1/", "multicast"),
        ("http://metadata.google.internal/", "metadata"),
    ],
)
async def test_literal_internal_addresses_refused(url: str, reason: str) -> None:
    with pytest.raises(BlockedAddressError, match=reason):
        await client().send(HttpRequest("GET", url))


async def test_redirect_from_allowed_host_to_blocked_address_refused(server_port: int) -> None:
    dns = fake_dns({"public.example.com": LOCAL_LIST})
    http = SafeHttpClient(HttpPolicy(allow=("public.example.com",)), resolver=dns)
    target = quote(f"http://127.0.0.1:{server_port}/json", safe="")
    url = f"http://public.example.com:{server_port}/redirect?to={target}"
    with pytest.raises(BlockedAddressError, match="loopback"):
        await http.send(HttpRequest("GET", url, follow_redirects=True))


async def test_redirect_to_metadata_refused_even_with_loopback_allowed(base_url: str) -> None:
    target = quote("http://169.254.169.254/latest/meta-data/", safe="")
    request = HttpRequest("GET", f"{base_url}/redirect?to={target}", follow_redirects=True)
    with pytest.raises(BlockedAddressError, match="metadata"):
        await client(*LOCAL).send(request)


async def test_redirect_followed_within_allowed_hosts(base_url: str) -> None:
    target = quote(f"{base_url}/json?after=redirect", safe="")
    request = HttpRequest("POST", f"{base_url}/redirect?to={target}&code=303", json={"a": 1})
    request.follow_redirects = True
    response = await client(*LOCAL).send(request)
    echo = json.loads(response.body)
    assert echo["method"] == "GET" and echo["query"] == {"after": ["redirect"]}


async def test_redirect_not_followed_unless_asked(base_url: str) -> None:
    target = quote(f"{base_url}/json", safe="")
    response = await client(*LOCAL).send(HttpRequest("GET", f"{base_url}/redirect?to={target}"))
    assert response.status_code == 302


async def test_redirect_loop_capped(base_url: str) -> None:
    loop = f"{base_url}/redirect?to={quote('/redirect?to=/json', safe='')}"
    http = client(*LOCAL, max_redirects=1)
    request = HttpRequest("GET", f"{base_url}/redirect?to={quote(loop, safe='')}")
    request.follow_redirects = True
    with pytest.raises(UpstreamError, match="Too many redirects"):
        await http.send(request)


async def test_cross_origin_redirect_drops_template_headers(
    base_url: str, server_port: int
) -> None:
    dns = fake_dns({"other.example.com": LOCAL_LIST})
    http = SafeHttpClient(HttpPolicy(allow=("127.0.0.1", "other.example.com")), resolver=dns)
    target = quote(f"http://other.example.com:{server_port}/json", safe="")
    request = HttpRequest(
        "GET",
        f"{base_url}/redirect?to={target}",
        headers={"Authorization": "Bearer sekrit-token"},
        cookies={"sid": "cookie-secret"},
        follow_redirects=True,
    )
    headers = json.loads((await http.send(request)).body)["headers"]
    assert "Authorization" not in headers and "Cookie" not in headers


async def test_non_http_schemes_refused() -> None:
    for url in ("ftp://example.com/x", "file:///etc/passwd"):
        with pytest.raises(BadRequestError, match="http and https"):
            await client().send(HttpRequest("GET", url))


async def test_response_cap_enforced(base_url: str) -> None:
    http = client(*LOCAL, max_bytes=1000)
    response = await http.send(HttpRequest("GET", f"{base_url}/big?n=50000"))
    assert response.truncated and len(response.body) == 1000
    small = await http.send(HttpRequest("GET", f"{base_url}/big?n=999"))
    assert not small.truncated and len(small.body) == 999


async def test_gzip_bomb_inflates_only_to_the_cap(base_url: str) -> None:
    response = await client(*LOCAL, max_bytes=4096).send(HttpRequest("GET", f"{base_url}/bomb"))
    assert response.truncated and len(response.body) == 4096


async def test_timeout(base_url: str) -> None:
    with pytest.raises(UpstreamTimeoutError):
        await client(*LOCAL, timeout=0.3).send(HttpRequest("GET", f"{base_url}/slow"))


async def test_secrets_never_logged(base_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    request = HttpRequest(
        "GET",
        f"{base_url}/json",
        headers={"X-Api-Key": "header-secret-123"},
        params=[("api_key", "query-secret-456")],
        cookies={"sid": "cookie-secret-789"},
    )
    await client(*LOCAL).send(request)
    assert caplog.records, "the request should be logged"
    for secret in ("header-secret-123", "query-secret-456", "cookie-secret-789"):
        assert secret not in caplog.text


async def test_invalid_redirect_location_is_an_upstream_error(base_url: str) -> None:
    request = HttpRequest("GET", f"{base_url}/redirect?to=http://x:abc/", follow_redirects=True)
    with pytest.raises(UpstreamError, match="Invalid URL"):
        await client(*LOCAL).send(request)
