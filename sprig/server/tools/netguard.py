"""Which addresses server-side HTTP tools may reach.

Refused unless the allow-list names them: loopback, private (10/8, 172.16/12, 192.168/16,
fc00::/7), link-local (169.254/16 — cloud metadata lives there — fe80::/10), CGNAT 100.64/10,
unspecified, multicast, reserved and documentation ranges, and every other address Python's
`ipaddress` does not call global. IPv6 forms that embed an IPv4 address (mapped, 6to4, NAT64,
Teredo) are judged by the embedded address too. Metadata host names are refused by name.

Checks run on the addresses a host name *resolves to*; the caller then connects to one of
those checked addresses, so a second DNS answer cannot swap in another one.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from sprig.server.errors import PermissionDeniedError, UpstreamError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]

_NAMED_RANGES: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", "unspecified"),
    ("127.0.0.0/8", "loopback"),
    ("10.0.0.0/8", "private"),
    ("172.16.0.0/12", "private"),
    ("192.168.0.0/16", "private"),
    ("100.64.0.0/10", "carrier-grade NAT"),
    ("169.254.169.254/32", "cloud metadata"),
    ("169.254.0.0/16", "link-local"),
    ("224.0.0.0/4", "multicast"),
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("fd00:ec2::254/128", "cloud metadata"),
    ("fc00::/7", "private"),
    ("fe80::/10", "link-local"),
    ("ff00::/8", "multicast"),
)
BLOCKED_RANGES: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(net), why) for net, why in _NAMED_RANGES
)
METADATA_HOSTS = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class BlockedAddressError(PermissionDeniedError):
    """An HTTP tool tried to reach an address the server refuses."""

    code = "blocked_address"


def blocked_reason(ip: IPAddress) -> str | None:
    """Why this address is refused, or None when it is a public address."""
    for net, why in BLOCKED_RANGES:
        if ip.version == net.version and ip in net:
            return why
    for inner in _embedded_ipv4(ip):
        reason = blocked_reason(inner)
        if reason:
            return f"{reason} (embedded in {ip})"
    if ip.is_multicast:
        return "multicast"
    if not ip.is_global:
        return "non-public"
    return None


def _embedded_ipv4(ip: IPAddress) -> list[ipaddress.IPv4Address]:
    if not isinstance(ip, ipaddress.IPv6Address):
        return []
    found = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
    if ip in _NAT64:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return [a for a in found if a is not None]


def parse_ip(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None


def normalise_host(host: str) -> str:
    return host.strip("[]").rstrip(".").lower()


@dataclass(frozen=True, slots=True)
class AllowList:
    """Hosts (exact, or ``*.suffix``) and addresses/CIDRs exempt from the block."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for raw in entries:
            entry = raw.strip()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                hosts.add(normalise_host(entry))
        return cls(frozenset(hosts), tuple(networks))

    def allows_host(self, host: str) -> bool:
        name = normalise_host(host)
        if name in self.hosts:
            return True
        return any(h.startswith("*.") and name.endswith(h[1:]) for h in self.hosts)

    def allows_ip(self, ip: IPAddress) -> bool:
        return any(ip.version == net.version and ip in net for net in self.networks)


async def resolve_host(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host`` (tests monkeypatch this)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def vet_host(host: str, port: int, allow: AllowList, resolver: Resolver | None) -> str:
    """The checked address to connect to for ``host``; raises `BlockedAddressError`."""
    name = normalise_host(host)
    named_ok = allow.allows_host(name)
    if name in METADATA_HOSTS and not named_ok:
        raise BlockedAddressError(f"Refused: {name} is a cloud metadata host")
    literal = parse_ip(name)
    addresses = [str(literal)] if literal else await _resolve(name, port, resolver)
    for text in addresses:
        ip = parse_ip(text)
        reason = "unparseable" if ip is None else blocked_reason(ip)
        if reason and not named_ok and not (ip is not None and allow.allows_ip(ip)):
            what = "is" if literal else f"resolves to {text}, which is"
            raise BlockedAddressError(
                f"Refused: {name} {what} a {reason} address; "
                "add it to the tool HTTP allow-list to permit it"
            )
    return addresses[0]


async def _resolve(name: str, port: int, resolver: Resolver | None) -> list[str]:
    lookup = resolver or resolve_host
    try:
        addresses = await lookup(name, port)
    except (OSError, UnicodeError) as exc:
        raise UpstreamError(f"Could not resolve {name}: {type(exc).__name__}") from None
    if not addresses:
        raise UpstreamError(f"Could not resolve {name}: no addresses")
    return addresses
