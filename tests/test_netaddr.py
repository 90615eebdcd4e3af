"""collector.enrich.netaddr: trusted proxies, X-Forwarded-For walking and IP anonymisation."""

from __future__ import annotations

import ipaddress

import pytest

from collector.enrich.netaddr import anonymize_ip, client_ip, parse_trusted_proxies

PROXIES = parse_trusted_proxies("127.0.0.1, 10.0.0.0/8, fd00::/8")


def test_trusted_proxies_parse_ips_and_cidrs() -> None:
    assert parse_trusted_proxies("127.0.0.1,10.0.0.0/8, ::1 ,2001:db8::/32") == (
        ipaddress.ip_network("127.0.0.1/32"),
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
        ipaddress.ip_network("2001:db8::/32"),
    )


@pytest.mark.parametrize("spec", [None, "", " ", ",,"])
def test_empty_trusted_proxy_spec_trusts_nobody(spec: str | None) -> None:
    assert parse_trusted_proxies(spec) == ()


def test_cidr_with_host_bits_is_accepted_as_its_network() -> None:
    assert parse_trusted_proxies("10.1.2.3/8") == (ipaddress.ip_network("10.0.0.0/8"),)


@pytest.mark.parametrize("bad", ["10.0.0.0/33", "localhost", "1.2.3.4.5", "10.0.0.0/8;rm"])
def test_bad_trusted_proxy_entry_is_rejected_by_name(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid trusted proxy") as err:
        parse_trusted_proxies(f"127.0.0.1,{bad}")
    assert repr(bad) in str(err.value)


def test_untrusted_peer_cannot_spoof_forwarded_for() -> None:
    assert client_ip("203.0.113.9", "1.1.1.1", PROXIES) == "203.0.113.9"


def test_peer_is_the_client_when_no_proxy_is_trusted() -> None:
    assert client_ip("127.0.0.1", "1.1.1.1", ()) == "127.0.0.1"


def test_trusted_proxy_forwards_the_client_address() -> None:
    assert client_ip("127.0.0.1", "198.51.100.20", PROXIES) == "198.51.100.20"


def test_walk_skips_a_chain_of_trusted_proxies_from_the_right() -> None:
    header = "6.6.6.6, 198.51.100.20, 10.0.0.5, 10.1.1.1"  # client-set value on the left
    assert client_ip("127.0.0.1", header, PROXIES) == "198.51.100.20"


def test_all_trusted_hops_give_the_leftmost_address() -> None:
    assert client_ip("127.0.0.1", "10.0.0.7, 10.0.0.5", PROXIES) == "10.0.0.7"


def test_invalid_forwarded_entry_stops_the_walk_at_the_last_good_address() -> None:
    assert client_ip("127.0.0.1", "1.1.1.1, <script>, 10.0.0.5", PROXIES) == "10.0.0.5"
    assert client_ip("127.0.0.1", "1.1.1.1, unknown", PROXIES) == "127.0.0.1"


def test_trusted_proxy_without_forwarded_for_gives_the_peer() -> None:
    assert client_ip("10.0.0.5", None, PROXIES) == "10.0.0.5"
    assert client_ip("10.0.0.5", "", PROXIES) == "10.0.0.5"


def test_ipv6_peers_and_forwarded_addresses() -> None:
    assert client_ip("fd00::1", "2001:db8:0:0::42, fd12::9", PROXIES) == "2001:db8::42"
    assert client_ip("2001:db8::1", "1.1.1.1", PROXIES) == "2001:db8::1"


def test_ipv4_mapped_peer_matches_an_ipv4_proxy_range() -> None:
    assert client_ip("::ffff:10.0.0.3", "198.51.100.20", PROXIES) == "198.51.100.20"


@pytest.mark.parametrize("peer", [None, "", "testclient", "unix:/run/app.sock"])
def test_missing_or_non_ip_peer_gives_none(peer: str | None) -> None:
    assert client_ip(peer, "1.1.1.1", PROXIES) is None


def test_full_ip_mode_keeps_the_address() -> None:
    assert anonymize_ip("203.0.113.77", "full") == "203.0.113.77"


def test_truncated_ip_mode_keeps_ipv4_slash_24() -> None:
    assert anonymize_ip("203.0.113.77", "truncated") == "203.0.113.0"


def test_truncated_ip_mode_keeps_ipv6_slash_48() -> None:
    assert anonymize_ip("2001:db8:abcd:12:3456::1", "truncated") == "2001:db8:abcd::"


def test_off_ip_mode_stores_no_address() -> None:
    assert anonymize_ip("203.0.113.77", "off") is None


def test_truncating_an_invalid_or_missing_address_gives_none() -> None:
    assert anonymize_ip("garbage", "truncated") is None
    assert anonymize_ip(None, "truncated") is None
    assert anonymize_ip(None, "full") is None


def test_unknown_ip_mode_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown IP mode"):
        anonymize_ip("203.0.113.77", "partial")  # type: ignore[arg-type]
