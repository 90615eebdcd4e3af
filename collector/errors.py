"""Domain errors: what domain code raises when a request, a file or a command cannot be served.

They say what went wrong in words for whoever sent the input, and name the field to blame
(``param``) when there is one. They know nothing of HTTP: :mod:`collector.http.errors` maps
each kind to its status code and the JSON error shape, and the command line prints the message.
"""

from __future__ import annotations


class DomainError(Exception):
    """A failure the caller can act on; ``message`` is shown to them as it is."""

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


class Malformed(DomainError):
    """The input cannot be read at all: empty, not JSON, a broken gzip body."""


class Invalid(DomainError):
    """The input reads, but a value in it is not allowed."""


class Unauthorized(DomainError):
    """The credential is missing, forged or expired."""


class Forbidden(DomainError):
    """The credential is good but does not allow this."""


class NotFound(DomainError):
    """No such thing, or none the caller may know of."""


class Conflict(DomainError):
    """The input is good, but clashes with what is stored (a short link's key is taken)."""


class TooLarge(DomainError):
    """The input is over a size limit."""


class Busy(DomainError):
    """The collector cannot take this now; the same input may be sent again after
    ``retry_after`` seconds."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
