"""Ingest benchmark (issue 17): /collect's door and the inbox's enricher, against a bare Starlette
endpoint under the same uvicorn settings in the same run.

Every server runs as a subprocess with one worker on a fresh SQLite database; `wrk -t1`
(Debian package) drives it from the other core, each request a new page load (a new visitor
every fifth, its id minted at that moment, as the tracker does) unless a case says otherwise.
The collector answers once the beacon is durable in its inbox; the enricher turns the inbox
into clicks and events behind it. "Fully enriched" runs from the start of the load until
/metrics shows nothing pending (`clicktrail_inbox_pending` == 0, no new beacon); every case
then compares the beacons and events answered with the clicks and events stored.

Cases (`--case`, default all):

- single: 1-event beacons, closed loop, unique bodies and one replayed body, each against the
  bare endpoint with the same wrk script (goal: 0.7 of the bare rate).
- sustained: 20-event beacons at the door's full rate (wrk) for --sustain-seconds, then until
  fully enriched; events answered / that time (goal: 50,000 events/s); lag every second.
- p99: 20-event beacons paced open-loop (bench/ingest_pace.py) at half the sustainable beacon
  rate (the sustained case's, or --rate, or a short sustained run first); p50/p99 from the
  scheduled send time (goal: p99 < 10 ms).
- burst: 20-event beacons at the door's full rate for --burst-seconds (5x the sustainable rate
  is more than the door takes here: the multiple reached is printed), then the time until fully
  enriched (goal: 2 minutes, nothing lost); lag every few seconds.
- scale: two site keys, each driven by its own wrk (half the connections): one collector
  taking both against two collectors, each on its own database (a site-key partition).

    python bench/ingest.py                      # every case, full length (~12 minutes)
    python bench/ingest.py --case p99 --rate 1500
    python bench/ingest.py --smoke              # every case for ~2 s: it all still runs (CI)
    python bench/ingest.py --case single --py-spy /tmp/single.txt   # profile the collector
    python bench/ingest.py --enrich-processes 2  # enrichment in two processes of its own
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Protocol

import ingest_pace
import redirect_load
from ingest_rig import (
    ROOT,
    Gauges,
    Store,
    Wrk,
    bare_command,
    beacon_template,
    collector_command,
    new_store,
    page_prefix,
    run_wrk,
    scrape,
    start_server,
    stop,
    stored_rows,
    write_script,
)
from redirect_load import Tally

CASES = ("single", "sustained", "p99", "burst", "scale")
BATCH_EVENTS = 20
CAUGHT_UP_TIMEOUT_S = 900


class Load(Protocol):
    def done(self) -> bool: ...


@dataclass
class Followed:
    """A load followed through /metrics until fully enriched (times from the load's start)."""

    load_s: float  # when the load ended
    enriched_s: float  # when nothing was pending any more
    final: Gauges
    max_pending: int
    max_lag_s: float

    @property
    def catch_up_s(self) -> float:
        return self.enriched_s - self.load_s

    @property
    def events_per_s(self) -> float:
        return self.final.events / self.enriched_s

    @property
    def beacons_per_s(self) -> float:
        return self.final.beacons / self.enriched_s


def _total(gauges: list[Gauges]) -> Gauges:
    return Gauges(
        sum(g.beacons for g in gauges),
        sum(g.events for g in gauges),
        sum(g.pending for g in gauges),
        max(g.lag_s for g in gauges),
    )


def follow(ports: list[int], loads: list[Load], started: float, print_every: float) -> Followed:
    """Scrape every 0.25 s until the loads are done and nothing is pending; print a lag row
    every ``print_every`` seconds (0: none)."""
    if print_every:
        print(f"  {'t s':>6} {'phase':<7} {'answered':>10} {'pending':>9} {'lag s':>7}")
    load_s = None
    previous = None
    next_print = 0.0
    max_pending, max_lag = 0, 0.0
    while True:
        time.sleep(0.25)
        now = _total([scrape(port) for port in ports])
        elapsed = time.monotonic() - started
        if load_s is None and all(load.done() for load in loads):
            load_s = elapsed
        max_pending, max_lag = max(max_pending, now.pending), max(max_lag, now.lag_s)
        settled = load_s is not None and now.pending == 0 and now == previous
        if print_every and (elapsed >= next_print or settled):
            phase = "load" if load_s is None else "drain"
            print(
                f"  {elapsed:>6.1f} {phase:<7} {now.beacons:>10,} {now.pending:>9,}"
                f" {now.lag_s:>7.2f}",
                flush=True,
            )
            next_print += print_every
        if settled:
            return Followed(load_s, elapsed, now, max_pending, max_lag)
        if elapsed > CAUGHT_UP_TIMEOUT_S:
            raise RuntimeError(f"not enriched after {CAUGHT_UP_TIMEOUT_S} s: {now}")
        previous = now


class Bench:
    """The run's options, work directory, ports, findings and goals."""

    def __init__(self, options: argparse.Namespace) -> None:
        self.options = options
        self.work = Path(tempfile.mkdtemp(prefix="clicktrail-bench-"))
        self._ports = itertools.count(18_700)
        self.goals: list[tuple[str, str, bool]] = []
        self.failures: list[str] = []
        self.sustainable_beacons: float | None = options.rate * 2 if options.rate else None

    def port(self) -> int:
        return next(self._ports)

    def goal(self, name: str, figure: str, met: bool) -> None:
        self.goals.append((name, figure, met))

    def check_stored(
        self, label: str, answered: Gauges, stores: list[Store], replayed: bool
    ) -> None:
        """Print answered against stored; a lost beacon or event is a failure."""
        rows = [stored_rows(store.path) for store in stores]
        clicks, events = sum(row[0] for row in rows), sum(row[1] for row in rows)
        print(
            f"  {label}: answered {answered.beacons:,} beacons / {answered.events:,} events;"
            f" stored {clicks:,} clicks / {events:,} events"
        )
        lost = clicks < (1 if replayed else answered.beacons) or (
            not replayed and events < answered.events
        )
        if lost:
            self.failures.append(f"{label}: beacons answered and not stored")

    def collector(self, store: Store) -> tuple[subprocess.Popen, int]:
        port = self.port()
        return start_server(collector_command(store, port), port), port

    def bare_rate(self, script: Path) -> dict[str, float]:
        port = self.port()
        bare = start_server(bare_command(self.work, port), port)
        try:
            return run_wrk(port, script, self.options.seconds, self.options.connections)
        finally:
            stop(bare)


def _wrk_row(label: str, result: dict[str, float], events: int = 1) -> str:
    return (
        f"  {label:<24}{result['rps']:>10,.0f} req/s {result['rps'] * events:>10,.0f} events/s"
        f"  p50 {result['p50_ms']:6.2f} ms  p99 {result['p99_ms']:7.2f} ms"
        f"  errors {result['errors']}"
    )


def case_single(bench: Bench) -> None:
    options = bench.options
    print(f"\n== single: 1-event beacons, wrk -t1 -c{options.connections}, {options.seconds} s")
    template = beacon_template("SITE_KEY", 1)
    ratios = {}
    for kind in ("unique", "replayed"):
        store = new_store(bench.work, f"single-{kind}")
        body = template.replace("SITE_KEY", store.site_keys[0])
        script = write_script(bench.work / f"single-{kind}.lua", body, kind == "replayed")
        base = bench.bare_rate(script)
        server, port = bench.collector(store)
        started = time.monotonic()
        wrk = Wrk(port, script, options.seconds, options.connections)
        profiler = _py_spy(server, options) if kind == "unique" and options.py_spy else None
        followed = follow([port], [wrk], started, 0)
        ours = wrk.result()
        if profiler is not None:
            profiler.wait()
        stop(server)
        ratios[kind] = ours["rps"] / base["rps"]
        print(_wrk_row(f"bare ({kind} body)", base))
        print(_wrk_row(f"clicktrail ({kind} body)", ours))
        print(
            f"  ratio {ratios[kind]:.2f}; fully enriched {followed.catch_up_s:.1f} s after the"
            f" load (max pending {followed.max_pending:,})"
        )
        bench.check_stored(f"single {kind}", followed.final, [store], kind == "replayed")
        if kind == "replayed":
            print("  (one click: a replayed page is stored once; its events are stored each time)")
        if ours["errors"]:
            bench.failures.append(f"single {kind}: {ours['errors']} error answers")
    for kind, ratio in ratios.items():
        bench.goal(
            f"single-event, {kind} bodies, ratio to bare >= 0.70", f"{ratio:.2f}", ratio >= 0.7
        )


def _py_spy(server: subprocess.Popen, options: argparse.Namespace) -> subprocess.Popen:
    seconds = max(1, options.seconds - 2)
    return subprocess.Popen(
        [
            *(str(ROOT / ".venv/bin/py-spy"), "record", "--gil", "-f", "raw"),
            *("-d", str(seconds), "-o", options.py_spy, "--pid", str(server.pid)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wrk_load(bench: Bench, label: str, seconds: float, print_every: float):
    """20-event beacons at the door's full rate for ``seconds``, followed until enriched."""
    options = bench.options
    store = new_store(bench.work, label)
    template = beacon_template(store.site_keys[0], BATCH_EVENTS)
    script = write_script(bench.work / f"{label}.lua", template)
    server, port = bench.collector(store)
    started = time.monotonic()
    wrk = Wrk(port, script, seconds, options.connections)
    followed = follow([port], [wrk], started, print_every)
    door = wrk.result()
    stop(server)
    bench.check_stored(label, followed.final, [store], False)
    if door["errors"]:
        bench.failures.append(f"{label}: {door['errors']} error answers")
    return followed, door, script


def case_sustained(bench: Bench) -> None:
    options = bench.options
    seconds = options.sustain_seconds
    print(f"\n== sustained: 20-event beacons at the door's full rate for {seconds} s, then drained")
    followed, door, script = _wrk_load(bench, "sustained", seconds, 1 if not options.smoke else 0)
    base = bench.bare_rate(script)
    print(_wrk_row("bare (same script)", base, BATCH_EVENTS))
    print(_wrk_row("clicktrail door", door, BATCH_EVENTS))
    _print_enriched(followed)
    bench.sustainable_beacons = followed.beacons_per_s
    eps = followed.events_per_s
    bench.goal("sustained fully enriched events/s >= 50,000", f"{eps:,.0f}", eps >= 50_000)


def _print_enriched(followed: Followed) -> None:
    print(
        f"  load {followed.load_s:.1f} s, fully enriched at {followed.enriched_s:.1f} s"
        f" ({followed.catch_up_s:.1f} s after the load); {followed.final.events:,} events"
        f" answered: {followed.events_per_s:,.0f} events/s"
        f" ({followed.beacons_per_s:,.0f} beacons/s) fully enriched;"
        f" max pending {followed.max_pending:,}, max lag {followed.max_lag_s:.1f} s"
    )


def _sustainable(bench: Bench) -> float:
    if bench.sustainable_beacons is None:
        print("  (no sustainable rate yet: a short sustained run first)")
        followed, _, _ = _wrk_load(bench, "sustainable", bench.options.seconds, 0)
        _print_enriched(followed)
        bench.sustainable_beacons = followed.beacons_per_s
    return bench.sustainable_beacons


def _paced(port: int, template: str, rate: float, seconds: float, connections: int) -> Tally:
    """``rate`` beacons a second for ``seconds``, from an open-loop sender in its own process."""
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        pool.submit(redirect_load.run, _warm_up).result()  # the child's start-up, not timed
        sender = pool.submit(
            redirect_load.run,
            ingest_pace.open_loop,
            port,
            template,
            page_prefix(),
            seconds,
            rate,
            connections,
        )
        return sender.result()


def _latency_line(tally: Tally) -> tuple[str, float]:
    ms = [latency * 1000 for latency in tally.latencies]
    p50, p90, p99 = (ingest_pace.percentile(ms, share) for share in (0.5, 0.9, 0.99))
    line = (
        f"sent {tally.answered:,} at {tally.rate:,.0f}/s (sender {tally.client_cpu:.0%} of a"
        f" core): p50 {p50:.2f} ms, p90 {p90:.2f} ms, p99 {p99:.2f} ms,"
        f" max {max(ms, default=0):.1f} ms; statuses {dict(tally.statuses)}"
    )
    return line, p99


def case_p99(bench: Bench) -> None:
    options = bench.options
    rate = _sustainable(bench) / 2
    seconds = options.p99_seconds
    print(
        f"\n== p99: 20-event beacons paced open-loop at {rate:,.0f}/s (half the sustainable"
        f" {rate * 2:,.0f}), {seconds} s, {options.connections} connections"
    )
    store = new_store(bench.work, "p99")
    template = beacon_template(store.site_keys[0], BATCH_EVENTS)
    bare = start_server(bare_command(bench.work, bare_port := bench.port()), bare_port)
    try:
        bare_line, bare_p99 = _latency_line(
            _paced(bare_port, template, rate, seconds, options.connections)
        )
    finally:
        stop(bare)
    print(f"  bare endpoint: {bare_line}")
    server, port = bench.collector(store)
    with ThreadPoolExecutor(1) as pool:
        started = time.monotonic()
        sender = pool.submit(_paced, port, template, rate, seconds, options.connections)
        followed = follow([port], [sender], started, 5 if not options.smoke else 0)
        tally = sender.result()
    stop(server)
    line, p99 = _latency_line(tally)
    print(f"  Clicktrail:    {line}")
    print(
        f"  enricher: max pending {followed.max_pending:,}, max lag {followed.max_lag_s:.2f} s,"
        f" fully enriched {followed.catch_up_s:.1f} s after the last answer"
    )
    bench.check_stored("p99", followed.final, [store], False)
    if set(tally.statuses) != {204}:
        bench.failures.append(f"p99: answers {dict(tally.statuses)}")
    figure = f"{p99:.2f} ms (the bare endpoint's {bare_p99:.2f} ms at the same pace)"
    bench.goal("p99 at half the sustainable rate < 10 ms", figure, p99 < 10)


async def _warm_up() -> None:
    return None


def case_burst(bench: Bench) -> None:
    options = bench.options
    sustainable = _sustainable(bench)
    seconds = options.burst_seconds
    print(
        f"\n== burst: 20-event beacons at the door's full rate for {seconds} s (5x the"
        f" sustainable {sustainable:,.0f}/s would be {5 * sustainable:,.0f}/s), then drained"
    )
    followed, door, _ = _wrk_load(bench, "burst", seconds, 5 if not options.smoke else 0)
    print(_wrk_row("clicktrail door", door, BATCH_EVENTS))
    print(f"  the door took {door['rps'] / sustainable:.1f}x the sustainable rate")
    _print_enriched(followed)
    catch_up = followed.catch_up_s
    bench.goal("fully enriched after a burst within 120 s", f"{catch_up:.1f} s", catch_up <= 120)


def case_scale(bench: Bench) -> None:
    options = bench.options
    seconds = options.scale_seconds
    half = max(1, options.connections // 2)
    print(
        f"\n== scale: two site keys, each its own wrk -t1 -c{half} for {seconds} s, 20-event"
        " beacons, until fully enriched"
    )
    rates = {}
    for processes in (1, 2):
        if processes == 1:
            stores = [new_store(bench.work, "scale-one", brands=2)]
            keys = stores[0].site_keys
        else:
            stores = [new_store(bench.work, f"scale-two-{index}") for index in range(2)]
            keys = [store.site_keys[0] for store in stores]
        servers = [bench.collector(store) for store in stores]
        targets = [servers[index % len(servers)][1] for index in range(2)]
        scripts = [
            write_script(bench.work / f"scale-{processes}-{i}.lua", beacon_template(key, 20))
            for i, key in enumerate(keys)
        ]
        started = time.monotonic()
        loads = [
            Wrk(port, script, seconds, half) for port, script in zip(targets, scripts, strict=True)
        ]
        followed = follow([port for _, port in servers], loads, started, 0)
        doors = [load.result() for load in loads]
        for server, _ in servers:
            stop(server)
        door = sum(result["rps"] for result in doors) * BATCH_EVENTS
        print(f"  {processes} collector process(es): door {door:,.0f} events/s;", end="")
        _print_enriched(followed)
        rates[processes] = followed.events_per_s
        bench.check_stored(f"scale, {processes} process(es)", followed.final, stores, False)
    print(f"  two processes / one: {rates[2] / rates[1]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--case", choices=CASES, action="append", help="run only this case")
    parser.add_argument("--smoke", action="store_true", help="every case for ~2 s, for CI")
    parser.add_argument("--seconds", type=int, default=20, help="single case and bare baselines")
    parser.add_argument("--sustain-seconds", type=int, default=60)
    parser.add_argument("--p99-seconds", type=int, default=30)
    parser.add_argument("--burst-seconds", type=int, default=60)
    parser.add_argument("--scale-seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rate", type=float, help="p99: beacons/s (default: half sustainable)")
    parser.add_argument("--py-spy", help="single case: py-spy record --gil -f raw to this file")
    parser.add_argument(
        "--enrich-processes",
        type=int,
        default=0,
        help="the collector's --enrich-processes (0: enrich in the collector's process)",
    )
    options = parser.parse_args()
    # The collectors read their settings from the environment they are started with.
    os.environ["CLICKTRAIL_ENRICH_PROCESSES"] = str(options.enrich_processes)
    print(f"collector: --enrich-processes {options.enrich_processes}")
    if options.smoke:
        for name in ("seconds", "sustain_seconds", "p99_seconds", "burst_seconds", "scale_seconds"):
            setattr(options, name, 2)
    if shutil.which("wrk") is None:
        sys.exit("bench/ingest.py needs wrk: apt-get install wrk")
    bench = Bench(options)
    began = time.monotonic()
    runs = {"single": case_single, "sustained": case_sustained, "p99": case_p99}
    runs |= {"burst": case_burst, "scale": case_scale}
    try:
        for case in options.case or CASES:
            runs[case](bench)
    finally:
        shutil.rmtree(bench.work, ignore_errors=True)
    print(f"\ngoals (issue 17), after {time.monotonic() - began:.0f} s:")
    for name, figure, met in bench.goals:
        print(f"  {'✓' if met else '✗'} {name}: {figure}")
    if bench.failures:
        sys.exit("; ".join(bench.failures))


if __name__ == "__main__":
    main()
