"""bench/ingest.py's open-loop sender: ``POST /collect`` on a fixed schedule, whatever happens.

wrk is closed-loop (a connection sends its next request when the answer is in), so a slow
answer delays the requests behind it and hides them from the latency figures; wrk2, which
fixes that, is not packaged. This sender schedules beacon ``i`` at ``start + i / rate`` and
sends it on an idle keep-alive connection or, when none is idle, as soon as one is; its
latency runs from the scheduled time to the end of its answer, so queueing counts. The
sender is bench/redirect_load.py's :func:`paced` (raw asyncio sockets, uvloop).

Bodies are built like wrk's unique-body script (bench/ingest_rig.py): a new page load per
beacon, a new visitor every fifth, its id minted at that moment.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from redirect_load import Tally, paced

from collector.ids import encode


def beacons(template: str, prefix: str) -> Iterator[bytes]:
    """``POST /collect`` requests for ever, each a new page load of ``template``."""
    counter = 0
    visitor = ""
    while True:
        counter += 1
        if counter % 5 == 1:
            visitor = encode(time.time_ns() // 1_000_000, 10) + encode(counter, 16)
        body = (
            template.replace("PAGE_ID", prefix + encode(counter, 16))
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
    return await paced(port, beacons(template, prefix), seconds, rate, connections)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0
