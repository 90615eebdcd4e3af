"""The load of bench/redirect.py: keep-alive HTTP/1.1 connections of one asyncio process (uvloop
when installed), raw sockets, every answer read whole and counted by status.

Two ways to drive a server:

- :func:`closed_loop`: each connection sends its next request as soon as its answer is in, for
  a number of seconds (the most the server answers: its rate). After the deadline no request
  is sent, but every one in flight is waited for, so each request sent is answered and counted.
- :func:`open_loop`: requests are due on a fixed schedule (``rate`` a second, whatever the
  server does), each sent on an idle connection or, when none is idle, as soon as one is;
  latency runs from the scheduled time, so a slow answer also counts against every request
  queued behind it (no coordinated omission).

Each request is a new visitor clicking the link: a new ``X-Forwarded-For`` address (the
collector trusts loopback as its proxy), a browser ``User-Agent`` from a small pool, an
``Accept-Language``, the same campaign query. On this machine the client matches wrk's rate
against the bare endpoint (18.4k req/s each) at a third of a core.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
    " Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like"
    " Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko)"
    " SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
)
QUERY = "utm_source=newsletter&utm_medium=email&utm_campaign=winter-sale"


def requests(path: str, first_visitor: int) -> Iterator[bytes]:
    """``GET path?QUERY`` for ever, each from a new visitor (numbered from ``first_visitor``)."""
    visitor = first_visitor
    while True:
        address = f"10.{visitor >> 16 & 255}.{visitor >> 8 & 255}.{visitor & 255}"
        yield (
            f"GET {path}?{QUERY} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"User-Agent: {USER_AGENTS[visitor % len(USER_AGENTS)]}\r\n"
            f"Accept-Language: en-GB,en;q=0.9\r\nX-Forwarded-For: {address}\r\n\r\n"
        ).encode()
        visitor += 1


@dataclass
class Tally:
    """What one run saw: answers by status, and latencies in seconds."""

    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    client_cpu: float = 0.0  # share of one core the client used

    @property
    def answered(self) -> int:
        return sum(self.statuses.values())

    @property
    def rate(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0


class Connection(asyncio.Protocol):
    """One keep-alive connection, one request at a time; ``on_answer(status)`` per answer."""

    def __init__(self, on_answer: Callable[[Connection, int], None]) -> None:
        self.on_answer = on_answer
        self.transport: asyncio.Transport | None = None
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass
        self.ready.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)

    def send(self, request: bytes) -> None:
        assert self.transport is not None
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while (end := self._buffer.find(b"\r\n\r\n")) >= 0:
            head = self._buffer[:end].split(b"\r\n")
            length = 0
            for line in head[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self._buffer) < end + 4 + length:
                return
            self._buffer = self._buffer[end + 4 + length :]
            self.on_answer(self, int(head[0].split()[1]))


async def _connect(port: int, count: int, on_answer) -> list[Connection]:
    loop = asyncio.get_running_loop()
    connections = []
    for _ in range(count):
        _, protocol = await loop.create_connection(lambda: Connection(on_answer), "127.0.0.1", port)
        await protocol.ready
        connections.append(protocol)
    return connections


async def closed_loop(
    port: int, path: str, first_visitor: int, seconds: float, connections: int
) -> Tally:
    """The rate: ``connections`` connections, each sending as soon as its answer is in."""
    tally = Tally()
    feed = requests(path, first_visitor)
    in_flight = 0
    all_in = asyncio.get_running_loop().create_future()
    deadline = 0.0

    def on_answer(connection: Connection, status: int) -> None:
        nonlocal in_flight
        tally.statuses[status] += 1
        if time.monotonic() < deadline:
            connection.send(next(feed))
            return
        in_flight -= 1
        if in_flight == 0 and not all_in.done():
            all_in.set_result(None)

    pool = await _connect(port, connections, on_answer)
    cpu, started = time.process_time(), time.monotonic()
    deadline = started + seconds
    for connection in pool:
        in_flight += 1
        connection.send(next(feed))
    await all_in
    tally.seconds = time.monotonic() - started
    tally.client_cpu = (time.process_time() - cpu) / tally.seconds
    _close(pool)
    return tally


async def open_loop(
    port: int, path: str, first_visitor: int, seconds: float, rate: int, connections: int
) -> Tally:
    """Latency at a fixed rate of redirect requests (:func:`paced`)."""
    return await paced(port, requests(path, first_visitor), seconds, rate, connections)


async def paced(
    port: int, feed: Iterator[bytes], seconds: float, rate: float, connections: int
) -> Tally:
    """Latency at a fixed rate: request i of ``feed`` is due at ``start + i / rate``; its
    latency runs from then to the end of its answer."""
    tally = Tally()
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

    pool = await _connect(port, connections, on_answer)
    idle.extend(pool)
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
    _close(pool)
    return tally


def _close(pool: list[Connection]) -> None:
    for connection in pool:
        if connection.transport is not None:
            connection.transport.close()


def run(coroutine_function, *args) -> Tally:
    """Run one load in this process, on uvloop when installed (the target of a child process)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine_function(*args))
    return uvloop.run(coroutine_function(*args))
