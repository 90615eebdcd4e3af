"""SQLite storage engine (the embedded default): one module per domain, beside the same modules
of the ClickHouse engine (``storage/clickhouse/``), so the two dialects read side by side.

- ``connection.py``: connections per thread, write transactions, durability, migrate / close
- ``schema.py``: the migrations; DDL of ``clicks`` and ``events`` from the column declaration
- ``brands.py``: brands, API keys, domains, secrets
- ``clicks.py``: clicks and events: write_batch, sessions, the clicks list and its totals
- ``links.py``: short links and the codes nobody answers
- ``conversions.py``: leads and sales (written by write_batch)
- ``analytics.py``: the events and analytics API, on compiler queries
- ``users.py``: dashboard users, their sign-in sessions, API keys' last use and revocation
- ``sessions.py``: sessions made of page views, on compiler queries
- ``stream.py``: the raw clicks stream, pages by (created_at, id) and visitors' history
- ``replays.py``: replay chunks, summaries, compacted segments, dictionaries, asset links
- ``heatmaps.py``: click maps and scroll depth per page URL
- ``deletion.py``: deleting a visitor on request (issue 16)
- ``exports.py``: CSV export jobs and the keyset pages of clicks they write
- ``webhooks.py``: clickstream destinations, their delivery log, the outbox and its cursors
  (``outbox.py``: the outbox's SQL, also run on a ClickHouse collector's local outbox file)

A new domain (links, conversions, an outbox) is a module here with a mixin on
:class:`~.connection.SQLiteBase`, the same module in ``storage/clickhouse/``, and a protocol in
``storage/base.py``; :class:`SQLiteStore` lists the mixin.
"""

from __future__ import annotations

from .analytics import AnalyticsMixin
from .brands import BrandsMixin
from .clicks import ClicksMixin
from .conversions import ConversionsMixin
from .deletion import DeletionMixin
from .explorer import ExplorerMixin
from .exports import ExportsMixin
from .heatmaps import HeatmapsMixin
from .links import LinksMixin
from .replays import ReplaysMixin
from .schema import SCHEMA_VERSION
from .sessions import SessionsMixin
from .stream import StreamMixin
from .users import UsersMixin
from .webhooks import WebhooksMixin

__all__ = ["SCHEMA_VERSION", "SQLiteStore"]


class SQLiteStore(
    BrandsMixin,
    ClicksMixin,
    LinksMixin,
    ConversionsMixin,
    AnalyticsMixin,
    ReplaysMixin,
    SessionsMixin,
    UsersMixin,
    WebhooksMixin,
    StreamMixin,
    ExportsMixin,
    ExplorerMixin,
    HeatmapsMixin,
    DeletionMixin,
):
    """The :class:`~collector.storage.base.Store` on one SQLite file."""
