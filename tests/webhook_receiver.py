"""A scripted webhook receiver for the webhook tests, the e2e test and the benchmark: a real HTTP
server on loopback that records each request and answers the next :class:`Answer` of its script
(a status with headers, a dropped connection, or a wait past the sender's timeout), then what its
``fallback`` says (200 unless told)."""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without answering
    delay_s: float = 0.0  # wait this long before answering
    late: bool = False  # the sender will have given up by then: recorded as not answered


DROP = Answer(drop=True)


def hang(seconds: float) -> Answer:
    """An answer that comes after the sender's timeout (give it a shorter one)."""
    return Answer(delay_s=seconds, late=True)


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int | None  # the status sent; None when dropped or too late for the sender
    at: float  # time.monotonic() when it arrived
    wall: float = field(default_factory=time.time)  # the same, on the wall clock

    def json(self) -> dict:
        return json.loads(self.body)

    @functools.cached_property
    def items(self) -> list[dict]:
        """The body's items (parsed once)."""
        try:
            data = self.json().get("data")
        except (ValueError, AttributeError):
            return []
        return [item for item in data or [] if isinstance(item, dict)]

    def item_ids(self) -> list[str]:
        return [item["id"] for item in self.items]


@dataclass
class Receiver:
    url: str = ""
    script: list[Answer] = field(default_factory=list)
    fallback: Callable[[], Answer] = Answer
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_answer(self) -> Answer:
        with self.lock:
            return self.script.pop(0) if self.script else self.fallback()

    def delivered(self) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.answered and 200 <= r.answered < 300]

    def delivered_ids(self) -> list[str]:
        return [i for r in self.delivered() for i in r.item_ids()]

    def delivered_items(self) -> list[dict]:
        return [item for r in self.delivered() for item in r.items]

    def wait_for(self, condition, timeout: float = 15.0, interval: float = 0.02) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            time.sleep(interval)
        return condition()


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # The answer's head and body go out in two writes: without this, Nagle holds the second
        # until the sender's delayed ACK (40 ms a request), which no real receiver suffers.
        disable_nagle_algorithm = True

        def _any(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            answer = receiver.next_answer()
            headers = {k.lower(): v for k, v in self.headers.items()}
            status = None if answer.drop or answer.late else answer.status
            request = Request(self.command, self.path, headers, body, status, time.monotonic())
            with receiver.lock:
                receiver.requests.append(request)
            if answer.delay_s:
                time.sleep(answer.delay_s)
            if answer.drop:
                self.close_connection = True
                self.connection.close()
                return
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        do_POST = do_PUT = do_GET = _any

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@contextmanager
def receiving(
    script: list[Answer] | None = None,
    host: str = "127.0.0.1",
    fallback: Callable[[], Answer] = Answer,
) -> Iterator[Receiver]:
    """A :class:`Receiver` on ``host`` (a free port) until the block ends."""
    receiver = Receiver(script=list(script or []), fallback=fallback)
    server = ThreadingHTTPServer((host, 0), _handler(receiver))
    server.daemon_threads = True
    receiver.url = f"http://{host}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
