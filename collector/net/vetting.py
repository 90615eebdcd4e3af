"""Checking a webhook destination's URL when it is created or changed (the API's 422s)."""

from __future__ import annotations

from collections.abc import Iterable

from collector.net.addresses import (
    IPNetwork,
    NotAllowed,
    Unresolvable,
    address_kind,
    vetted_addresses,
)
from collector.net.target import BadURL, parse_target


def vet_destination(url: str, allowed: Iterable[IPNetwork], https_only: bool) -> str | None:
    """None when ``url`` may receive webhooks, else what to fix: an http(s) URL (https when
    ``https_only``) without credentials, whose host resolves (once, now) to public addresses
    only, or to addresses inside ``allowed``. Deliveries check the addresses again."""
    try:
        target = parse_target(url)
    except BadURL as exc:
        return f"the URL must be http(s) with a host and no credentials ({exc})"
    if https_only and target.scheme != "https":
        return "the brand accepts https destinations only"
    try:
        vetted_addresses(target.host, target.port, allowed)
    except Unresolvable as exc:
        return f"the host does not resolve: {exc}"
    except NotAllowed as exc:
        return (
            f"{target.host} resolves to {exc.address}, {address_kind(exc.address)}; "
            "destinations must be public (or in --webhook-networks)"
        )
    return None
