"""Counting the HTTP requests ircli sends to a platform, by kind, for the run sending them.

A run opens ``counting()`` around everything it sends; ``PlatformClient`` adds each request it
puts on the wire (retries included) to the innermost open tally. Scopes nest and do not add
up: a playbook's action step runs its own executor run with its own tally, so every request is
counted once, by the run whose ``run.finished`` (or ``run.refused``) record carries it as
``http_requests``. The tally travels in a context variable, so the run's asyncio tasks
(workers, listing readers) count into it without being handed it. Requests sent outside any
run (the drill reading the sandbox's score) are counted nowhere.

Kinds: ``action`` (the writes), ``check`` (reading a target's state before resending),
``listing`` (one page of a listing: target selection, playbook queries), ``probe`` (the
preflight read and the health probes of a paused run).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal

__all__ = ["REQUEST_KINDS", "RequestKind", "count", "counting", "http_requests", "total"]

RequestKind = Literal["action", "check", "listing", "probe"]
REQUEST_KINDS: tuple[RequestKind, ...] = ("action", "check", "listing", "probe")

_tally: ContextVar[Counter[str] | None] = ContextVar("ircli_http_requests", default=None)


@contextmanager
def counting() -> Iterator[Counter[str]]:
    """A fresh tally for the requests sent until the block ends (the enclosing one resumes)."""
    tally: Counter[str] = Counter()
    token = _tally.set(tally)
    try:
        yield tally
    finally:
        _tally.reset(token)


def count(kind: RequestKind) -> None:
    """One request of ``kind`` went out (counted in the innermost open tally, if any)."""
    tally = _tally.get()
    if tally is not None:
        tally[kind] += 1


def http_requests(tally: Mapping[str, int] | None = None) -> dict[str, int]:
    """``tally`` (by default the innermost open one) as a record holds it: every kind, in
    order, with zeros."""
    if tally is None:
        tally = _tally.get() or {}
    return {kind: int(tally.get(kind, 0)) for kind in REQUEST_KINDS}


def total(recorded: Any) -> int | None:
    """The sum of a record's ``http_requests``; None when the record has none (written by
    an older ircli, or a run that never finished)."""
    if not isinstance(recorded, Mapping):
        return None
    return sum(v for v in recorded.values() if type(v) is int)
