"""Client addresses: trusted reverse proxies, ``X-Forwarded-For`` and IP anonymisation."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable

from collector.storage.base import IpMode

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_trusted_proxies(spec: str | None) -> tuple[IPNetwork, ...]:
    """Networks from a comma-separated list of IPs and CIDRs (``"127.0.0.1,10.0.0.0/8"``).

    Blank entries are skipped; ``None`` or an empty string gives ``()``. A CIDR with host bits
    set (``10.0.0.1/8``) is accepted as its network. Raises ``ValueError`` naming the bad entry.
    """
    networks: list[IPNetwork] = []
    for raw in (spec or "").split(","):
        entry = raw.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(
                f"invalid trusted proxy {entry!r}: expected an IP address or CIDR such as "
                "127.0.0.1 or 10.0.0.0/8"
            ) from None
    return tuple(networks)


def _address(text: str | None) -> IPAddress | None:
    """Parse an address; IPv4-mapped IPv6 (``::ffff:1.2.3.4``) becomes IPv4. ``None`` if junk."""
    if not text:
        return None
    try:
        addr = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        return addr.ipv4_mapped
    return addr


def _is_trusted(addr: IPAddress, trusted: Iterable[IPNetwork]) -> bool:
    """Whether ``addr`` lies in one of the ``trusted`` networks."""
    return any(addr in net for net in trusted)


def client_ip(
    peer: str | None, forwarded_for: str | None, trusted: Iterable[IPNetwork]
) -> str | None:
    """The visitor's address, in canonical text form.

    The TCP peer is the client unless it is a trusted proxy. Behind one, ``X-Forwarded-For``
    (the joined header value) is read from the right, skipping trusted proxies; the first
    untrusted address wins. If every hop is trusted, the leftmost one is returned. An entry
    that is not an IP address stops the walk: the last good address seen is returned, so a
    client cannot smuggle text past the proxies. ``None`` when the peer is missing or not an IP.
    """
    return _client_ip(peer, forwarded_for, tuple(trusted))


@functools.lru_cache(maxsize=20_000)
def _client_ip(
    peer: str | None, forwarded_for: str | None, trusted: tuple[IPNetwork, ...]
) -> str | None:
    """:func:`client_ip`, cached: the same peers and proxy chains come back again and again."""
    addr = _address(peer)
    if addr is None or not _is_trusted(addr, trusted):
        return str(addr) if addr else None
    for entry in reversed((forwarded_for or "").split(",")):
        if not entry.strip():
            continue
        hop = _address(entry)
        if hop is None:
            break
        addr = hop
        if not _is_trusted(hop, trusted):
            break
    return str(addr)


def anonymize_ip(ip: str | None, mode: IpMode) -> str | None:
    """The address as stored under a brand's privacy setting.

    ``full``: unchanged; ``truncated``: IPv4 to its /24 (``1.2.3.0``), IPv6 to its /48;
    ``off``: ``None``. An invalid address gives ``None`` unless ``mode`` is ``full``.
    Raises ``ValueError`` for an unknown mode.
    """
    if mode == "full":
        return ip
    if mode == "off":
        return None
    if mode != "truncated":
        raise ValueError(f"unknown IP mode {mode!r}: expected full, truncated or off")
    addr = _address(ip)
    if addr is None:
        return None
    prefix = 24 if addr.version == 4 else 48
    return str(ipaddress.ip_network(f"{addr}/{prefix}", strict=False).network_address)
