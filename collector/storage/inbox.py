"""What the stores keep of the enricher's progress through a collector's inbox
(:mod:`collector.inbox`): an enriched batch is stored exactly once, even when a crash makes the
enricher write it again.

- SQLite keeps a done mark per inbox (``inbox_marks``) and writes it in the batch's own
  transaction: :attr:`InboxMarks.marks_inbox_in_batch` is true and :meth:`InboxMarks.inbox_done`
  says where to resume.
- ClickHouse has no transaction across tables: the inbox claims a batch's range before it is
  written, and each insert of the batch carries :attr:`InboxBatch.token` as its
  ``insert_deduplication_token``, so the same range written again adds nothing.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol


class InboxMarkMoved(Exception):
    """The store's mark lies inside a batch's range: another enricher (a process that was
    stopping as this one started) stored part of it. The batch is read again from the mark."""


class InboxBatch(NamedTuple):
    """The inbox rows ``after < seq <= upto`` of inbox ``inbox_id``, enriched together."""

    inbox_id: str
    after: int
    upto: int

    @property
    def token(self) -> str:
        return f"inbox-{self.inbox_id}-{self.after}-{self.upto}"


class InboxMarks(Protocol):
    marks_inbox_in_batch: bool

    def inbox_done(self, inbox_id: str) -> int:
        """The last inbox row this store holds the enrichment of (0 when it does not keep
        marks, or has none)."""
