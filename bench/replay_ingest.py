"""Part 2 of bench/replay.py, ingest: ``POST /collect/replay`` with real chunks, gzip'd as the
recorder sends them (fresh replay ids: no duplicates), from concurrent clients, against a bare
Starlette endpoint that reads the body and answers 204 under the same uvicorn settings."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import struct
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import httpx

from collector.ids import new_id
from collector.replay.importer import split_into_chunks
from tests.servers import clicktrail_cli, free_port, start_collector

ROOT = Path(__file__).resolve().parents[1]


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


BARE_APP = """
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

async def collect_replay(request):
    await request.body()
    return Response(status_code=204)

app = Starlette(routes=[Route("/collect/replay", collect_replay, methods=["POST"])])
"""


GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"


@dataclass
class Tail:
    """A chunk's events (``...]}``, the end of the body), deflated once ahead of the run."""

    deflated: bytes
    data: bytes
    events_bytes: int


def deflate_tail(events_json: bytes) -> Tail:
    data = events_json + b"}"
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return Tail(compressor.compress(data) + compressor.flush(), data, len(events_json))


def gzip_body(head: bytes, tail: Tail) -> bytes:
    """``head + tail.data`` as one gzip member: the head (which holds the fresh ids) as a stored
    deflate block, then the tail deflated ahead of time. Valid gzip, as the recorder's
    CompressionStream makes it, without compressing the events again for every request."""
    stored = b"\x00" + struct.pack("<HH", len(head), len(head) ^ 0xFFFF) + head
    crc = zlib.crc32(tail.data, zlib.crc32(head))
    size = (len(head) + len(tail.data)) & 0xFFFFFFFF
    return GZIP_HEADER + stored + tail.deflated + struct.pack("<II", crc, size)


def bodies(site_key: str, recordings: list[list[Tail]]):
    """(body, events bytes) for ever: the recordings' chunks in order, every pass over a
    recording a new replay with its own ids, so that no chunk is a duplicate."""
    while True:
        for chunks in recordings:
            ids = {"k": site_key, "r": new_id(), "p": new_id(), "v": new_id()}
            for seq, tail in enumerate(chunks):
                envelope = {**ids, "q": seq, "u": "http://localhost/bench/page"}
                head = json.dumps(envelope, separators=(",", ":")).encode()[:-1] + b',"e":'
                yield gzip_body(head, tail), tail.events_bytes


async def _post_loop(port: int, feed, deadline: float, stats: dict) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.monotonic() < deadline:
            body, events_bytes = next(feed)
            started = time.perf_counter()
            writer.write(
                b"POST /collect/replay HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: text/plain\r\nOrigin: http://localhost\r\n"
                b"Content-Length: %d\r\n\r\n" % len(body)
            )
            writer.write(body)
            await writer.drain()
            status = int((await reader.readline()).split()[1])
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if length:
                await reader.readexactly(length)
            stats["latencies"].append(time.perf_counter() - started)
            if status == 204:
                stats["chunks"] += 1
                stats["events_bytes"] += events_bytes
                stats["body_bytes"] += len(body)
            else:
                stats["errors"] += 1
    finally:
        writer.close()


async def _drive(port: int, feed, seconds: float, connections: int) -> dict:
    stats = {"latencies": [], "chunks": 0, "events_bytes": 0, "body_bytes": 0, "errors": 0}
    cpu, started = time.process_time(), time.monotonic()
    await asyncio.gather(
        *(_post_loop(port, feed, started + seconds, stats) for _ in range(connections))
    )
    stats["seconds"] = time.monotonic() - started
    stats["client_cpu"] = (time.process_time() - cpu) / stats["seconds"]
    return stats


def _client(port, site_key, recordings, seconds, connections, results) -> None:
    """The load, in its own process (so on the other core)."""
    results.put(asyncio.run(_drive(port, bodies(site_key, recordings), seconds, connections)))


def run_load(port: int, site_key: str, recordings, seconds: float, connections: int) -> dict:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    process = context.Process(
        target=_client, args=(port, site_key, recordings, seconds, connections, results)
    )
    process.start()
    stats = results.get(timeout=seconds + 120)
    process.join(timeout=30)
    return stats


def start_bare(work: Path) -> tuple[subprocess.Popen, int]:
    """The bare endpoint under uvicorn with the settings `clicktrail serve` uses."""
    (work / "bare_app.py").write_text(BARE_APP)
    port = free_port()
    log = open(work / "bare.log", "w")  # noqa: SIM115 - kept open for the process's life
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "uvicorn", "--app-dir", str(work), "--port", str(port)),
            *("--no-access-log", "--no-proxy-headers", "--log-level", "info", "bare_app:app"),
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.post(f"http://127.0.0.1:{port}/collect/replay", content=b"{}", timeout=1)
            return process, port
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError((work / "bare.log").read_text())


def as_of_now(events_json: bytes) -> bytes:
    """The recording moved in time to end now: live ingest takes only recent timestamps."""
    events = json.loads(events_json)
    shift = _now_ms() - max(event["timestamp"] for event in events)
    moved = [{**event, "timestamp": event["timestamp"] + shift} for event in events]
    return json.dumps(moved, separators=(",", ":")).encode()


def ingest(work: Path, sources: list[bytes], seconds: float, connections: int) -> dict:
    """{"bare": stats, "clicktrail": stats} for the same load, one after the other."""
    recordings = [[deflate_tail(c) for c in split_into_chunks(as_of_now(s))] for s in sources]
    # a collector of its own, on a database of its own, as `clicktrail serve` runs it
    database = f"sqlite:///{work}/ingest.db"
    brand = clicktrail_cli("brands", "create", "ingest", "--domain", "localhost", database=database)
    results = {}
    bare, port = start_bare(work)
    try:
        results["bare"] = run_load(port, brand["site_key"], recordings, seconds, connections)
    finally:
        bare.terminate()
        bare.wait(timeout=30)
    collector = start_collector(
        "serve",
        database,
        work / "ingest-collector.log",
        *("--replay-assets-dir", str(work / "ingest-assets")),
        *("--compact-interval-seconds", "86400"),
    )
    try:
        results["clicktrail"] = run_load(
            int(collector.url.rsplit(":", 1)[1]),
            brand["site_key"],
            recordings,
            seconds,
            connections,
        )
    finally:
        collector.stop()
    return results


def print_ingest(results: dict, seconds: float, connections: int) -> None:
    print(
        f"\n2. ingest: POST /collect/replay, gzip'd real chunks, {connections} connections,"
        f" {seconds:g} s per server"
    )
    print(
        f"{'server':<12}{'MB/s events':>12}{'MB/s sent':>11}{'chunks/s':>10}{'p50 ms':>9}"
        f"{'p99 ms':>9}{'errors':>8}{'client CPU':>12}"
    )
    for name, r in results.items():
        lat = [x * 1000 for x in r["latencies"]] or [0.0]
        print(
            f"{name:<12}{r['events_bytes'] / r['seconds'] / 1e6:>12.2f}"
            f"{r['body_bytes'] / r['seconds'] / 1e6:>11.2f}{r['chunks'] / r['seconds']:>10.0f}"
            f"{_p(lat, 0.5):>9.1f}{_p(lat, 0.99):>9.1f}{r['errors']:>8}"
            f"{r['client_cpu'] * 100:>11.0f}%"
        )
    bare, ours = results["bare"], results["clicktrail"]
    ratio = (ours["events_bytes"] / ours["seconds"]) / (bare["events_bytes"] / bare["seconds"])
    print(f"{'ratio':<12}{ratio:>12.2f}")
