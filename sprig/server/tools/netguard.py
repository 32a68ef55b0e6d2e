"""Which addresses server-side HTTP tools may reach.

Refused unless the allow-list names them: loopback, private (10/8, 172.16/12, 192.168/16,
fc00::/7), link-local (169.254/16 — cloud metadata lives there — fe80::/10), CGNAT 100.64/10,
unspecified, multicast, reserved and documentation ranges, and every other address Python's
`ipaddress` does not call global. Metadata host names are refused by name.

IPv6 addresses that carry an IPv4 one are judged by that IPv4 address (`embedded_ipv4`):

- IPv4-mapped ``::ffff:0:0/96`` and NAT64 (``64:ff9b::/96``, and the local-use
  ``64:ff9b:1::/48`` of RFC 8215 with RFC 6052's /48 layout) are how a host reaches that IPv4
  address: the IPv4 verdict is the verdict.
- IPv4-compatible ``::/96`` (deprecated), IPv4-translated ``::ffff:0:0:0/96``, 6to4
  ``2002::/16`` and Teredo ``2001::/32``: refused when the IPv4 address is; otherwise judged
  as IPv6 addresses (the first two are never public).

Host spellings are settled before judging: brackets, a zone id (``fe80::1%eth0``) and one
trailing dot are read as the OS reads them; a host whose last label is a number is an IPv4
address in the ``inet_aton`` forms (``2130706433``, ``0x7f.1``, ``0177.0.0.1``, ``127.1``),
judged and connected to as such, or refused when it is not a valid one.

Checks run on the addresses a host name *resolves to*; the caller then connects to one of
those checked addresses, so a second DNS answer cannot swap in another one.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
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
    ("fec0::/10", "site-local"),
    ("ff00::/8", "multicast"),
    ("3fff::/20", "documentation"),
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
_V6 = ipaddress.IPv6Network
_MAPPED = _V6("::ffff:0:0/96")
_COMPATIBLE = _V6("::/96")
_TRANSLATED = _V6("::ffff:0:0:0/96")
_NAT64 = _V6("64:ff9b::/96")
_NAT64_LOCAL = _V6("64:ff9b:1::/48")
# Never public themselves, whatever IPv4 address they carry.
_NON_PUBLIC_WRAPPERS = (
    (_COMPATIBLE, "IPv4-compatible (deprecated)"),
    (_TRANSLATED, "IPv4-translated"),
)
_NUMBER = re.compile(r"0[xX][0-9a-fA-F]*|[0-9]+")


class BlockedAddressError(PermissionDeniedError):
    """An HTTP tool tried to reach an address the server refuses."""

    code = "blocked_address"


def blocked_reason(ip: IPAddress) -> str | None:
    """Why this address is refused, or None when it is a public address."""
    for net, why in BLOCKED_RANGES:
        if ip.version == net.version and ip in net:
            return why
    if isinstance(ip, ipaddress.IPv6Address):
        return _ipv6_reason(ip)
    return _general_reason(ip)


def _ipv6_reason(ip: ipaddress.IPv6Address) -> str | None:
    inner = embedded_ipv4(ip)
    for v4 in inner:
        reason = blocked_reason(v4)
        if reason:
            return f"{reason} (IPv4 {v4} embedded in {_plain(ip)})"
    if inner and _is_ipv4_route(ip):
        return None
    for net, why in _NON_PUBLIC_WRAPPERS:
        if ip in net:
            return why
    return _general_reason(ip)


def _general_reason(ip: IPAddress) -> str | None:
    if ip.is_multicast:
        return "multicast"
    if not ip.is_global:
        return "non-public"
    return None


def _is_ipv4_route(ip: ipaddress.IPv6Address) -> bool:
    """Mapped and NAT64 addresses are how a host reaches the IPv4 address they carry."""
    return any(ip in net for net in (_MAPPED, _NAT64, _NAT64_LOCAL))


def embedded_ipv4(ip: IPAddress) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries: mapped, IPv4-compatible, IPv4-translated,
    6to4, Teredo (server and client) and NAT64 (well-known /96 and local-use /48)."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return []
    value = int(ip)
    found = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
    if ip in _COMPATIBLE or ip in _TRANSLATED or ip in _NAT64:
        found.append(ipaddress.IPv4Address(value & 0xFFFFFFFF))
    if ip in _NAT64_LOCAL:  # RFC 6052 /48: bits 48-63 and 72-87 (bits 64-71 are zero)
        high, low = (value >> 64) & 0xFFFF, (value >> 40) & 0xFFFF
        found.append(ipaddress.IPv4Address(high << 16 | low))
    return list(dict.fromkeys(a for a in found if a is not None))


def _plain(ip: ipaddress.IPv6Address) -> str:
    return str(ip).split("%", 1)[0]


def parse_ip(text: str) -> IPAddress | None:
    """An IP literal (brackets and an IPv6 zone id allowed), else None."""
    try:
        return ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None


def normalise_host(host: str) -> str:
    """Lower case, no brackets, one trailing dot dropped (``example.com.`` is ``example.com``)."""
    name = host.strip().strip("[]").lower()
    return name[:-1] if name.endswith(".") and not name.endswith("..") else name


def numeric_ipv4(name: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address a host ending in a number stands for, in the ``inet_aton`` forms the
    system resolver accepts (1-4 parts; decimal, octal ``0..``, hex ``0x..``; the last part
    fills the remaining bytes). None for a host name; refused when not a valid address."""
    parts = name.split(".")
    if not _NUMBER.fullmatch(parts[-1]):
        return None
    if len(parts) > 4:
        raise _not_an_address(name)
    last_bits = 8 * (5 - len(parts))
    value = 0
    for index, part in enumerate(parts):
        bits = last_bits if index == len(parts) - 1 else 8
        number = _ipv4_part(part)
        if number is None or number >= 1 << bits:
            raise _not_an_address(name)
        value = value << bits | number
    return ipaddress.IPv4Address(value)


def _not_an_address(name: str) -> BlockedAddressError:
    return BlockedAddressError(f"Refused: {name!r} is neither a host name nor a valid IPv4 address")


def _ipv4_part(part: str) -> int | None:
    if re.fullmatch(r"0[xX][0-9a-fA-F]+", part):
        return int(part[2:], 16)
    if re.fullmatch(r"0[0-7]*", part):
        return int(part, 8)
    if re.fullmatch(r"[1-9][0-9]*", part):
        return int(part)
    return None


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
        """Whether the address (or the IPv4 address a mapped one stands for) is listed."""
        forms = [ip, *([ip.ipv4_mapped] if isinstance(ip, ipaddress.IPv6Address) else [])]
        return any(
            a is not None and a.version == net.version and a in net
            for a in forms
            for net in self.networks
        )


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
    literal = parse_ip(name) or numeric_ipv4(name)
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
