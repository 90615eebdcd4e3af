"""SQLite: short links and the codes nobody answers.

``(domain, code)`` is a unique index; a generated code is also checked against every domain inside
the same write transaction, so two links never share a generated code. Deleted links stay as rows
(``deleted = 1``): their code is never handed out again, so a printed QR code cannot start
pointing somewhere new.
"""

from __future__ import annotations

from typing import Any

from ..columns import RowCodec
from ..model import LinkQuery, ShortLink
from ..rows import event_data, json_text
from .connection import SQLiteBase

LINK_ROWS: RowCodec[ShortLink] = RowCodec(
    ShortLink, encode={"json": json_text}, decode={"json": event_data, "bool": bool}
)
_COLUMNS = ", ".join(f'"{name}"' for name in LINK_ROWS.names)
_SELECT = f"SELECT {_COLUMNS} FROM links"
_INSERT = f"INSERT INTO links ({_COLUMNS}) VALUES ({', '.join('?' for _ in LINK_ROWS.names)})"
_REPLACE = (
    f"INSERT OR REPLACE INTO links ({_COLUMNS}) VALUES ({', '.join('?' for _ in LINK_ROWS.names)})"
)
_ADD_MISS = (
    "INSERT INTO link_misses (brand_id, code, n, last_at) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (brand_id, code) DO UPDATE SET n = n + excluded.n,"
    " last_at = max(last_at, excluded.last_at)"
)


def read_link(row: Any) -> ShortLink:
    link = LINK_ROWS.read(row)
    if not isinstance(link.tags, list):
        link.tags = []
    return link


def _list_filters(brand_id: int, query: LinkQuery) -> tuple[str, list[Any]]:
    where = ["brand_id = ?", "deleted = 0"]
    args: list[Any] = [brand_id]
    for column in ("folder", "tenant_id", "external_id", "group_id", "partner_id"):
        value = getattr(query, column)
        if value is not None:
            where.append(f"{column} = ?")
            args.append(value)
    if query.tag is not None:
        where.append("EXISTS (SELECT 1 FROM json_each(links.tags) WHERE value = ?)")
        args.append(query.tag)
    if query.search:
        where.append(
            "(instr(lower(code), lower(?)) > 0 OR instr(lower(destination_url), lower(?)) > 0)"
        )
        args += [query.search, query.search]
    return " AND ".join(where), args


class LinksMixin(SQLiteBase):
    """:class:`~collector.storage.base.LinkStore` on SQLite."""

    def add_link(self, link: ShortLink, *, unique_everywhere: bool) -> bool:
        with self._write() as conn:
            if unique_everywhere:
                taken = conn.execute("SELECT 1 FROM links WHERE code = ?", (link.code,)).fetchone()
            else:
                taken = conn.execute(
                    "SELECT 1 FROM links WHERE domain = ? AND code = ?", (link.domain, link.code)
                ).fetchone()
            if taken:
                return False
            conn.execute(_INSERT, LINK_ROWS.row(link))
        return True

    def get_link(self, brand_id: int, link_id: str) -> ShortLink | None:
        row = self._one(
            f"{_SELECT} WHERE brand_id = ? AND id = ? AND deleted = 0", (brand_id, link_id)
        )
        return read_link(row) if row else None

    def links_by_code(self, code: str) -> list[ShortLink]:
        return [read_link(row) for row in self._all(f"{_SELECT} WHERE code = ?", (code,))]

    def list_links(self, brand_id: int, query: LinkQuery) -> tuple[int, list[ShortLink]]:
        where, args = _list_filters(brand_id, query)
        total = self._one(f"SELECT count(*) FROM links WHERE {where}", args)[0]
        rows = self._all(
            f"{_SELECT} WHERE {where} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
            [*args, query.limit, query.offset],
        )
        return total, [read_link(row) for row in rows]

    def save_link(self, link: ShortLink) -> None:
        with self._write() as conn:
            conn.execute(_REPLACE, LINK_ROWS.row(link))

    def link_clicks(self, brand_id: int, link_ids: list[str]) -> dict[str, tuple[int, int]]:
        if not link_ids:
            return {}
        rows = self._all(
            "SELECT link_id, count(*), sum(\"trigger\" = 'qr') FROM clicks"
            " WHERE brand_id = ? AND link_id IN (SELECT value FROM json_each(?))"
            " AND \"trigger\" IN ('link', 'qr') GROUP BY link_id",
            (brand_id, json_text(link_ids)),
        )
        return {link_id: (int(n), int(qr or 0)) for link_id, n, qr in rows}

    def links_by_id(self, brand_id: int, link_ids: list[str]) -> dict[str, ShortLink]:
        if not link_ids:
            return {}
        rows = self._all(  # +brand_id: look each id up, not the brand's links in order
            f"{_SELECT} WHERE +brand_id = ? AND id IN (SELECT value FROM json_each(?))",
            (brand_id, json_text(sorted(set(link_ids)))),
        )
        return {link.id: link for link in map(read_link, rows)}

    def count_link_misses(self, misses: dict[tuple[int, str], int], now: int) -> None:
        if not misses:
            return
        with self._write() as conn:
            conn.executemany(_ADD_MISS, [(b, code, n, now) for (b, code), n in misses.items()])

    def link_misses(self, brand_id: int, limit: int) -> list[tuple[str, int, int]]:
        rows = self._all(
            "SELECT code, n, last_at FROM link_misses WHERE brand_id = ?"
            " ORDER BY n DESC, last_at DESC, code LIMIT ?",
            (brand_id, limit),
        )
        return [(code, int(n), int(last_at)) for code, n, last_at in rows]
