"""IP geolocation from MaxMind databases (GeoIP2/GeoLite2 City or Country, ASN or ISP), or
an ip-location-db City database such as DB-IP's City Lite (:mod:`collector.enrich.flatgeo`),
plus the network facts of MaxMind's ISP, Connection-Type and Anonymous-IP databases
(:mod:`collector.enrich.network`).

The databases are opened once (memory-mapped, through the C extension when it is installed)
and lookups are cached per address. A lookup never raises: an address that is missing, not
an IP, private, loopback or absent from the database gives an empty :class:`GeoInfo`.
"""

from __future__ import annotations

import functools
import ipaddress
from typing import TYPE_CHECKING, Any

import geoip2.database
import geoip2.models
import msgspec

from collector.enrich.flatgeo import FlatCityDb, is_flat_city_db
from collector.enrich.network import LOOKUP_ERRORS, NetworkDbs, isp_facts, open_mmdb

if TYPE_CHECKING:
    from collector.config import Settings

CACHE_SIZE = 50_000


class GeoInfo(msgspec.Struct, frozen=True):
    """Where an IP address is. ``region`` is the ISO 3166-2 subdivision code without the
    country prefix (``"ENG"``), ``continent`` the two-letter code (``"EU"``)."""

    country: str | None = None
    region: str | None = None
    city: str | None = None
    zip: str | None = None
    lat: float | None = None
    lon: float | None = None
    time_zone: str | None = None
    continent: str | None = None
    asn: int | None = None
    isp: str | None = None
    # from the ISP, Connection-Type and Anonymous-IP databases (collector.enrich.network)
    organization: str | None = None
    connection_type: str | None = None
    mobile_carrier: str | None = None
    is_proxy: bool = False
    proxy_type: str | None = None


EMPTY = GeoInfo()


def _public_address(ip: str | None) -> str | None:
    """The canonical text of ``ip`` if it is a valid, globally routable address, else ``None``.
    IPv4-mapped IPv6 addresses (``::ffff:1.2.3.4``) become plain IPv4."""
    if not ip:
        return None
    try:
        addr = ipaddress.ip_address(ip.strip())
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    if not addr.is_global or addr.is_multicast:
        return None
    return str(addr)


