"""The export's fast path (issue 14): each engine's statement writes a click's CSV line itself
(``Store.export_csv``). On both engines, the bytes must be exactly what Python's csv module
writes for the same cells (minimal quoting, CR LF), with formula starts neutralised, times,
booleans, numbers and the query map as the API shows them, and paging by key losing and
repeating nothing."""

from __future__ import annotations

import csv
import io
from typing import Any

from collector.exports.csvfile import EXPORT_COLUMNS, safe_text
from collector.http.params import iso
from collector.storage.base import ClickQuery, Store
from collector.storage.model import Click
from collector.storage.rows import json_text

AT = 1_733_821_200_123  # 2024-12-10T09:00:00.123Z
TEXTS = [
    '=HYPERLINK("http://x")', "+1", "-2", "@x", "\tx", "\rx", "a,b", 'q"uote', "line\nbreak",
    "cr\r", "", " lead", "ünïcødé", "-", '=a,b"c', "a=b", "plain",
]  # fmt: skip


def _clicks(brand_id: int) -> list[Click]:
    clicks = []
    for n, text in enumerate(TEXTS):
        clicks.append(
            Click(
                id=f"c{n:03d}",
                brand_id=brand_id,
                session_id=f"s{n}",
                visitor_id="v",
                created_at=AT + n * 1001,
                url=f"https://shop.example/?a={text}",
                sub1=text,
                sub2=None if n % 2 else text,
                query={"k": text, "x": "1"} if n % 3 else {},
                lat=None if n % 4 == 0 else -12.3456 + n / 7,
                lon=52.0 if n % 2 else 51.642857142857146,
                asn=None if n % 2 else -n,
                is_bot=n % 2 == 1,
                is_repeat=n % 3 == 1,
            )
        )
    return clicks


def _cell(click: Click, name: str) -> Any:
    """The cell as the csv-module path wrote it (None is an empty cell)."""
    value = getattr(click, name)
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if name == "created_at":
        return iso(value)
    if name == "query":
        return safe_text(json_text(value))
    return safe_text(value) if isinstance(value, str) else value


def _expected(clicks: list[Click], columns: tuple[str, ...]) -> bytes:
    text = io.StringIO(newline="")
    csv.writer(text).writerows([[_cell(c, name) for name in columns] for c in clicks])
    return text.getvalue().encode()


def _export(store: Store, brand_id: int, columns: tuple[str, ...], direction: str, page: int):
    query = ClickQuery(sort="created_at", direction=direction)  # type: ignore[arg-type]
    lines, after, pages = b"", None, 0
    while True:
        found, rows, after = store.export_csv(brand_id, query, columns, after, page)
        lines += found
        pages += 1
        assert rows <= page
        if after is None:
            return lines, pages


def test_lines_are_the_csv_modules_cells_on_each_engine(store: Store):
    brand_id = 7
    clicks = _clicks(brand_id)
    store.write_batch(clicks, [])
    ascending = sorted(clicks, key=lambda c: c.created_at)
    for columns in (EXPORT_COLUMNS, ("sub1",), ("sub2",), ("query", "lat", "lon", "is_repeat")):
        for direction, ordered in (("asc", ascending), ("desc", ascending[::-1])):
            lines, _ = _export(store, brand_id, columns, direction, 1000)
            assert lines == _expected(ordered, columns), (columns, direction)
    table = list(
        csv.reader(io.StringIO(_export(store, brand_id, ("sub1",), "asc", 100)[0].decode()))
    )
    assert [row[0] for row in table] == [safe_text(text) for text in TEXTS]
    assert table[0][0] == "'" + TEXTS[0] and table[10] == [""]  # a lone empty cell is ""


def test_pages_by_key_lose_and_repeat_nothing(store: Store):
    brand_id = 7
    clicks = _clicks(brand_id)
    store.write_batch(clicks, [])
    for page in (1, 2, 5, len(clicks), len(clicks) + 1):
        lines, pages = _export(store, brand_id, ("id",), "desc", page)
        ids = lines.decode().split("\r\n")[:-1]
        assert ids == [c.id for c in sorted(clicks, key=lambda c: -c.created_at)], page
        assert pages >= len(clicks) // page
