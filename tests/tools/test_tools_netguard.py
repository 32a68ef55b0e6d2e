"""Address classification, the allow-list, and host vetting (no network)."""

from __future__ import annotations

import ipaddress
import socket
from types import SimpleNamespace

import httpx
import pytest

from sprig.server.errors import UpstreamError
from sprig.server.tools.http import HttpPolicy, HttpRequest, SafeHttpClient
from sprig.server.tools.netguard import (
    AllowList,
    BlockedAddressError,
    blocked_reason,
    embedded_ipv4,
    numeric_ipv4,
    vet_host,
)


@pytest.mark.parametrize(
    "address",
    ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "1.1.1.1"],
)
def test_public_addresses_pass(address: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.8.8.8", "loopback"),
        ("100.100.100.200", "carrier-grade NAT"),
        ("198.18.0.1", "non-public"),
        ("192.0.2.1", "non-public"),
        ("255.255.255.255", "multicast|non-public"),
        ("2002:a9fe:a9fe::1", "metadata"),  # 6to4 wrapping 169.254.169.254
        ("2001:db8::1", "non-public"),
    ],
)
def test_reasons(address: str, reason: str) -> None:
    found = blocked_reason(ipaddress.ip_address(address))
    assert found is not None and any(r in found for r in reason.split("|"))


def test_allow_list_parsing() -> None:
    allow = AllowList.parse(
        ["127.0.0.1", "10.0.0.0/8", "[::1]", "Internal.Example.", "*.corp.test", " "]
    )
    assert allow.allows_ip(ipaddress.ip_address("10.9.9.9"))
    assert allow.allows_ip(ipaddress.ip_address("::1"))
    assert not allow.allows_ip(ipaddress.ip_address("127.0.0.2"))
    assert allow.allows_host("internal.example.com") is False
    assert allow.allows_host("INTERNAL.example")
    assert allow.allows_host("db.corp.test") and not allow.allows_host("corp.test.evil")


async def test_vet_host_returns_the_checked_address() -> None:
    async def dns(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "2606:2800:220:1::1"]

    assert await vet_host("example.com", 443, AllowList(), dns) == "93.184.216.34"


async def test_vet_host_uses_the_system_resolver_by_default() -> None:
    with pytest.raises(BlockedAddressError, match="loopback"):
        await vet_host("localhost", 80, AllowList(), None)


async def test_resolution_failures_are_upstream_errors() -> None:
    async def broken(host: str, port: int) -> list[str]:
        raise OSError("no such host")

    async def empty(host: str, port: int) -> list[str]:
        return []

    for dns in (broken, empty):
        with pytest.raises(UpstreamError, match="Could not resolve"):
            await vet_host("nowhere.test", 80, AllowList(), dns)


async def test_metadata_host_names_refused_unless_allowed() -> None:
    async def dns(host: str, port: int) -> list[str]:
        return ["93.184.216.34"]

    with pytest.raises(BlockedAddressError, match="metadata host"):
        await vet_host("metadata.google.internal.", 80, AllowList(), dns)
    allowed = AllowList.parse(["metadata.google.internal"])
    assert await vet_host("metadata.google.internal", 80, allowed, dns) == "93.184.216.34"


def test_policy_from_settings_reads_tool_http_fields() -> None:
    settings = SimpleNamespace(tool_http_allow=["127.0.0.1"], tool_http_max_bytes=10)
    policy = HttpPolicy.from_settings(settings)  # type: ignore[arg-type]
    assert policy.allow == ("127.0.0.1",) and policy.max_bytes == 10
    assert policy.timeout == HttpPolicy().timeout


# -- IPv6 forms that carry an IPv4 address, and numeric host spellings (issue 13, item 14) --


async def no_dns(host: str, port: int) -> list[str]:
    raise AssertionError(f"{host} is a literal: it must not be resolved")


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("::127.0.0.1", "loopback"),  # IPv4-compatible (::/96)
        ("::7f00:1", "loopback"),
        ("::a9fe:a9fe", "cloud metadata"),
        ("::a00:1", "private"),
        ("::c0a8:101", "private"),
        ("::ffff:0:7f00:1", "loopback"),  # IPv4-translated (::ffff:0:0:0/96)
        ("::ffff:0:a9fe:a9fe", "cloud metadata"),
        ("::ffff:169.254.169.254", "cloud metadata"),  # mapped
        ("64:ff9b::7f00:1", "loopback"),  # NAT64 well-known /96
        ("64:ff9b::a00:1", "private"),
        ("64:ff9b:1:7f00:0:100::", "loopback"),  # NAT64 local-use /48 (RFC 6052 layout)
        ("64:ff9b:1:a9fe:a9:fe00::", "cloud metadata"),
        ("64:ff9b:1:a01:2:300::", "private"),
        ("2002:7f00:1::", "loopback"),  # 6to4
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback"),  # Teredo client 127.0.0.1
        ("2001:0:a00:1::1", "private"),  # Teredo server 10.0.0.1
        ("fe80::1%eth0", "link-local"),  # zone id
        ("::ffff:0:808:808", "IPv4-translated"),  # never public, whatever it carries
        ("::808:808", "IPv4-compatible"),
        ("fec0::1", "site-local"),
        ("3fff::1", "documentation"),
    ],
)
def test_embedded_ipv4_judged(address: str, reason: str) -> None:
    found = blocked_reason(ipaddress.ip_address(address))
    assert found is not None and reason in found, found


