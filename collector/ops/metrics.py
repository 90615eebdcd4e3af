"""The collector's metrics, kept in plain dicts and written in the Prometheus text format.

Hot paths only increment: a counter or a histogram bucket is a dict update of the thread that
owns it (no lock). The event loop owns the request, beacon and replay metrics and the group
commit's; the metrics a pool of threads moves (webhook batches, export jobs) take a lock, at a
few updates a second. Gauges (writer queue, webhook backlog, export jobs waiting) are read when
``/metrics`` is scraped (:mod:`collector.ops.routes`), never kept up to date.

Label values are bounded: statuses and reasons from fixed tables, routes by their template
(``/api/brands/{brand}/clicks``), never a raw path. :data:`METRICS` is the process's one set,
shared by every app of the process (tests compare before and after).
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable, Sequence

Labels = tuple[str, ...]

# seconds; a commit and a read both live between a millisecond and a few seconds
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# rows in one group commit
SIZE_BUCKETS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000)

# why a beacon was refused, from the status it was answered (a bounded set of label values)
REJECT_REASONS = {
    400: "malformed",
    403: "domain_not_allowed",
    404: "unknown_site",
    413: "too_large",
    415: "bad_content_type",
    422: "invalid",
    429: "rate_limited",
    500: "error",
    503: "busy",
}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(names: Sequence[str], values: Iterable[str], extra: str = "") -> str:
    pairs = [f'{name}="{_escape(value)}"' for name, value in zip(names, values, strict=True)]
    if extra:
        pairs.append(extra)
    return "{" + ",".join(pairs) + "}" if pairs else ""


def _number(value: float) -> str:
    if value == float("inf"):
        return "+Inf"
    return str(int(value)) if float(value).is_integer() else repr(float(value))


class Counter:
    """A monotonic count per label values. ``locked``: moved from several threads."""

    kind = "counter"

    def __init__(self, name: str, help: str, labels: Sequence[str] = (), locked: bool = False):
        self.name, self.help, self.label_names = name, help, tuple(labels)
        self.values: dict[Labels, float] = {}
        self._lock = threading.Lock() if locked else None

    def inc(self, labels: Labels = (), amount: float = 1) -> None:
        if self._lock is None:
            self.values[labels] = self.values.get(labels, 0) + amount
            return
        with self._lock:
            self.values[labels] = self.values.get(labels, 0) + amount

    def lines(self) -> Iterable[str]:
        for labels, value in sorted(dict(self.values).items()):  # a copy: threads add keys
            yield f"{self.name}_total{_labels(self.label_names, labels)} {_number(value)}"


class Histogram:
    """Observations counted into fixed buckets (upper bounds), with their sum."""

    kind = "histogram"

    def __init__(
        self, name: str, help: str, buckets: Sequence[float], labels: Sequence[str] = ()
    ) -> None:
        self.name, self.help, self.label_names = name, help, tuple(labels)
        self.buckets = tuple(buckets)
        # per label values: [count in each bucket..., count above the last bucket, sum]
        self.values: dict[Labels, list[float]] = {}

    def observe(self, value: float, labels: Labels = ()) -> None:
        row = self.values.get(labels)
        if row is None:
            row = self.values[labels] = [0.0] * (len(self.buckets) + 2)
        row[bisect.bisect_left(self.buckets, value)] += 1
        row[-1] += value

    def count(self, labels: Labels = ()) -> int:
        row = self.values.get(labels)
        return int(sum(row[:-1])) if row else 0

    def lines(self) -> Iterable[str]:
        names = self.label_names
        for labels, row in sorted(self.values.items()):
            running = 0.0
            for bound, count in zip((*self.buckets, float("inf")), row[:-1], strict=True):
                running += count
                le = f'le="{_number(bound)}"'
                yield f"{self.name}_bucket{_labels(names, labels, le)} {_number(running)}"
            yield f"{self.name}_count{_labels(names, labels)} {_number(running)}"
            yield f"{self.name}_sum{_labels(names, labels)} {_number(row[-1])}"


class Gauge:
    """A value read at scrape time: :meth:`set` them right before :func:`render`."""

    kind = "gauge"

    def __init__(self, name: str, help: str, labels: Sequence[str] = ()) -> None:
        self.name, self.help, self.label_names = name, help, tuple(labels)
        self.values: dict[Labels, float] = {}

    def set(self, value: float, labels: Labels = ()) -> None:
        self.values[labels] = value

    def lines(self) -> Iterable[str]:
        for labels, value in sorted(self.values.items()):
            yield f"{self.name}{_labels(self.label_names, labels)} {_number(value)}"


Metric = Counter | Histogram | Gauge


class Metrics:
    """Every metric of the collector, and the one-call hooks its modules use."""

    def __init__(self) -> None:
        c, h, g = Counter, Histogram, Gauge
        self.beacons = c("clicktrail_beacons", "Beacons (POST /collect) stored.")
        self.events = c("clicktrail_events", "Events of stored beacons (page views included).")
        self.rejected = c(
            "clicktrail_beacons_rejected",
            "Beacons refused, by answer status and reason.",
            ("status", "reason"),
        )
        self.commits = h(
            "clicktrail_group_commit_rows", "Rows in one group commit of the writer.", SIZE_BUCKETS
        )
        self.commit_seconds = h(
            "clicktrail_group_commit_seconds", "Time one group commit took.", LATENCY_BUCKETS
        )
        self.queue = g("clicktrail_writer_queue_depth", "Requests waiting for the writer.")
        self.inbox_pending = g(
            "clicktrail_inbox_pending", "Beacons answered (in the inbox) and not enriched yet."
        )
        self.inbox_lag = g(
            "clicktrail_inbox_lag_seconds",
            "How long the oldest beacon not enriched yet has waited (0 when caught up).",
        )
        self.enrichment_background = g(
            "clicktrail_enrichment_background",
            "1 while the enrichment processes yield the CPU to the door (enrichment keeps up).",
        )
        self.replay_in = c(
            "clicktrail_replay_bytes_in", "Replay chunk bytes received (as sent, compressed)."
        )
        self.replay_stored = c(
            "clicktrail_replay_bytes_stored", "Replay chunk bytes stored (zstd) at ingest."
        )
        self.replay_chunks = c("clicktrail_replay_chunks", "Replay chunks stored.")
        self.webhook_batches = c(
            "clicktrail_webhook_batches",
            "Webhook batch attempts, by verdict (delivered, retry, failed, gone).",
            ("verdict",),
            locked=True,
        )
        self.webhook_items = c(
            "clicktrail_webhook_items_delivered", "Clickstream items delivered.", locked=True
        )
        self.webhook_backlog = g(
            "clicktrail_webhook_backlog",
            "Outbox items past the slowest enabled destination's cursor (an upper bound).",
        )
        self.exports_done = c(
            "clicktrail_export_jobs_finished",
            "Export jobs finished, by state (done, failed).",
            ("state",),
            locked=True,
        )
        self.exports_waiting = g(
            "clicktrail_export_jobs", "Export jobs not finished, by state.", ("state",)
        )
        self.compacted = c("clicktrail_replays_compacted", "Replays compacted into segments.")
        self.requests = c(
            "clicktrail_http_requests",
            "Requests answered, by route template, method and status.",
            ("route", "method", "status"),
        )
        self.latency = h(
            "clicktrail_http_request_seconds",
            "Time to answer a request, by route template and method.",
            LATENCY_BUCKETS,
            ("route", "method"),
        )
        self.all: tuple[Metric, ...] = tuple(
            m for m in vars(self).values() if isinstance(m, Counter | Histogram | Gauge)
        )

    # hooks: one call where the event happens ---------------------------------------------

    def beacon_stored(self, events: int) -> None:
        self.beacons.inc()
        self.events.inc((), events)

    def beacon_refused(self, status: int) -> None:
        self.rejected.inc((str(status), REJECT_REASONS.get(status, "other")))

    def group_commit(self, rows: int, seconds: float) -> None:
        self.commits.observe(rows)
        self.commit_seconds.observe(seconds)

    def replay_chunk(self, bytes_in: int, bytes_stored: int) -> None:
        self.replay_chunks.inc()
        self.replay_in.inc((), bytes_in)
        self.replay_stored.inc((), bytes_stored)

    def webhook_batch(self, verdict: str, items: int) -> None:
        self.webhook_batches.inc((verdict,))
        if verdict == "delivered":
            self.webhook_items.inc((), items)

    def export_finished(self, state: str) -> None:
        self.exports_done.inc((state,))

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.inc((route, method, str(status)))
        self.latency.observe(seconds, (route, method))


def render(metrics: Iterable[Metric]) -> str:
    """The Prometheus text exposition format (version 0.0.4) of ``metrics``."""
    out: list[str] = []
    for metric in metrics:
        # a counter's family is named as its sample, ``_total`` included (format 0.0.4)
        name = f"{metric.name}_total" if metric.kind == "counter" else metric.name
        out.append(f"# HELP {name} {metric.help}")
        out.append(f"# TYPE {name} {metric.kind}")
        out.extend(metric.lines())
    return "\n".join(out) + "\n"


METRICS = Metrics()
