"""A real clickstream receiver for tests and benchmarks: an HTTP server on loopback that records
every request it gets and answers from a script (a status, a dropped connection, or a wait
longer than the dispatcher's timeout), then 200."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from tests.appkit import make_beacon
from tests.servers import CollectorProcess, clicktrail_cli, start_collector

DROP = "drop"  # close the connection without an answer


def hang(seconds: float) -> tuple[str, float]:
    """An answer that comes only after ``seconds`` (then 200): a receiver timing out."""
    return ("hang", seconds)


Answer = int | str | tuple[str, float]


@dataclass
class Arrival:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int | None  # what the receiver answered; None: no answer (dropped, or too late)
    at: float  # time.time() when the body was read

    def items(self) -> list[dict]:
        try:
            body = json.loads(self.body)
        except ValueError:
            return []
        return [x for x in body.get("data") or [] if isinstance(x, dict)]


@dataclass
class Receiver:
    url: str
    script: list[Answer]
    fallback: Callable[[], Answer] = lambda: 200  # the answer once the script is used up
    arrivals: list[Arrival] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_answer(self) -> Answer:
        with self.lock:
            return self.script.pop(0) if self.script else self.fallback()

    def record(self, arrival: Arrival) -> None:
        with self.lock:
            self.arrivals.append(arrival)

    def delivered(self) -> list[Arrival]:
        """The requests answered 2xx."""
        with self.lock:
            return [a for a in self.arrivals if a.status is not None and 200 <= a.status < 300]

    def delivered_items(self) -> list[dict]:
        return [item for arrival in self.delivered() for item in arrival.items()]

    def wait_for(self, predicate, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self):
                return True
            time.sleep(0.05)
        return predicate(self)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            answer = receiver.next_answer()
            headers = {k.lower(): v for k, v in self.headers.items()}
            status = answer if isinstance(answer, int) else None
            receiver.record(Arrival(self.command, self.path, headers, body, status, time.time()))
            if isinstance(answer, tuple):  # the sender gives up first: not a delivery
                time.sleep(answer[1])
                status = 200
            if status is None:
                self.close_connection = True
                self.connection.close()
                return
            self.send_response(status)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        do_POST = do_PUT = _any

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def receiver(
    script: list[Answer] | None = None,
    host: str = "127.0.0.2",
    fallback: Callable[[], Answer] = lambda: 200,
) -> Iterator[Receiver]:
    """A :class:`Receiver` listening on ``host`` (any free port) until the block ends: it
    answers from ``script``, then what ``fallback`` says."""
    got = Receiver("", list(script or []), fallback)
    server = ThreadingHTTPServer((host, 0), _handler(got))
    server.daemon_threads = True
    got.url = f"http://{host}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield got
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class KillRun:
    """What one kill test saw: beacons answered 204 before the kill, and how many of them the
    receiver got once, more than once, or never."""

    answered: int
    delivered: int
    duplicates: int
    lost: int
    seconds_to_catch_up: float


def kill_run(database: str, workdir: Path, ingest_seconds: float = 2.0) -> KillRun:
    """Sustained ingest to a collector with a destination, ``kill -9`` mid-run, a restart, and
    a wait until every answered page view has arrived (at most 60 s)."""
    brand = clicktrail_cli("brands", "create", "killed", "--domain", "localhost", database=database)
    flags = ("--webhook-networks", "127.0.0.2/32", "--webhook-retry-schedule", "0.2")
    with receiver() as got:
        first = start_collector("serve", database, workdir / "first.log", *flags)
        api = httpx.Client(
            base_url=f"{first.url}/api/brands/{brand['id']}",
            headers={"EF-Access-Key": brand["api_key"]},
        )
        made = api.post("/webhooks", json={"url": got.url + "/k", "events": ["pageview"]})
        assert made.status_code == 201, made.text
        answered = _ingest_until_killed(first, brand["site_key"], ingest_seconds)
        second = start_collector("serve", database, workdir / "second.log", *flags)
        try:
            started = time.monotonic()
            got.wait_for(lambda r: answered <= {i["id"] for i in r.delivered_items()}, 60)
            waited = time.monotonic() - started
        finally:
            second.stop()
        ids = [item["id"] for item in got.delivered_items()]
    unique = set(ids)
    return KillRun(
        answered=len(answered),
        delivered=len(unique & answered),
        duplicates=len(ids) - len(unique),
        lost=len(answered - unique),
        seconds_to_catch_up=waited,
    )


def _ingest_until_killed(collector: CollectorProcess, site_key: str, seconds: float) -> set[str]:
    """Beacons from 8 threads for ``seconds``, then ``kill -9`` while they still send; the ids
    of the page views answered 204."""
    answered: set[str] = set()
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def send() -> None:
        with httpx.Client(timeout=5) as client:
            while True:
                beacon = make_beacon(site_key, u="http://localhost/landing")
                try:
                    response = client.post(collector.url + "/collect", content=json.dumps(beacon))
                except httpx.HTTPError:
                    return  # the collector is gone
                if response.status_code == 204:
                    with lock:
                        answered.add(beacon["p"])
                if time.monotonic() > stop_at + 5:
                    return

    threads = [threading.Thread(target=send, daemon=True) for _ in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    collector.process.send_signal(signal.SIGKILL)
    collector.process.wait(timeout=30)
    for thread in threads:
        thread.join(timeout=10)
    with lock:
        return set(answered)