@pytest.mark.parametrize(
    ("address", "inner"),
    [
        ("::ffff:8.8.8.8", "8.8.8.8"),
        ("64:ff9b::808:808", "8.8.8.8"),
        ("64:ff9b:1:808:8:800::", "8.8.8.8"),
        ("2002:808:808::1", "8.8.8.8"),
    ],
)
def test_ipv6_routes_to_public_ipv4_pass(address: str, inner: str) -> None:
    ip = ipaddress.ip_address(address)
    assert str(embedded_ipv4(ip)[0]) == inner
    assert blocked_reason(ip) is None


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7F000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("0", "0.0.0.0"),
        ("0xa9.0376.0xa9fe", "169.254.169.254"),
        ("134744072", "8.8.8.8"),
    ],
)
def test_numeric_hosts_read_as_inet_aton_does(host: str, address: str) -> None:
    assert str(numeric_ipv4(host)) == address
    if hasattr(socket, "inet_aton"):  # the system's own reading agrees
        assert socket.inet_aton(host) == ipaddress.ip_address(address).packed


@pytest.mark.parametrize(
    "host",
    ["1.2.3.4.5", "256.1.1.1", "1.2.3.256", "08", "0x", "1.2.0x1ff.1", "foo.123", "4294967296"],
)
def test_invalid_numeric_hosts_refused(host: str) -> None:
    with pytest.raises(BlockedAddressError, match="neither a host name nor a valid IPv4"):
        numeric_ipv4(host)


def test_names_are_not_numeric() -> None:
    assert numeric_ipv4("example.com") is None
    assert numeric_ipv4("123.example") is None


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("[::127.0.0.1]", "loopback"),
        ("::a9fe:a9fe", "metadata"),
        ("::a00:1", "private"),
        ("[::ffff:0:7f00:1]", "loopback"),
        ("[64:ff9b:1:7f00:0:100::]", "loopback"),
        ("2130706433", "loopback"),
        ("0x7f.1", "loopback"),
        ("017700000001", "loopback"),
        ("127.0.0.1.", "loopback"),
        ("0x7f.0.0.1.", "loopback"),
        ("[fe80::1%eth0]", "link-local"),
        ("0xa9fea9fe", "metadata"),
        ("0", "unspecified"),
        ("1.2.3.999", "neither a host name"),
    ],
)
async def test_vet_host_refuses_literal_spellings_without_resolving(host: str, reason: str) -> None:
    with pytest.raises(BlockedAddressError, match=reason):
        await vet_host(host, 80, AllowList(), no_dns)


async def test_vet_host_connects_to_the_canonical_address_of_a_numeric_host() -> None:
    assert await vet_host("134744072", 80, AllowList(), no_dns) == "8.8.8.8"
    assert await vet_host("0x7f.1", 80, AllowList.parse(["127.0.0.1"]), no_dns) == "127.0.0.1"
    mapped = AllowList.parse(["127.0.0.1"])  # a mapped address is the IPv4 one it stands for
    assert await vet_host("[::ffff:127.0.0.1]", 80, mapped, no_dns) == "::ffff:7f00:1"


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/",
        "http://0x7f.1/",
        "http://017700000001/",
        "http://127.1/",
        "http://127.0.0.1./",
        "http://[::127.0.0.1]/",
        "http://[::ffff:0:7f00:1]/",
        "http://[::a9fe:a9fe]/latest/meta-data/",
        "http://[64:ff9b:1:a9fe:a9:fe00::]/",
        "http://0xa9fea9fe/",
        "http://LOCALHOST./",
        "http://[fe80::1%25eth0]/",
    ],
)
async def test_urls_reach_the_guard_as_the_os_would_read_them(url: str) -> None:
    """Through the real URL parsing of the tool client; the transport must never be used."""

    def never(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"connected to {request.url}")

    http = SafeHttpClient(HttpPolicy(), transport=httpx.MockTransport(never))
    with pytest.raises(BlockedAddressError):
        await http.send(HttpRequest("GET", url))


@pytest.mark.parametrize("url", ["http://0177.0.0.1/", "http://1.2.3.999/"])
async def test_urls_the_parser_rejects_are_refused(url: str) -> None:
    def never(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"connected to {request.url}")

    http = SafeHttpClient(HttpPolicy(), transport=httpx.MockTransport(never))
    with pytest.raises(UpstreamError, match="Invalid URL"):
        await http.send(HttpRequest("GET", url))


async def test_numeric_public_host_is_pinned_to_its_dotted_address() -> None:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, stream=httpx.ByteStream(b"ok"))

    http = SafeHttpClient(HttpPolicy(), transport=httpx.MockTransport(record))
    response = await http.send(HttpRequest("GET", "http://134744072/x"))
    assert response.status_code == 200
    assert seen[0].url.host == "8.8.8.8" and seen[0].headers["host"] == "134744072"
