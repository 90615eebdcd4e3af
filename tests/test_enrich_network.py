"""Network facts (issue 14): MaxMind's ISP, Connection-Type and Anonymous-IP test databases,
through the resolver and through the real /collect and /g/ paths on both engines, and the
Accept-Language header kept on the click."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geoip2.models
import pytest

from collector.config import load_settings
from collector.enrich.geo import GeoInfo, GeoResolver
from collector.enrich.network import proxy_facts
from tests.appkit import Kit, geoip_settings, run_kit
from tests.linkkit import click_id_of, clicks, follow, make_link

VERIZON_IP = "149.101.100.1"  # ISP: Verizon Wireless, AS6167, 310-004; Connection-Type: Cellular
LONDON_IP = "81.2.69.160"  # City: London; Anonymous-IP: every flag (so "tor")
LANGUAGES = "en-GB,en;q=0.9,fr;q=0.8"


def network_dbs(testdata: Path) -> dict[str, str]:
    folder = testdata / "geoip"
    return {
        "isp_db": str(folder / "GeoIP2-ISP-Test.mmdb"),
        "connection_type_db": str(folder / "GeoIP2-Connection-Type-Test.mmdb"),
        "anonymous_ip_db": str(folder / "GeoIP2-Anonymous-IP-Test.mmdb"),
    }


@pytest.fixture
def resolver(testdata_dir: Path, geoip_city_db: str, geoip_asn_db: str) -> Iterator[GeoResolver]:
    with GeoResolver(geoip_city_db, geoip_asn_db, **network_dbs(testdata_dir)) as geo:
        yield geo


@pytest.fixture
def netkit(store, testdata_dir: Path, tmp_path: Path) -> Iterator[Kit]:
    """A real collector on loopback over ``store`` (both engines) with all the test DBs."""
    settings = geoip_settings(
        testdata_dir, replay_assets_dir=str(tmp_path / "assets"), **network_dbs(testdata_dir)
    )
    yield from run_kit(store, settings)


def test_the_isp_db_gives_isp_asn_organisation_and_mobile_carrier(resolver: GeoResolver) -> None:
    info = resolver.lookup(VERIZON_IP)
    assert (info.isp, info.asn, info.organization) == ("Verizon Wireless", 6167, "Verizon Wireless")
    assert info.mobile_carrier == "Verizon Wireless (310-004)"
    assert info.connection_type == "Cellular"
    assert (info.is_proxy, info.proxy_type) == (False, None)


def test_the_isp_db_wins_over_the_asn_db_and_names_no_carrier_for_fixed_lines(
    resolver: GeoResolver,
) -> None:
    info = resolver.lookup("1.128.0.1")  # ASN db: "Telstra Pty Ltd"; ISP db: "Telstra Internet"
    assert (info.asn, info.isp, info.organization) == (1221, "Telstra Internet", "Telstra Internet")
    assert info.mobile_carrier is None


@pytest.mark.parametrize(
    ("ip", "connection_type"),
    [("1.0.0.1", "Cable/DSL"), ("201.243.200.1", "Corporate"), ("214.78.120.1", "Satellite")],
)
def test_the_connection_type_db_fills_connection_type(
    resolver: GeoResolver, ip: str, connection_type: str
) -> None:
    assert resolver.lookup(ip).connection_type == connection_type


@pytest.mark.parametrize(
    ("ip", "proxy_type"),
    [
        (LONDON_IP, "tor"),  # every flag: the most specific wins
        ("6.1.0.1", "vpn"),
        ("6.1.0.3", "public_proxy"),
        ("6.1.0.4", "residential_proxy"),
        ("6.1.0.2", "hosting"),
        ("71.160.223.1", "hosting"),  # is_anonymous and hosting
    ],
)
def test_the_anonymous_ip_db_sets_the_proxy_flag_and_type(
    resolver: GeoResolver, ip: str, proxy_type: str
) -> None:
    info = resolver.lookup(ip)
    assert (info.is_proxy, info.proxy_type) == (True, proxy_type)


def test_anonymous_alone_is_a_proxy_of_type_anonymous_and_no_flag_is_none() -> None:
    only_anonymous = geoip2.models.AnonymousIP("1.2.3.4", is_anonymous=True)
    assert proxy_facts(only_anonymous) == {"is_proxy": True, "proxy_type": "anonymous"}
    assert proxy_facts(geoip2.models.AnonymousIP("1.2.3.4")) == {}


def test_one_cached_lookup_covers_every_database(resolver: GeoResolver) -> None:
    first = resolver.lookup(LONDON_IP)
    assert first.city == "London" and first.proxy_type == "tor"
    hits = resolver.cache_info().hits
    assert resolver.lookup(LONDON_IP) is first
    assert resolver.cache_info().hits == hits + 1


def test_network_dbs_alone_answer_and_unknown_addresses_give_nothing(testdata_dir: Path) -> None:
    with GeoResolver(None, None, **network_dbs(testdata_dir)) as geo:
        assert geo.lookup(VERIZON_IP).connection_type == "Cellular"
        assert geo.lookup("9.9.9.9") == GeoInfo()
        assert geo.lookup("10.0.0.1") == GeoInfo()  # private: never looked up


@pytest.mark.parametrize("setting", ["isp_db", "connection_type_db", "anonymous_ip_db"])
def test_a_database_of_the_wrong_type_fails_at_start_naming_the_file(
    testdata_dir: Path, geoip_city_db: str, setting: str
) -> None:
    with pytest.raises(ValueError, match=r"GeoIP2-City-Test\.mmdb"):
        GeoResolver(None, None, **{setting: geoip_city_db})


def test_the_settings_name_the_databases_by_flag_and_environment(testdata_dir: Path) -> None:
    paths = network_dbs(testdata_dir)
    environment = {f"CLICKTRAIL_{name.upper()}": path for name, path in paths.items()}
    from_environment = load_settings({}, environment)
    assert from_environment.isp_db == paths["isp_db"]
    assert from_environment.connection_type_db == paths["connection_type_db"]
    assert from_environment.anonymous_ip_db == paths["anonymous_ip_db"]
    assert load_settings({"isp_db": "/x/isp.mmdb"}, environment).isp_db == "/x/isp.mmdb"
    assert load_settings({}, {}).anonymous_ip_db is None


def _one_click(kit: Kit, click_id: str) -> dict[str, Any]:
    answer = kit.api(f"/clicks/{click_id}")
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_page_view_keeps_network_facts_and_accept_language(netkit: Kit) -> None:
    beacon = netkit.beacon()
    answer = netkit.collect(beacon, **{"x-forwarded-for": VERIZON_IP, "accept-language": LANGUAGES})
    assert answer.status_code == 204, answer.text
    click = _one_click(netkit, beacon["p"])
    assert click["accept_language"] == LANGUAGES and click["language"] == "en-GB"
    assert (click["geo"]["isp"], click["geo"]["asn"]) == ("Verizon Wireless", 6167)
    assert click["organization"] == "Verizon Wireless"
    assert click["mobile_carrier"] == "Verizon Wireless (310-004)"
    assert click["connection_type"] == "Cellular"
    assert (click["is_proxy"], click["proxy_type"]) == (False, None)


def test_a_short_link_click_keeps_proxy_facts_and_a_bounded_accept_language(netkit: Kit) -> None:
    link = make_link(netkit)
    long_header = "en-GB," + ",".join(f"x-{i:03d};q=0.1" for i in range(60))
    answer = follow(netkit, f"/g/{link['code']}", ip=LONDON_IP, **{"accept-language": long_header})
    click = _one_click(netkit, click_id_of(answer))
    assert click["trigger"] == "link" and click["geo"]["city"] == "London"
    assert (click["is_proxy"], click["proxy_type"]) == (True, "tor")
    assert click["accept_language"] == long_header[:256]
    assert click["language"] == "en-GB"


def test_without_the_databases_or_the_header_the_facts_are_empty(kit: Kit) -> None:
    link = make_link(kit)
    follow(kit, f"/g/{link['code']}", ip=VERIZON_IP)
    beacon = kit.beacon()
    assert kit.collect(beacon, **{"x-forwarded-for": LONDON_IP}).status_code == 204
    rows = clicks(kit)
    assert len(rows) == 2
    for click in rows:
        assert click["accept_language"] is None
        assert (click["organization"], click["connection_type"]) == (None, None)
        assert (click["mobile_carrier"], click["proxy_type"], click["is_proxy"]) == (
            None,
            None,
            False,
        )
