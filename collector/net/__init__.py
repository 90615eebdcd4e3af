"""The outbound guard: every connection the collector opens on someone else's behalf (replay
assets, webhook deliveries) goes through it.

Only http(s) URLs without credentials (:mod:`.target`). Every address the host resolves to must
be public (loopback, private, shared, link-local, multicast, reserved and unspecified are
refused, also as IPv4-mapped, 6to4, Teredo or NAT64 addresses) unless it lies in the allowed
networks; one refused address refuses the host (:mod:`.addresses`). The socket then connects to
the vetted address itself (:mod:`.connections`), so DNS rebinding cannot slip in between check
and use. Redirects are the caller's business (the asset fetcher follows a few, each vetted
again; webhooks follow none). :func:`vet_destination` checks a webhook URL for the API.
"""

from collector.net.addresses import (
    IPAddress,
    IPNetwork,
    NotAllowed,
    Unresolvable,
    address_kind,
    is_permitted,
    is_public_address,
    parse_address,
    resolve,
    vetted_addresses,
)
from collector.net.connections import PinnedHTTP, PinnedHTTPS, pinned_connection
from collector.net.target import MAX_URL_LENGTH, BadURL, Target, parse_target
from collector.net.vetting import vet_destination

__all__ = [
    "MAX_URL_LENGTH",
    "BadURL",
    "IPAddress",
    "IPNetwork",
    "NotAllowed",
    "PinnedHTTP",
    "PinnedHTTPS",
    "Target",
    "Unresolvable",
    "address_kind",
    "is_permitted",
    "is_public_address",
    "parse_address",
    "parse_target",
    "pinned_connection",
    "resolve",
    "vet_destination",
    "vetted_addresses",
]
