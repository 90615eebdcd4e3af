"""IP geolocation from MaxMind databases (GeoIP2/GeoLite2 City or Country, ASN or ISP), or
an ip-location-db City database such as DB-IP's City Lite (:mod:`collector.enrich.flatgeo`).

The databases are opened once (memory-mapped, through the C extension when it is installed)
and lookups are cached per address. A lookup never raises: an address that is missing, not
an IP, private, loopback or absent from the database gives an empty :class:`GeoInfo`.
"""

from __future__ import annotations

import functools
import ipaddress
from typing import Any

import geoip2.database
import geoip2.errors
import geoip2.models
import maxminddb
import msgspec

from collector.enrich.flatgeo import FlatCityDb, is_flat_city_db

CACHE_SIZE = 50_000

_LOOKUP_ERRORS = (
    geoip2.errors.AddressNotFoundError,
    maxminddb.InvalidDatabaseError,
    ValueError,  # also raised by a closed reader
    TypeError,
)


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


def _open(path: str, kinds: tuple[str, ...], role: str) -> tuple[geoip2.database.Reader, str]:
    """Open ``path`` and check that its database type contains one of ``kinds``."""
    reader = geoip2.database.Reader(path, mode=geoip2.database.MODE_AUTO)
    db_type = reader.metadata().database_type
    if not any(kind in db_type for kind in kinds):
        reader.close()
        raise ValueError(f"{path}: a {db_type} database cannot be used as the {role} database")
    return reader, db_type


class GeoResolver:
    """Looks IP addresses up in an optional location DB and an optional ASN/ISP DB.

    ``city_db``: a GeoIP2/GeoLite2 City (or Country, or Enterprise) ``.mmdb`` path, or an
    ip-location-db City one (DB-IP's City Lite: :attr:`geo_attribution` is then true).
    ``asn_db``: a GeoLite2-ASN or GeoIP2-ISP ``.mmdb`` path. Either may be ``None``.
    Raises ``ValueError`` (or ``OSError``) at construction for a missing or wrong-type file.
    Thread-safe.
    """

    def __init__(
        self, city_db: str | None, asn_db: str | None, cache_size: int = CACHE_SIZE
    ) -> None:
        self._city: geoip2.database.Reader | None = None
        self._asn: geoip2.database.Reader | None = None
        self._flat: FlatCityDb | None = None
        self._city_type = self._asn_type = ""
        if city_db and is_flat_city_db(city_db):
            self._flat = FlatCityDb(city_db)
            self._city_type = self._flat.database_type
        elif city_db:
            self._city, self._city_type = _open(city_db, ("City", "Country", "Enterprise"), "city")
        if asn_db:
            try:
                self._asn, self._asn_type = _open(asn_db, ("ASN", "ISP"), "ASN")
            except Exception:
                self.close()
                raise
        self._cached = functools.lru_cache(maxsize=cache_size)(self._lookup)
        self._by_text = functools.lru_cache(maxsize=cache_size)(self._lookup_text)

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
        if ip is None or (self._city is None and self._asn is None and self._flat is None):
            return EMPTY
        return self._by_text(ip)

    def _lookup_text(self, ip: str) -> GeoInfo:
        """:meth:`lookup` of a non-empty text, before the (cached) check of the address."""
        addr = _public_address(ip)
        return EMPTY if addr is None else self._cached(addr)

    def _lookup(self, addr: str) -> GeoInfo:
        """Uncached lookup of a canonical public address in both databases."""
        fields = {**self._location(addr), **self._network(addr)}
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
        except _LOOKUP_ERRORS:
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
        """Autonomous system number and ISP (the AS organisation for an ASN database)."""
        reader = self._asn
        if reader is None:
            return {}
        try:
            if "ISP" in self._asn_type:
                isp = reader.isp(addr)
                asn, name = isp.autonomous_system_number, isp.isp
                name = name or isp.autonomous_system_organization
            else:
                rec = reader.asn(addr)
                asn, name = rec.autonomous_system_number, rec.autonomous_system_organization
        except _LOOKUP_ERRORS:
            return {}
        fields = {"asn": asn, "isp": name}
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
        if self._flat is not None:
            self._flat.close()
            self._flat = None
        if hasattr(self, "_cached"):
            self._cached.cache_clear()

    def __enter__(self) -> GeoResolver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
