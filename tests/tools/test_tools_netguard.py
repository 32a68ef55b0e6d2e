"""Address classification, the allow-list, and host vetting (no network)."""

from __future__ import annotations

import ipaddress
from types import SimpleNamespace

import pytest

from sprig.server.errors import UpstreamError
from sprig.server.tools.http import HttpPolicy
from sprig.server.tools.netguard import AllowList, BlockedAddressError, blocked_reason, vet_host


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
