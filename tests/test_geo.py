"""collector.enrich.geo against MaxMind's real test databases (shared/testdata/geoip)."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.enrich.geo import GeoInfo, GeoResolver


@pytest.fixture
def geo(geoip_city_db: str, geoip_asn_db: str) -> Iterator[GeoResolver]:
    resolver = GeoResolver(geoip_city_db, geoip_asn_db)
    yield resolver
    resolver.close()


def test_lookup_resolves_london_from_city_test_db(geo: GeoResolver) -> None:
    info = geo.lookup("81.2.69.160")
    assert info.country == "GB"
    assert info.region == "ENG"
    assert info.city == "London"
    assert info.continent == "EU"
    assert info.time_zone == "Europe/London"
    assert info.lat == pytest.approx(51.5142)
    assert info.lon == pytest.approx(-0.0931)


def test_lookup_fills_postal_code_and_state_code(geo: GeoResolver) -> None:
    info = geo.lookup("216.160.83.56")
    assert (info.country, info.region, info.city, info.zip) == ("US", "WA", "Milton", "98354")
    assert info.time_zone == "America/Los_Angeles"


def test_lookup_resolves_ipv6_address(geo: GeoResolver) -> None:
    info = geo.lookup("2001:480:10::1")
    assert (info.country, info.region, info.city, info.zip) == ("US", "CA", "San Diego", "92101")


def test_ipv4_mapped_ipv6_address_resolves_like_ipv4(geo: GeoResolver) -> None:
    assert geo.lookup("::ffff:81.2.69.160") == geo.lookup("81.2.69.160")


def test_asn_db_gives_as_number_and_organisation(geo: GeoResolver) -> None:
    info = geo.lookup("1.128.0.1")
    assert info.asn == 1221
    assert info.isp == "Telstra Pty Ltd"
    assert info.country is None  # not in the City test DB: network data only


def test_isp_db_gives_isp_name_rather_than_as_organisation(testdata_dir: Path) -> None:
    with GeoResolver(None, str(testdata_dir / "geoip" / "GeoIP2-ISP-Test.mmdb")) as geo:
        info = geo.lookup("1.128.0.1")
    assert (info.asn, info.isp) == (1221, "Telstra Internet")


def test_geolite_city_db_is_accepted(testdata_dir: Path) -> None:
    with GeoResolver(str(testdata_dir / "geoip" / "GeoLite2-City-Test.mmdb"), None) as geo:
        info = geo.lookup("2.125.160.216")
        assert geo.database_types == ("GeoLite2-City", "")
    assert (info.country, info.region, info.city, info.zip) == ("GB", "ENG", "Boxford", "OX1")


def _city_db_expectations(testdata_dir: Path) -> Iterator[tuple[str, dict]]:
    """(first address of the network, source record) for every public network of the
    City test DB's JSON source."""
    records = json.loads((testdata_dir / "geoip" / "GeoIP2-City-Test.json").read_text())
    for entry in records:
        for cidr, record in entry.items():
            net = ipaddress.ip_network(cidr)
            addr = net.network_address
            if isinstance(addr, ipaddress.IPv6Address) and net.prefixlen >= 96 and "." in cidr:
                addr = ipaddress.IPv4Address(int(addr))  # "::81.2.69.160/123" is IPv4
            if addr.is_global:
                yield str(addr), record


def test_every_public_network_of_the_city_db_matches_its_json_source(
    geo: GeoResolver, testdata_dir: Path
) -> None:
    checked = 0
    for addr, record in _city_db_expectations(testdata_dir):
        info = geo.lookup(addr)
        subdivisions = record.get("subdivisions") or [{}]
        expected = (
            record.get("country", {}).get("iso_code"),
            subdivisions[0].get("iso_code"),
            record.get("city", {}).get("names", {}).get("en"),
            record.get("postal", {}).get("code"),
            record.get("location", {}).get("time_zone"),
            record.get("continent", {}).get("code"),
        )
        got = (info.country, info.region, info.city, info.zip, info.time_zone, info.continent)
        assert got == expected, addr
        checked += 1
    assert checked > 100


@pytest.mark.parametrize(
    "ip",
    ["10.1.2.3", "192.168.0.10", "172.16.5.4", "127.0.0.1", "::1", "fe80::1", "0.0.0.0"],
)
def test_private_and_loopback_addresses_give_empty_geo(geo: GeoResolver, ip: str) -> None:
    assert geo.lookup(ip) == GeoInfo()


@pytest.mark.parametrize("ip", [None, "", "not-an-ip", "999.1.1.1", "81.2.69.160:443", "1.2.3"])
def test_missing_or_unparsable_address_gives_empty_geo(geo: GeoResolver, ip: str | None) -> None:
    assert geo.lookup(ip) == GeoInfo()


def test_address_absent_from_both_dbs_gives_empty_geo(geo: GeoResolver) -> None:
    assert geo.lookup("198.51.100.7") == GeoInfo()  # TEST-NET-2: private, never looked up
    assert geo.lookup("9.9.9.9") == GeoInfo()


def test_repeated_lookups_are_served_from_the_cache(geo: GeoResolver) -> None:
    first = geo.lookup("81.2.69.160")
    hits = geo.cache_info().hits
    assert geo.lookup("81.2.69.160") is first
    assert geo.cache_info().hits == hits + 1


def test_resolver_without_databases_returns_empty_geo() -> None:
    geo = GeoResolver(None, None)
    assert geo.lookup("81.2.69.160") == GeoInfo()
    geo.close()


def test_lookup_after_close_returns_empty_geo_instead_of_raising(
    geoip_city_db: str, geoip_asn_db: str
) -> None:
    geo = GeoResolver(geoip_city_db, geoip_asn_db)
    geo.close()
    assert geo.lookup("81.2.69.160") == GeoInfo()


def test_network_db_given_as_city_db_is_rejected(geoip_asn_db: str) -> None:
    with pytest.raises(ValueError, match="GeoLite2-ASN"):
        GeoResolver(geoip_asn_db, None)


def test_city_db_given_as_asn_db_is_rejected(geoip_city_db: str) -> None:
    with pytest.raises(ValueError, match="GeoIP2-City"):
        GeoResolver(None, geoip_city_db)


def test_missing_database_file_fails_at_construction(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        GeoResolver(str(tmp_path / "absent.mmdb"), None)
