"""HTTP(S) connections pinned to a vetted address: ``http.client`` never resolves the name
again (the name is only sent as ``Host`` and, over TLS, as SNI and for the certificate check),
so DNS cannot change between the check and the connection. No environment proxies."""

from __future__ import annotations

import http.client
import socket
import ssl

from collector.net.target import Target


class PinnedHTTP(http.client.HTTPConnection):
    """An HTTP connection to a given address; ``host`` only names it (Host header)."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class PinnedHTTPS(http.client.HTTPSConnection):
    """An HTTPS connection to a given address; SNI and the certificate check use ``host``."""

    def __init__(
        self, host: str, port: int, address: str, timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address
        self._tls = context

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def pinned_connection(
    target: Target, address: str, timeout: float, tls: ssl.SSLContext
) -> http.client.HTTPConnection:
    """A connection (not yet open) for ``target``, pinned to ``address``."""
    if target.scheme == "https":
        return PinnedHTTPS(target.host, target.port, address, timeout, tls)
    return PinnedHTTP(target.host, target.port, address, timeout)
