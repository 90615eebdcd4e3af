"""A collector's local control socket, for the commands run beside it on embedded ClickHouse.

chDB opens a data directory in one process only: while ``clicktrail serve --database
chdb:///path`` runs, ``clicktrail keys revoke ... --database chdb:///path`` cannot open the
engine itself. So a collector on chDB listens on a Unix socket in the data directory
(``path/clicktrail-<database>.sock``, mode 0600: whoever may open it may read the data files
anyway), and the commands send it the :class:`~collector.storage.base.Store` calls they make
(:class:`RemoteStore`). One call per connection, one JSON line each way; arguments and answers
are converted with the protocol's own type hints, so a call over the socket returns what the
store's method returns. SQLite and a ClickHouse server need none of this: several processes
open them at once.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import os
import socket
import socketserver
import threading
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import msgspec

from collector.storage.base import Store
from collector.storage.clickhouse.connection import split_url

log = logging.getLogger("clicktrail")

_NOT_REMOTE = frozenset({"close", "migrate"})
_MAX_LINE = 1 << 20
_REMOTE_ERRORS: dict[str, type[Exception]] = {"ValueError": ValueError, "KeyError": KeyError}


class _Call(msgspec.Struct):
    method: str
    args: list[msgspec.Raw]


class _Answer(msgspec.Struct, omit_defaults=True):
    result: msgspec.Raw = msgspec.Raw(b"null")
    error: str | None = None
    kind: str | None = None


def socket_path(database: str) -> Path | None:
    """Where a collector on ``database`` listens: only for chDB on a data directory, one socket
    per ClickHouse database in it."""
    parsed = urlparse(database)
    if parsed.scheme.lower() != "chdb" or parsed.netloc or not parsed.path:
        return None
    try:
        name = split_url(database)[1]
    except ValueError:
        return None
    return Path(parsed.path) / f"clicktrail-{name}.sock"


def _hints(method: str) -> tuple[list[Any], Any]:
    """The parameter types and the return type of a :class:`Store` method."""
    if method.startswith("_") or method in _NOT_REMOTE or not hasattr(Store, method):
        raise ValueError(f"{method!r} is not a store call")
    function = getattr(Store, method)
    hints = typing.get_type_hints(function)
    names = [n for n in inspect.signature(function).parameters if n != "self"]
    return [hints.get(n, Any) for n in names], hints.get("return", Any)


class ControlServer:
    """The socket's server: a thread accepting calls, each run in a thread of its own.
    ``after`` maps a method to what runs once it returned (revoking a key drops it from this
    process's key cache)."""

    def __init__(
        self, path: Path, store: Store, after: dict[str, Callable[..., object]] | None = None
    ) -> None:
        self.path = path
        self._store = store
        self._after = after or {}
        self._server: socketserver.ThreadingUnixStreamServer | None = None
        self._thread: threading.Thread | None = None

    @classmethod
    def for_store(
        cls, store: Store, after: dict[str, Callable[..., object]] | None = None
    ) -> ControlServer | None:
        path = socket_path(getattr(store, "url", "") or "")
        return cls(path, store, after) if path is not None else None

    def start(self) -> None:
        if _answers(self.path):
            log.warning("%s is served by another collector: no control socket here", self.path)
            return
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # left by a collector that was killed
        handler = _handler(self)
        old_umask = os.umask(0o177)
        try:
            self._server = socketserver.ThreadingUnixStreamServer(str(self.path), handler)
        finally:
            os.umask(old_umask)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="control", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        if self._thread is not None:
            self._thread.join(timeout)

    def answer(self, line: bytes) -> bytes:
        """One call's answer line."""
        try:
            call = msgspec.json.decode(line, type=_Call)
            params = _hints(call.method)[0]
            if len(call.args) > len(params):
                raise ValueError(f"{call.method} takes {len(params)} arguments")
            args = [msgspec.json.decode(a, type=t) for a, t in zip(call.args, params, strict=False)]
            result = getattr(self._store, call.method)(*args)
            if (after := self._after.get(call.method)) is not None:
                after(*args)
            return msgspec.json.encode(_Answer(result=msgspec.Raw(msgspec.json.encode(result))))
        except (ValueError, KeyError, msgspec.DecodeError) as exc:
            kind = type(exc).__name__ if type(exc).__name__ in _REMOTE_ERRORS else "ValueError"
            return msgspec.json.encode(_Answer(error=str(exc), kind=kind))
        except Exception as exc:  # the caller sees it; the collector goes on
            log.exception("control call failed")
            return msgspec.json.encode(_Answer(error=f"{type(exc).__name__}: {exc}"))


def _handler(server: ControlServer) -> type[socketserver.StreamRequestHandler]:
    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            line = self.rfile.readline(_MAX_LINE)
            self.wfile.write(server.answer(line) + b"\n")

    return Handler


def _answers(path: Path) -> bool:
    """True when a collector listens on ``path``."""
    if not path.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        try:
            sock.connect(str(path))
        except OSError:
            return False
    return True


class RemoteStore:
    """The :class:`Store` of the collector listening on ``path``: each method call is sent to
    it. ``close`` and ``migrate`` do nothing (the collector owns the store)."""

    def __init__(self, path: Path, timeout: float = 120.0) -> None:
        self.path = path
        self.timeout = timeout

    @classmethod
    def of(cls, database: str) -> RemoteStore | None:
        """The remote store when a collector serves ``database`` on this machine, else None."""
        path = socket_path(database)
        return cls(path) if path is not None and _answers(path) else None

    def close(self) -> None:
        return None

    def migrate(self) -> None:
        return None

    def __getattr__(self, method: str) -> Callable[..., Any]:
        try:
            returns = _hints(method)[1]
        except ValueError:
            raise AttributeError(method) from None

        def call(*args: Any, **kwargs: Any) -> Any:
            if kwargs:  # sent in the method's parameter order, defaults filled in
                bound = inspect.signature(getattr(Store, method)).bind(None, *args, **kwargs)
                bound.apply_defaults()
                args = tuple(bound.arguments.values())[1:]
            return self._call(method, args, returns)

        return call

    def _call(self, method: str, args: tuple[Any, ...], returns: Any) -> Any:
        line = msgspec.json.encode({"method": method, "args": list(args)}) + b"\n"
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(self.timeout)
            sock.connect(str(self.path))
            sock.sendall(line)
            answer = msgspec.json.decode(sock.makefile("rb").readline(), type=_Answer)
        if answer.error is not None:
            raise _REMOTE_ERRORS.get(answer.kind or "", RuntimeError)(answer.error)
        return msgspec.json.decode(answer.result, type=returns)
