"""Network facts of an IP address from MaxMind's ISP, Connection-Type and Anonymous-IP databases.

Each database is optional and opened once (memory-mapped). :class:`NetworkDbs` answers the
fields of :class:`~collector.enrich.geo.GeoInfo` it knows for a canonical public address; the
:class:`~collector.enrich.geo.GeoResolver` calls it inside its cached lookup, so an address is
read from every database once per cache lifetime.

- ISP (``GeoIP2-ISP``): ``isp``, ``asn``, ``organization``, and ``mobile_carrier`` as
  ``"NAME (mcc-mnc)"`` when the network has a mobile country and network code.
- Connection-Type: ``connection_type`` (Dialup, Cable/DSL, Corporate, Cellular, Satellite).
- Anonymous-IP: ``is_proxy`` (any flag of the record) and ``proxy_type``, the first of
  :data:`PROXY_FLAGS` that is set.
"""

from __future__ import annotations

import contextlib
from typing import Any

import geoip2.database
import geoip2.errors
import geoip2.models
import maxminddb

LOOKUP_ERRORS = (
    geoip2.errors.AddressNotFoundError,
    maxminddb.InvalidDatabaseError,
    ValueError,  # also raised by a closed reader
    TypeError,
)

# proxy_type -> the Anonymous-IP record's flag, most specific first.
PROXY_FLAGS: tuple[tuple[str, str], ...] = (
    ("tor", "is_tor_exit_node"),
    ("vpn", "is_anonymous_vpn"),
    ("public_proxy", "is_public_proxy"),
    ("residential_proxy", "is_residential_proxy"),
    ("hosting", "is_hosting_provider"),
    ("anonymous", "is_anonymous"),
)


def open_mmdb(path: str, kinds: tuple[str, ...], role: str) -> tuple[geoip2.database.Reader, str]:
    """Open ``path`` and check that its database type contains one of ``kinds``."""
    reader = geoip2.database.Reader(path, mode=geoip2.database.MODE_AUTO)
    db_type = reader.metadata().database_type
    if not any(kind in db_type for kind in kinds):
        reader.close()
        raise ValueError(f"{path}: a {db_type} database cannot be used as the {role} database")
    return reader, db_type


def isp_facts(rec: geoip2.models.ISP) -> dict[str, Any]:
    """ISP, AS number, organisation and mobile carrier of an ISP record (None left out)."""
    name = rec.isp or rec.autonomous_system_organization
    carrier = None
    if name and rec.mobile_country_code and rec.mobile_network_code:
        carrier = f"{name} ({rec.mobile_country_code}-{rec.mobile_network_code})"
    fields = {
        "asn": rec.autonomous_system_number,
        "isp": name,
        "organization": rec.organization,
        "mobile_carrier": carrier,
    }
    return {k: v for k, v in fields.items() if v is not None}


def proxy_facts(rec: geoip2.models.AnonymousIP) -> dict[str, Any]:
    """``is_proxy`` and ``proxy_type`` of an Anonymous-IP record; empty when no flag is set."""
    kind = next((kind for kind, flag in PROXY_FLAGS if getattr(rec, flag)), None)
    return {} if kind is None else {"is_proxy": True, "proxy_type": kind}


class NetworkDbs:
    """The optional ISP, Connection-Type and Anonymous-IP databases. Raises ``ValueError`` (or
    ``OSError``) at construction for a missing or wrong-type file. Thread-safe."""

    def __init__(
        self,
        isp_db: str | None = None,
        connection_type_db: str | None = None,
        anonymous_ip_db: str | None = None,
    ) -> None:
        self._isp: geoip2.database.Reader | None = None
        self._connection: geoip2.database.Reader | None = None
        self._anonymous: geoip2.database.Reader | None = None
        try:
            if isp_db:
                self._isp = open_mmdb(isp_db, ("ISP",), "ISP")[0]
            if connection_type_db:
                self._connection = open_mmdb(
                    connection_type_db, ("Connection-Type",), "connection type"
                )[0]
            if anonymous_ip_db:
                self._anonymous = open_mmdb(anonymous_ip_db, ("Anonymous-IP",), "anonymous IP")[0]
        except Exception:
            self.close()
            raise

    @property
    def empty(self) -> bool:
        """Whether no database is configured."""
        return self._isp is None and self._connection is None and self._anonymous is None

    def facts(self, addr: str) -> dict[str, Any]:
        """The fields of GeoInfo the databases give for a canonical public address. Never
        raises."""
        fields: dict[str, Any] = {}
        for read in (self._isp_of, self._connection_of, self._proxy_of):
            with contextlib.suppress(*LOOKUP_ERRORS):
                fields.update(read(addr))
        return fields

    def _isp_of(self, addr: str) -> dict[str, Any]:
        return {} if self._isp is None else isp_facts(self._isp.isp(addr))

    def _connection_of(self, addr: str) -> dict[str, Any]:
        if self._connection is None:
            return {}
        kind = self._connection.connection_type(addr).connection_type
        return {} if kind is None else {"connection_type": kind}

    def _proxy_of(self, addr: str) -> dict[str, Any]:
        return {} if self._anonymous is None else proxy_facts(self._anonymous.anonymous_ip(addr))

    def close(self) -> None:
        """Close the databases; later lookups find nothing."""
        for reader in (self._isp, self._connection, self._anonymous):
            if reader is not None:
                reader.close()
        self._isp = self._connection = self._anonymous = None
