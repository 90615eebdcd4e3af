"""Which IP addresses the collector may connect to on someone else's behalf (replay assets,
webhook destinations): public ones, or those inside networks the operator allowed."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class Unresolvable(Exception):
    """The host name did not resolve (or resolved to nothing)."""


class NotAllowed(Exception):
    """The host resolves to an address that is neither public nor in the allowed networks."""

    def __init__(self, host: str, address: IPAddress) -> None:
        super().__init__(f"{host} resolves to {address}, not a public address")
        self.host = host
        self.address = address


def _embedded(addr: IPAddress) -> list[IPAddress]:
    """What to judge for ``addr``: itself and the IPv4 addresses it carries (6to4, Teredo, NAT64
    64:ff9b::/96), or only the IPv4 address of an IPv4-mapped one."""
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        return [addr.ipv4_mapped]  # ::ffff:0:0/96 itself counts as private: judge the IPv4
    found: list[IPAddress] = [addr]
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.sixtofour:
            found.append(addr.sixtofour)
        if addr.teredo:
            found.extend(addr.teredo)
        if addr in _NAT64:
            found.append(ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF))
    return found


def is_public_address(addr: IPAddress) -> bool:
    """False for loopback, private, link-local, multicast, reserved, unspecified, shared
    (100.64/10) and every other non-global address, also when embedded in an IPv6 address."""
    return not any(
        a.is_loopback
        or a.is_private
        or a.is_link_local
        or a.is_multicast
        or a.is_reserved
        or a.is_unspecified
        or not a.is_global
        for a in _embedded(addr)
    )


def parse_address(text: str) -> IPAddress:
    """An address as ``getaddrinfo`` gives it (an IPv6 zone id dropped)."""
    return ipaddress.ip_address(text.split("%", 1)[0])


def is_permitted(addr: IPAddress, allowed: Iterable[IPNetwork]) -> bool:
    """Public, or inside one of ``allowed`` (an IPv4-mapped address as its IPv4 too)."""
    own = [addr]
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        own.append(addr.ipv4_mapped)
    if any(a in net for a in own for net in allowed):
        return True
    return is_public_address(addr)


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, once each, in the resolver's order."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Unresolvable(f"cannot resolve {host!r} ({exc})") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise Unresolvable(f"no address for {host!r}")
    return addresses


def vetted_addresses(host: str, port: int, allowed: Iterable[IPNetwork]) -> list[str]:
    """Every address ``host`` resolves to, each checked: one forbidden address refuses the host
    (:class:`NotAllowed`); :class:`Unresolvable` when it does not resolve."""
    networks = tuple(allowed)
    addresses = resolve(host, port)
    for text in addresses:
        addr = parse_address(text)
        if not is_permitted(addr, networks):
            raise NotAllowed(host, addr)
    return addresses


def address_kind(addr: IPAddress) -> str:
    """A few words on why ``addr`` is not public, for messages."""
    judged = _embedded(addr)[-1]
    if judged.is_loopback:
        return "a loopback address"
    if judged.is_link_local:
        return "a link-local address"
    if judged.is_multicast:
        return "a multicast address"
    if judged.is_unspecified:
        return "the unspecified address"
    if judged.is_private:
        return "a private address"
    return "not a public address"
