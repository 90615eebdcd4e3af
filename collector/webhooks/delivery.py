"""One delivery attempt of one batch to one destination: the body, the Standard Webhooks
signature, the request through the outbound guard (:mod:`collector.net`: every address the
host resolves to vetted at each attempt, the connection pinned to it, no redirects followed),
and what the answer means (:class:`Result`).

Signature (Standard Webhooks v1): ``webhook-signature: v1,<base64 HMAC-SHA256>`` over
``f"{webhook-id}.{webhook-timestamp}.".encode() + body``, keyed with the base64-decoded part of
the destination's secret after ``whsec_``.
"""

from __future__ import annotations

import base64
import dataclasses
import email.utils
import hashlib
import hmac
import http.client
import ssl
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import msgspec

from collector.net import (
    BadURL,
    IPNetwork,
    NotAllowed,
    Unresolvable,
    parse_target,
    pinned_connection,
    vetted_addresses,
)
from collector.storage.model import OutboxItem, WebhookDestination

TIMEOUT_S = 15.0
MAX_RETRY_AFTER_S = 86_400.0  # a receiver's Retry-After is honoured up to a day
RESPONSE_SNIPPET_CHARS = 512
_RESPONSE_READ_BYTES = 4096
USER_AGENT = "Clicktrail-Webhooks/1.0"

Verdict = Literal["delivered", "retry", "failed", "gone"]


@dataclass(frozen=True)
class Result:
    """What one attempt came to. ``verdict``: ``delivered`` (2xx), ``retry`` (408, 429, 5xx,
    no answer, a refused address), ``failed`` (another status: not retried), ``gone`` (410).
    ``retry_after_s``: the receiver's ``Retry-After``, capped at a day."""

    verdict: Verdict
    status: int | None = None
    error: str | None = None
    response: str = ""
    latency_ms: int = 0
    retry_after_s: float | None = None


def batch_body(items: Sequence[OutboxItem], public_key: str) -> bytes:
    """The seed's envelope: ``{"data": [item, ...], "key": public_key}``."""
    data = b",".join(item.body for item in items)
    return b'{"data":[' + data + b'],"key":' + msgspec.json.encode(public_key) + b"}"


def event_types(items: Iterable[OutboxItem]) -> list[str]:
    """The kinds of a batch, sorted, once each."""
    return sorted({item.kind for item in items})


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header's value for ``body`` sent as ``message_id`` at
    ``timestamp`` (unix seconds)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def request_headers(
    destination: WebhookDestination, batch_id: str, timestamp: int, body: bytes, kinds: list[str]
) -> dict[str, str]:
    """Every header of a delivery: content type, agent, the destination's own auth header and
    the Standard Webhooks ones, plus ``webhook-event-types``."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Accept-Encoding": "identity",
        "webhook-id": batch_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(destination.secret, batch_id, timestamp, body),
        "webhook-event-types": ",".join(kinds),
    }
    if destination.header_key and destination.header_value is not None:
        headers[destination.header_key] = destination.header_value
    return headers


def parse_retry_after(value: str | None, now_s: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` (delay seconds or an HTTP date), capped at a day;
    None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_S)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return min(max(when.timestamp() - now_s, 0.0), MAX_RETRY_AFTER_S)


def verdict_of(status: int) -> Verdict:
    if 200 <= status < 300:
        return "delivered"
    if status == 410:
        return "gone"
    if status in (408, 429) or status >= 500:
        return "retry"
    return "failed"  # 3xx (redirects are not followed) and the other 4xx


class Sender:
    """Sends batches under the outbound guard's rules. Thread-safe."""

    def __init__(
        self,
        allowed_networks: Iterable[IPNetwork] = (),
        timeout_s: float = TIMEOUT_S,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.allowed_networks = tuple(allowed_networks)
        self.timeout_s = timeout_s
        self._tls = tls or ssl.create_default_context()  # certificates verified

    def send(
        self,
        destination: WebhookDestination,
        batch_id: str,
        items: Sequence[OutboxItem],
        timestamp: int,
    ) -> Result:
        """One attempt; never raises for what the network or the receiver does."""
        body = batch_body(items, destination.public_key)
        headers = request_headers(destination, batch_id, timestamp, body, event_types(items))
        started = time.monotonic()
        result = self._attempt(destination, body, headers, started)
        return dataclasses.replace(result, latency_ms=int((time.monotonic() - started) * 1000))

    def _attempt(
        self, destination: WebhookDestination, body: bytes, headers: dict[str, str], started: float
    ) -> Result:
        try:
            target = parse_target(destination.url)
        except BadURL as exc:
            return Result("failed", error=f"bad URL: {exc}")
        try:
            addresses = vetted_addresses(target.host, target.port, self.allowed_networks)
        except NotAllowed as exc:
            return Result("retry", error=f"not allowed: {exc}")
        except Unresolvable as exc:
            return Result("retry", error=str(exc))
        deadline = started + self.timeout_s
        error = "no address answered"
        for address in addresses:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return Result("retry", error="timed out")
            connection = pinned_connection(target, address, remaining, self._tls)
            try:
                connection.connect()
            except OSError as exc:
                connection.close()
                error = _describe(exc)
                continue  # unreachable or refused: try the next vetted address
            try:
                return self._exchange(connection, destination.method, target.path, body, headers)
            finally:
                connection.close()
        return Result("retry", error=error)

    def _exchange(
        self,
        connection: http.client.HTTPConnection,
        method: str,
        path: str,
        body: bytes,
        headers: dict[str, str],
    ) -> Result:
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            snippet = _snippet(response)
        except (OSError, http.client.HTTPException) as exc:
            return Result("retry", error=_describe(exc))
        retry_after = parse_retry_after(response.getheader("Retry-After"), time.time())
        return Result(
            verdict_of(response.status),
            status=response.status,
            response=snippet,
            retry_after_s=retry_after,
        )


def _snippet(response: http.client.HTTPResponse) -> str:
    """The first characters of the answer's body (the rest is not read)."""
    try:
        head = response.read(_RESPONSE_READ_BYTES)
    except (OSError, http.client.HTTPException):
        head = b""
    return head.decode("utf-8", "replace")[:RESPONSE_SNIPPET_CHARS]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, http.client.RemoteDisconnected):
        return "connection closed without an answer"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    text = str(exc) or type(exc).__name__
    return text[:200]
