"""Copying a store into another, record for record: the same chain, the same anchors.

A solo SQLite store moves into the team's PostgreSQL store this way, and a team store comes
back out as a SQLite file (an offline copy, a backup anyone can verify). Records are written as
stored — seq, ts, operator, text and hashes unchanged (``AuditStore.append_stored``) — so an
anchor taken on the source verifies on the copy. The target must be empty, or hold the start
of the source (an earlier copy): then only the rest is appended.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass

from ircli.audit.records import Anchor, RecordFilter
from ircli.audit.store import AuditStore
from ircli.errors import GuardRefused

__all__ = ["COPY_BATCH", "CopyResult", "copy_records"]

COPY_BATCH = 5000
"""Records per transaction on the target."""


@dataclass(frozen=True)
class CopyResult:
    """What a copy did."""

    copied: int
    """Records appended to the target."""
    skipped: int
    """Records the target held already (the source's first ones)."""
    head: Anchor | None
    """The target's head afterwards: the source's, as it was when the copy read it."""


def copy_records(
    source: AuditStore,
    target: AuditStore,
    *,
    batch: int = COPY_BATCH,
    progress: Callable[[int, int], None] = lambda _copied, _total: None,
) -> CopyResult:
    """Append to ``target`` the records of ``source`` it does not hold yet, ``batch`` records
    a transaction, calling ``progress(copied, total)`` after each.

    ``GuardRefused`` (nothing written) when ``target`` holds records that are not the start
    of ``source``; ``AuditIntegrityError`` when a source record does not extend the chain
    (the batches before it stay: they are a verified start of the source).
    """
    start = _shared_head(source, target)
    source_head = source.head()
    total = (source_head.seq if source_head else 0) - start
    copied = 0
    head = target.head()
    with contextlib.closing(source.stored_rows(after_seq=start)) as rows:
        while chunk := list(itertools.islice(rows, batch)):
            head = target.append_stored(chunk)
            copied += len(chunk)
            progress(copied, max(total, copied))
    return CopyResult(copied=copied, skipped=start, head=head)


def _shared_head(source: AuditStore, target: AuditStore) -> int:
    """The seq up to which ``target`` holds ``source``'s records (0: it is empty)."""
    held = target.head()
    if held is None:
        return 0
    if _hash_at(source, held.seq) == held.hash:
        return held.seq
    # Hashes chain: once two stores differ at a seq they differ at every later one, so the
    # first difference is found by bisection.
    source_head = source.head()
    last = min(held.seq, source_head.seq if source_head else 0)
    low, high = 1, last + 1  # the first differing seq lies in [low, high]
    while low < high:
        middle = (low + high) // 2
        if _hash_at(source, middle) == _hash_at(target, middle):
            low = middle + 1
        else:
            high = middle
    if low > last:
        raise GuardRefused(
            f"the target {target.url} is ahead of the source {source.url}: it holds the "
            f"source's {last:,} records and {held.seq - last:,} more; nothing was copied.",
            hint="Copy the other way, or into an empty store.",
        )
    raise GuardRefused(
        f"the target {target.url} holds another chain: its records differ from the source's "
        f"from seq {low} on (it holds {held.seq:,}); nothing was copied.",
        hint="Copy into an empty store, or into an earlier copy of this one.",
    )


def _hash_at(store: AuditStore, seq: int) -> str | None:
    found = list(store.records(RecordFilter(after_seq=seq - 1, limit=1)))
    return found[0].hash if found and found[0].seq == seq else None
