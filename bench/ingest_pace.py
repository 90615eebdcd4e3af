"""bench/ingest.py's open-loop sender: ``POST /collect`` on a fixed schedule, whatever happens.

wrk is closed-loop (a connection sends its next request when the answer is in), so a slow
answer delays the requests behind it and hides them from the latency figures; wrk2, which
fixes that, is not packaged. This sender schedules beacon ``i`` at ``start + i / rate`` and
sends it on an idle keep-alive connection or, when none is idle, as soon as one is; its
latency runs from the scheduled time to the end of its answer, so queueing counts. The
connections and their answer parsing are bench/redirect_load.py's (raw asyncio sockets, uvloop).

Bodies are built like wrk's unique-body script (bench/ingest_rig.py): a new page load per
beacon, a new visitor every fifth, its id minted at that moment.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Iterator

from redirect_load import Connection, Tally

from collector.ids import ALPHABET


def _encode(number: int, length: int) -> str:
    chars = []
    for _ in range(length):
        chars.append(ALPHABET[number & 31])
        number >>= 5
    return "".join(reversed(chars))


def beacons(template: str, prefix: str) -> Iterator[bytes]:
    """``POST /collect`` requests for ever, each a new page load of ``template``."""
    counter = 0
    visitor = ""
    while True:
        counter += 1
        if counter % 5 == 1:
            visitor = _encode(time.time_ns() // 1_000_000, 10) + _encode(counter, 16)
        body = (
            template.replace("PAGE_ID", prefix + _encode(counter, 16))
            .replace("VISITOR_ID", visitor)
            .encode()
        )
        yield (
            b"POST /collect HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
            b"Content-Length: %d\r\n\r\n%b" % (len(body), body)
        )


async def open_loop(
    port: int, template: str, prefix: str, seconds: float, rate: float, connections: int
) -> Tally:
    """``rate`` beacons a second for ``seconds``; every one is waited for."""
    tally = Tally()
    feed = beacons(template, prefix)
    idle: collections.deque[Connection] = collections.deque()
    due: collections.deque[float] = collections.deque()  # scheduled, no idle connection yet
    sent_due: dict[Connection, float] = {}
    total = int(seconds * rate)
    finished = asyncio.get_running_loop().create_future()

    def start(connection: Connection, scheduled: float) -> None:
        sent_due[connection] = scheduled
        connection.send(next(feed))

    def on_answer(connection: Connection, status: int) -> None:
        tally.latencies.append(time.perf_counter() - sent_due.pop(connection))
        tally.statuses[status] += 1
        if due:
            start(connection, due.popleft())
        else:
            idle.append(connection)
        if tally.answered == total and not finished.done():
            finished.set_result(None)

    loop = asyncio.get_running_loop()
    for _ in range(connections):
        _, connection = await loop.create_connection(
            lambda: Connection(on_answer), "127.0.0.1", port
        )
        await connection.ready
        idle.append(connection)
    pool = list(idle)
    cpu, started = time.process_time(), time.perf_counter()
    for index in range(total):
        scheduled = started + index / rate
        wait = scheduled - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        if idle:
            start(idle.popleft(), scheduled)
        else:
            due.append(scheduled)
    await finished
    tally.seconds = time.perf_counter() - started
    tally.client_cpu = (time.process_time() - cpu) / tally.seconds
    for connection in pool:
        if connection.transport is not None:
            connection.transport.close()
    return tally


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0
