"""The collector's services, each declared once, after the services it needs.

:class:`Runtime` builds them in the order :meth:`Runtime._declare` lists them, so a service can
only be given what is declared above it. Background workers are registered where they are declared
(:meth:`Runtime._worker`, :meth:`Runtime._thread_worker`), closable resources with
:meth:`Runtime._closes`; :meth:`Runtime.start` starts the workers in that order and
:meth:`Runtime.stop` stops and closes everything in reverse. A new background worker (a webhook
dispatcher, an export runner, a purger) is one line in ``_declare``.

``create_app`` runs :meth:`Runtime.running` as the app's lifespan. Route modules reach the
services through :func:`collector.http.state.runtime`.
"""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

import anyio

from collector.brands.cache import BrandCache
from collector.config import Settings
from collector.control import ControlServer
from collector.enrich.geo import GeoResolver
from collector.enrich.netaddr import parse_trusted_proxies
from collector.exports.runner import ExportRunner
from collector.http.auth import KeyChecker
from collector.inbox.enricher import Enricher
from collector.inbox.log import InboxLog, inbox_path
from collector.inbox.process import ProcessEnricher
from collector.ingest.collect import Ingestor
from collector.ingest.writer import Writer
from collector.links.misses import MissCounter
from collector.links.redirect import Redirector
from collector.ratelimit.budgets import Budgets
from collector.replay.assets import AssetCollector, AssetFetcher, AssetStore
from collector.replay.budget import InflightBudget, tune_malloc
from collector.replay.collect import ReplayIngestor
from collector.replay.compaction import Compactor
from collector.replay.proxy import ReplayProxy
from collector.replay.share import ShareSigner
from collector.retention.purger import Purger
from collector.storage import open_store
from collector.storage.base import Store
from collector.webhooks.announce import ExportAnnouncer
from collector.webhooks.delivery import Sender
from collector.webhooks.dispatcher import Dispatcher
from collector.webhooks.feed import ClickstreamFeed

log = logging.getLogger("clicktrail")

ASSET_FETCH_TIMEOUT_S = 10.0
ASSET_STOP_TIMEOUT_S = 5.0  # queued asset fetches may finish for this long at shutdown
WEBHOOK_STOP_TIMEOUT_S = 10.0  # the dispatcher sends what waits for this long at shutdown


class Worker(Protocol):
    """A background service that runs on the event loop."""

    def start(self) -> None: ...

    async def stop(self) -> None: ...


class ThreadWorker(Protocol):
    """A background service that runs in threads of its own; ``stop`` blocks until they end."""

    def start(self) -> None: ...

    def stop(self, timeout: float) -> object: ...


_W = TypeVar("_W", bound=Worker)
_T = TypeVar("_T", bound=ThreadWorker)


@dataclass
class _Step:
    """One declared service's part in starting and stopping."""

    name: str
    stop: Callable[[], Awaitable[None]]
    start: Callable[[], None] | None = None  # a worker's; a resource is open once declared
    close: Callable[[], object] | None = None  # a resource's, also run when the build fails
    running: bool = False  # a worker started and not stopped yet


