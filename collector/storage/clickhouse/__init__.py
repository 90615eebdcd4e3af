"""ClickHouse storage engine through clickhouse-connect: a server (``clickhouse://``) or the
embedded chDB engine (``chdb://``, registered with clickhouse-connect when ``chdb`` is installed).
One module per domain, beside the same modules of the SQLite engine (``storage/sqlite/``), so
the two dialects read side by side:

- ``connection.py``: URLs, the shared client, queries and inserts, times, migrate / close
- ``schema.py``: the migrations; DDL of ``clicks`` and ``events`` from the column declaration
- ``brands.py``: brands, API keys, domains, secrets
- ``clicks.py``: clicks and events: write_batch, sessions, the clicks list (late materialisation)
- ``links.py``: short links and the codes nobody answers
- ``conversions.py``: leads and sales (written by write_batch)
- ``analytics.py``: the events and analytics API, on compiler queries
- ``users.py``: dashboard users, their sign-in sessions, API keys' last use and revocation
- ``sessions.py``: sessions made of page views, on compiler queries
- ``stream.py``: the raw clicks stream, pages by (created_at, id) and visitors' history
- ``replays.py``: replay chunks, compacted segment generations, dictionaries, asset links
- ``heatmaps.py``: click maps and scroll depth per page URL
- ``deletion.py``: deleting a visitor on request (issue 16)
- ``exports.py``: CSV export jobs and the keyset pages of clicks they write
- ``webhooks.py``: clickstream destinations and their delivery log; the outbox and its cursors
  in a local SQLite file (``outbox.py``)

All tables live in one database, ``clicktrail`` unless the URL names another;
``schema_version`` holds one row per applied migration. A new domain (links, conversions, an
outbox) is a module here with a mixin on :class:`~.connection.ClickHouseBase`, the same module in
``storage/sqlite/``, and a protocol in ``storage/base.py``; :class:`ClickHouseStore` lists the
mixin.
"""

from __future__ import annotations

from .analytics import AnalyticsMixin
from .brands import BrandsMixin, domain_id
from .clicks import ClicksMixin
from .connection import DEFAULT_DATABASE, split_url
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

__all__ = ["DEFAULT_DATABASE", "SCHEMA_VERSION", "ClickHouseStore", "domain_id", "split_url"]


class ClickHouseStore(
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
    """The :class:`~collector.storage.base.Store` on a ClickHouse database."""