class GeoResolver:
    """Looks IP addresses up in an optional location DB, an optional ASN/ISP DB and the
    optional network databases, one cached lookup per address for all of them.

    ``city_db``: a GeoIP2/GeoLite2 City (or Country, or Enterprise) ``.mmdb`` path, or an
    ip-location-db City one (DB-IP's City Lite: :attr:`geo_attribution` is then true).
    ``asn_db``: a GeoLite2-ASN or GeoIP2-ISP ``.mmdb`` path. ``isp_db``,
    ``connection_type_db``, ``anonymous_ip_db``: MaxMind's network databases
    (:class:`~collector.enrich.network.NetworkDbs`; an ISP one wins over ``asn_db``).
    Any may be ``None``. Raises ``ValueError`` (or ``OSError``) at construction for a missing
    or wrong-type file. Thread-safe.
    """

    @classmethod
    def from_settings(cls, settings: Settings) -> GeoResolver:
        """The resolver of the databases ``settings`` names (the collector's and its
        enrichment processes')."""
        return cls(
            settings.geoip_db,
            settings.asn_db,
            isp_db=settings.isp_db,
            connection_type_db=settings.connection_type_db,
            anonymous_ip_db=settings.anonymous_ip_db,
        )

    def __init__(
        self,
        city_db: str | None,
        asn_db: str | None,
        cache_size: int = CACHE_SIZE,
        *,
        isp_db: str | None = None,
        connection_type_db: str | None = None,
        anonymous_ip_db: str | None = None,
    ) -> None:
        self._city: geoip2.database.Reader | None = None
        self._asn: geoip2.database.Reader | None = None
        self._flat: FlatCityDb | None = None
        self._net = NetworkDbs()
        self._city_type = self._asn_type = ""
        try:
            self._open_location(city_db)
            if asn_db:
                self._asn, self._asn_type = open_mmdb(asn_db, ("ASN", "ISP"), "ASN")
            self._net = NetworkDbs(isp_db, connection_type_db, anonymous_ip_db)
        except Exception:
            self.close()
            raise
        self._cached = functools.lru_cache(maxsize=cache_size)(self._lookup)
        self._by_text = functools.lru_cache(maxsize=cache_size)(self._lookup_text)

    def _open_location(self, city_db: str | None) -> None:
        if city_db and is_flat_city_db(city_db):
            self._flat = FlatCityDb(city_db)
            self._city_type = self._flat.database_type
        elif city_db:
            kinds = ("City", "Country", "Enterprise")
            self._city, self._city_type = open_mmdb(city_db, kinds, "city")

    @property
    def database_types(self) -> tuple[str, str]:
        """The ``database_type`` of the location and ASN databases ("" when not configured)."""
        return self._city_type, self._asn_type

    @property
    def geo_attribution(self) -> bool:
        """Whether the location database is DB-IP's, whose licence (CC BY 4.0) asks pages that
        show its results for a link back to DB-IP.com (the dashboard's footer)."""
        return self._flat is not None and self._flat.is_dbip

    def lookup(self, ip: str | None) -> GeoInfo:
        """Geo and network data for ``ip``; empty for ``None``, junk, non-public or unknown
        addresses. Never raises."""
        if ip is None or (
            self._city is None and self._asn is None and self._flat is None and self._net.empty
        ):
            return EMPTY
        return self._by_text(ip)

    def _lookup_text(self, ip: str) -> GeoInfo:
        """:meth:`lookup` of a non-empty text, before the (cached) check of the address."""
        addr = _public_address(ip)
        return EMPTY if addr is None else self._cached(addr)

    def _lookup(self, addr: str) -> GeoInfo:
        """Uncached lookup of a canonical public address in every database."""
        # the ISP database's isp and asn win over the ASN database's where it has them
        fields = {**self._location(addr), **self._network(addr), **self._net.facts(addr)}
        return GeoInfo(**fields) if fields else EMPTY

    def _location(self, addr: str) -> dict[str, Any]:
        """Country, region, city, postal code, coordinates, time zone and continent."""
        if self._flat is not None:
            return self._flat.location(addr)
        reader = self._city
        if reader is None:
            return {}
        try:
            if "City" in self._city_type:
                rec: geoip2.models.Country = reader.city(addr)
            elif "Enterprise" in self._city_type:
                rec = reader.enterprise(addr)
            else:
                rec = reader.country(addr)
        except LOOKUP_ERRORS:
            return {}
        fields: dict[str, Any] = {
            "country": rec.country.iso_code,
            "continent": rec.continent.code,
        }
        if isinstance(rec, geoip2.models.City):  # City and Enterprise records
            fields.update(
                region=rec.subdivisions[0].iso_code if rec.subdivisions else None,
                city=rec.city.name,
                zip=rec.postal.code,
                lat=rec.location.latitude,
                lon=rec.location.longitude,
                time_zone=rec.location.time_zone,
            )
        return {k: v for k, v in fields.items() if v is not None}

    def _network(self, addr: str) -> dict[str, Any]:
        """Autonomous system number and ISP (the AS organisation for an ASN database; with an
        ISP database also the organisation and mobile carrier)."""
        reader = self._asn
        if reader is None:
            return {}
        try:
            if "ISP" in self._asn_type:
                return isp_facts(reader.isp(addr))
            rec = reader.asn(addr)
        except LOOKUP_ERRORS:
            return {}
        fields = {"asn": rec.autonomous_system_number, "isp": rec.autonomous_system_organization}
        return {k: v for k, v in fields.items() if v is not None}

    def cache_info(self) -> functools._CacheInfo:
        """Hit and miss counts of the lookup cache."""
        return self._by_text.cache_info()

    def close(self) -> None:
        """Close the databases; later lookups return an empty :class:`GeoInfo`."""
        for reader in (self._city, self._asn):
            if reader is not None:
                reader.close()
        self._city = self._asn = None
        self._net.close()
        if self._flat is not None:
            self._flat.close()
            self._flat = None
        if hasattr(self, "_cached"):
            self._cached.cache_clear()

    def __enter__(self) -> GeoResolver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
