"""ClickHouse: short links and the codes nobody answers.

- ``links``: ``ReplacingMergeTree(updated_at) ORDER BY (brand_id, id)``. Every
  :meth:`LinksMixin.save_link` inserts a new version of the row; reads use ``FINAL``, which keeps
  the version with the highest ``updated_at`` (of equal ones, the last inserted), and filter after
  it (a deleted version hides the link even while older versions are not merged away). The table
  is small (one row per link), so ``FINAL`` costs little; a link's brand, id and code never
  change, so the sort key and the bloom filter on ``code`` (``links_by_code``, the redirect's
  lookup) see every version of a link alike.
- ``link_misses``: ``AggregatingMergeTree ORDER BY (brand_id, code)``, ``n`` a
  ``SimpleAggregateFunction(sum)`` and ``last_at`` one of ``max``: each count adds a row, merges
  fold them, reads ``GROUP BY`` the code.

Unique codes without a unique key: :meth:`LinksMixin.add_link` checks whether the code is taken
and inserts under the store's write lock, so one collector never stores a code twice. Two
collector processes on one database creating the same code at the same instant could both
succeed: generated codes are 7 characters of 62 (3.5e12 values), so that is practically
impossible for them; custom codes are rare and chosen by hand. Deleted links stay as rows, so
their code is never handed out again.
"""

from __future__ import annotations

from typing import Any

from ..columns import RowCodec
from ..model import LinkQuery, ShortLink
from ..rows import event_data, json_text, text
from .connection import ClickHouseBase

LINK_ROWS: RowCodec[ShortLink] = RowCodec(
    ShortLink, encode={"json": json_text}, decode={"text": text, "json": event_data}
)
_SELECT = "SELECT " + ", ".join(f"`{name}`" for name in LINK_ROWS.names) + " FROM {db}.links FINAL"


def read_link(row: Any) -> ShortLink:
    link = LINK_ROWS.read(row)
    if not isinstance(link.tags, list):
        link.tags = []
    return link


def _list_filters(brand_id: int, query: LinkQuery) -> tuple[str, dict[str, Any]]:
    """The WHERE of ``list_links`` (applied after FINAL) and its parameters."""
    where = ["brand_id = {brand:UInt64}", "NOT deleted"]
    params: dict[str, Any] = {"brand": brand_id}
    for column in ("folder", "tenant_id", "external_id", "group_id", "partner_id"):
        value = getattr(query, column)
        if value is not None:
            where.append(f"{column} = {{{column}:String}}")
            params[column] = value
    if query.tag is not None:
        where.append("has(JSONExtract(tags, 'Array(String)'), {tag:String})")
        params["tag"] = query.tag
    if query.search:
        where.append(
            "(positionCaseInsensitiveUTF8(code, {search:String}) > 0"
            " OR positionCaseInsensitiveUTF8(destination_url, {search:String}) > 0)"
        )
        params["search"] = query.search
    return " AND ".join(where), params


class LinksMixin(ClickHouseBase):
    """:class:`~collector.storage.base.LinkStore` on ClickHouse."""

    def add_link(self, link: ShortLink, *, unique_everywhere: bool) -> bool:
        # Any version of a link holds its code: no FINAL needed to find it taken.
        where = "code = {code:String}"
        if not unique_everywhere:
            where += " AND domain = {domain:String}"
        with self._lock:
            taken = self._rows(
                f"SELECT 1 FROM {{db}}.links WHERE {where} LIMIT 1",
                {"code": link.code, "domain": link.domain},
            )
            if taken:
                return False
            self._insert("links", LINK_ROWS.names, [LINK_ROWS.row(link)])
        return True

    def get_link(self, brand_id: int, link_id: str) -> ShortLink | None:
        rows = self._text_rows(
            f"{_SELECT} WHERE brand_id = {{brand:UInt64}} AND id = {{id:String}} AND NOT deleted",
            {"brand": brand_id, "id": link_id},
        )
        return read_link(rows[0]) if rows else None

    def links_by_code(self, code: str) -> list[ShortLink]:
        rows = self._text_rows(f"{_SELECT} WHERE code = {{code:String}}", {"code": code})
        return [read_link(row) for row in rows]

    def list_links(self, brand_id: int, query: LinkQuery) -> tuple[int, list[ShortLink]]:
        where, params = _list_filters(brand_id, query)
        counted = self._rows(f"SELECT count() FROM {{db}}.links FINAL WHERE {where}", params)
        total = int(counted[0][0])
        limit = max(0, int(query.limit))
        if total == 0 or limit == 0:
            return total, []
        rows = self._text_rows(
            f"{_SELECT} WHERE {where} ORDER BY created_at DESC, id DESC"
            " LIMIT {limit:UInt64} OFFSET {offset:UInt64}",
            {**params, "limit": limit, "offset": max(0, int(query.offset))},
        )
        return total, [read_link(row) for row in rows]

    def save_link(self, link: ShortLink) -> None:
        # A new version: FINAL shows it instead of the stored one (same sort key, newer or
        # equal updated_at, inserted last).
        with self._lock:
            self._insert("links", LINK_ROWS.names, [LINK_ROWS.row(link)])

    def link_clicks(self, brand_id: int, link_ids: list[str]) -> dict[str, tuple[int, int]]:
        if not link_ids:
            return {}
        # Distinct click ids: a click stored twice by two collectors at once counts once.
        rows = self._rows(
            "SELECT link_id, uniqExact(id), uniqExactIf(id, `trigger` = 'qr') FROM {db}.clicks"
            " WHERE brand_id = {brand:UInt64} AND link_id IN {ids:Array(String)}"
            " AND `trigger` IN ('link', 'qr') GROUP BY link_id",
            {"brand": brand_id, "ids": list(link_ids)},
        )
        return {link_id: (int(n), int(qr)) for link_id, n, qr in rows}

    def links_by_id(self, brand_id: int, link_ids: list[str]) -> dict[str, ShortLink]:
        if not link_ids:
            return {}
        rows = self._text_rows(
            f"{_SELECT} WHERE brand_id = {{brand:UInt64}} AND id IN {{ids:Array(String)}}",
            {"brand": brand_id, "ids": sorted(set(link_ids))},
        )
        return {link.id: link for link in map(read_link, rows)}

    def count_link_misses(self, misses: dict[tuple[int, str], int], now: int) -> None:
        if not misses:
            return
        self._insert(
            "link_misses",
            ("brand_id", "code", "n", "last_at"),
            [(brand, code, n, now) for (brand, code), n in misses.items()],
        )

    def link_misses(self, brand_id: int, limit: int) -> list[tuple[str, int, int]]:
        rows = self._text_rows(
            "SELECT code, sum(n) AS requests, max(last_at) AS last FROM {db}.link_misses"
            " WHERE brand_id = {brand:UInt64} GROUP BY code"
            " ORDER BY requests DESC, last DESC, code LIMIT {limit:UInt64}",
            {"brand": brand_id, "limit": max(0, int(limit))},
        )
        return [(text(code) or "", int(n), int(last)) for code, n, last in rows]
