"""Address vetting: which IP addresses an asset may be fetched from."""

from __future__ import annotations

import ipaddress

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


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


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


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


def _parse_address(text: str) -> IPAddress:
    return ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone id
