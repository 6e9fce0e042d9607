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
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal

__all__ = [
    "REQUEST_KINDS",
    "RequestKind",
    "add_recorded",
    "count",
    "counting",
    "describe",
    "http_requests",
    "run_requests",
]

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


def add_recorded(into: dict[str, int], recorded: Any) -> bool:
    """Add a record's ``http_requests`` (by kind) to ``into``; False when it holds none
    (written by an older ircli, or not a mapping)."""
    if not isinstance(recorded, Mapping):
        return False
    for kind in REQUEST_KINDS:
        value = recorded.get(kind)
        into[kind] = into.get(kind, 0) + (value if type(value) is int else 0)
    return True


def run_requests(records: Iterable[Any]) -> dict[str, int] | None:
    """The HTTP requests a run's records hold: its ``--where`` selection and the reads that
    resolved its protected accounts (``run.started``, and ``run.resumed`` for a resume's), and
    every session's ``run.finished``; None when no finish record holds a count."""
    sent: dict[str, int] = dict.fromkeys(REQUEST_KINDS, 0)
    finished = False
    for record in records:
        if record.kind in ("run.started", "run.resumed"):
            for part in ("selection", "protection"):
                found = record.params.get(part)
                if isinstance(found, Mapping):
                    add_recorded(sent, found.get("http_requests"))
        elif record.kind == "run.finished":
            finished = add_recorded(sent, record.outcome.get("http_requests")) or finished
    return sent if finished else None


_WORDS = {"action": "action", "check": "check", "listing": "listing page", "probe": "probe"}


def describe(sent: Mapping[str, int] | None) -> str:
    """``226 (200 actions, 26 listing pages)``; ``unknown (no finish record)`` for None."""
    if sent is None:
        return "unknown (no finish record)"
    parts = [
        f"{n:,} {word}{'' if n == 1 else 's'}"
        for kind, word in _WORDS.items()
        if (n := sent.get(kind, 0))
    ]
    total = sum(sent.get(kind, 0) for kind in REQUEST_KINDS)
    return f"{total:,}" + (f" ({', '.join(parts)})" if parts else "")