class Runtime:
    """Every service of one collector, typed. Build it on the event loop (some services bind
    to it); :meth:`running` builds one (opening the store unless given one), starts the
    workers and stops them afterwards."""

    def __init__(self, settings: Settings, store: Store, *, owns_store: bool = False) -> None:
        self._steps: list[_Step] = []
        try:
            self._declare(settings, store, owns_store)
        except BaseException:
            self._close_now()
            raise

    def _declare(self, settings: Settings, store: Store, owns_store: bool) -> None:
        """Every service, each after what it needs, with its part in starting and stopping."""
        self.settings = settings
        self.store = store
        if owns_store:
            self._closes("store", store.close)
        self.geo = GeoResolver.from_settings(settings)
        self._closes("geo", self.geo.close)
        self.brands = BrandCache(store)
        self.share = ShareSigner(store.secret("share"))
        self.budgets = Budgets(api_per_minute=settings.api_rate_limit)
        self.keys = KeyChecker(store, share=self.share, budgets=self.budgets)
        # chDB: the commands run beside this collector reach its store here (collector/control.py)
        control = ControlServer.for_store(store, after={"revoke_api_key": self._forget_key})
        if control is not None:
            self._thread_worker("control", control, stop_timeout=5.0)

        self.webhook_networks = parse_trusted_proxies(settings.webhook_networks)
        if settings.webhook_outbox and hasattr(store, "outbox_path"):
            store.outbox_path = settings.webhook_outbox  # a ClickHouse collector's local outbox
        self.feed = ClickstreamFeed(store, self.brands)
        # Declared before the writer, so it stops after it (stop runs in reverse): the writer
        # commits what is queued, then the dispatcher drains, with those last items too.
        self.webhooks = self._thread_worker(
            "webhooks",
            Dispatcher(
                store,
                self.feed.wakeup,
                Sender(self.webhook_networks),
                settings.webhook_retry_schedule,
                on_change=self.feed.invalidate,
            ),
            stop_timeout=WEBHOOK_STOP_TIMEOUT_S,
        )
        self.writer = self._worker(
            "writer", Writer(store, settings.writer_max_batch, feed=self.feed)
        )
        self.ingestor = Ingestor(
            store=store,
            writer=self.writer,
            brands=self.brands,
            geo=self.geo,
            trusted_proxies=parse_trusted_proxies(settings.trusted_proxies),
            max_body_bytes=settings.max_body_bytes,
            budgets=self.budgets,
        )
        # Declared after the writer and stopped before it: the enricher drains into the writer.
        self.inbox = self._worker(
            "inbox", InboxLog(inbox_path(settings, store), settings.inbox_full_sync)
        )
        self.ingestor.inbox = self.inbox
        self.enricher = self._worker("enricher", self._enricher(settings, store))
        self.link_misses = self._worker("link-misses", MissCounter(store))
        self.redirector = Redirector(self.ingestor, self.link_misses)

        self.asset_store = AssetStore(Path(settings.replay_assets_dir))
        self.asset_fetcher = AssetFetcher(
            self.asset_store,
            allowed_networks=parse_trusted_proxies(settings.replay_asset_networks),
            max_bytes=settings.replay_asset_max_bytes,
            timeout_s=ASSET_FETCH_TIMEOUT_S,
        )
        self.replay_proxy = ReplayProxy(store, self.brands, self.asset_fetcher, self.asset_store)
        self.assets = self._thread_worker(
            "assets",
            AssetCollector(
                self.asset_fetcher, store.link_replay_assets, wanted=self.replay_proxy.captures
            ),
            stop_timeout=ASSET_STOP_TIMEOUT_S,
        )
        self.replay_budget = InflightBudget(settings.replay_inflight_bytes)
        tune_malloc()  # the budget's freed chunks go back to the system (replay/budget.py)
        self.replay_ingestor = ReplayIngestor(
            self.ingestor,
            self.replay_budget,
            max_body_bytes=settings.replay_max_body_bytes,
            max_chunk_bytes=settings.replay_max_chunk_bytes,
            assets=self.assets,
        )
        self.compactor = self._thread_worker(
            "compactor",
            Compactor(
                store,
                interval_s=settings.compact_interval_seconds,
                idle_ms=settings.replay_idle_minutes * 60_000,
            ),
        )
        self.exports = self._thread_worker(
            "exports",
            ExportRunner(
                store,
                Path(settings.export_dir),
                settings.export_ttl_days * 86_400_000,
                on_finished=ExportAnnouncer(store, self.feed, settings.public_url),
            ),
        )
        self.purger = self._thread_worker(
            "purger", Purger(store, self.asset_store, settings.purge_interval_seconds)
        )

    def _enricher(self, settings: Settings, store: Store) -> Enricher:
        """In this process, or in processes of its own (``enrich_processes``, SQLite)."""
        if not settings.enrich_processes:
            return Enricher(self.inbox, self.ingestor, self.writer)
        if not store.local_reads:
            log.warning("enrich_processes is for SQLite; ClickHouse enriches in this process")
            return Enricher(self.inbox, self.ingestor, self.writer)
        return ProcessEnricher(self.inbox, self.ingestor, self.writer, settings, self.feed)

    def _forget_key(self, brand_id: int, key_id: str) -> None:
        self.keys.forget(key_id)

    # --- declaring ----------------------------------------------------------------------------

    def _worker(self, name: str, worker: _W) -> _W:
        """``worker``, started by :meth:`start` and awaited to stop by :meth:`stop`."""
        self._steps.append(_Step(name, worker.stop, start=worker.start))
        return worker

    def _thread_worker(self, name: str, worker: _T, stop_timeout: float = 30.0) -> _T:
        """``worker``, started by :meth:`start`; :meth:`stop` waits for its threads (at most
        ``stop_timeout`` seconds) without blocking the event loop."""

        async def stop() -> None:
            await anyio.to_thread.run_sync(worker.stop, stop_timeout)

        self._steps.append(_Step(name, stop, start=worker.start))
        return worker

    def _closes(self, name: str, close: Callable[[], object]) -> None:
        """Call ``close`` (in a thread) when the runtime stops, after what was declared later."""

        async def stop() -> None:
            await anyio.to_thread.run_sync(close)

        self._steps.append(_Step(name, stop, close=close))

    def _close_now(self) -> None:
        """Close the resources declared so far, in reverse (the build failed: nothing runs)."""
        for step in reversed(self._steps):
            if step.close is not None:
                step.close()

    # --- running ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the workers in the order they were declared (on the event loop)."""
        for step in self._steps:
            if step.start is not None:
                step.start()
                step.running = True

    async def stop(self) -> None:
        """Stop the workers that started and close the resources, in reverse order of
        declaration: the writer commits everything queued before the store closes. A failing
        step is logged and the others still run. A runtime runs once: a second call does
        nothing."""
        while self._steps:
            step = self._steps.pop()
            if step.start is not None and not step.running:
                continue
            try:
                await step.stop()
            except Exception:
                log.exception("stopping %s failed", step.name)

    @classmethod
    @contextlib.asynccontextmanager
    async def running(
        cls, settings: Settings, store: Store | None = None
    ) -> AsyncIterator[Runtime]:
        """The runtime, started, until the block ends. Without ``store``, ``settings.database``
        is opened (and closed at the end); a given store is left open."""
        owns_store = store is None
        if store is None:
            store = await anyio.to_thread.run_sync(open_store, settings.database)
        runtime = cls(settings, store, owns_store=owns_store)
        try:
            runtime.start()
            # Everything built so far lives as long as the process: out of the collector's
            # sight, a full collection under load walks only what requests made since
            # (bench/README.md, short-link redirects: p99 at 1,000 req/s).
            gc.freeze()
            yield runtime
        finally:
            await runtime.stop()
