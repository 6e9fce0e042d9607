"""Audit record types: what callers append and what the store hands back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["Anchor", "AuditRecord", "NewRecord", "RecordFilter"]

JsonObject = Mapping[str, Any]


@dataclass(frozen=True)
class NewRecord:
    """A record to append. ``seq``, time, operator and hashes are filled in by the store.

    ``params`` and ``outcome`` hold JSON values without floats (strings, integers within
    ±(2^53−1), booleans, null, lists, objects whose keys have no character outside the BMP)
    so that any RFC 8785 verifier hashes them as ircli does; record durations as integer
    milliseconds or microseconds.
    """

    kind: str
    incident: str | None = None
    run: str | None = None
    step: str | None = None
    target: str | None = None
    params: JsonObject = field(default_factory=dict)
    outcome: JsonObject = field(default_factory=dict)
    at: datetime | None = None
    """When it happened, if not now (the store's clock); the record keeps it as ``ts``."""


@dataclass(frozen=True)
class AuditRecord:
    """One link of the chain, as stored."""

    seq: int
    ts: str
    operator: str
    kind: str
    incident: str | None
    run: str | None
    step: str | None
    target: str | None
    params: dict[str, Any]
    outcome: dict[str, Any]
    prev_hash: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        """The record as a plain JSON-ready mapping (the export and ``--json`` form)."""
        return {
            "seq": self.seq,
            "ts": self.ts,
            "operator": self.operator,
            "kind": self.kind,
            "incident": self.incident,
            "run": self.run,
            "step": self.step,
            "target": self.target,
            "params": self.params,
            "outcome": self.outcome,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclass(frozen=True)
class Anchor:
    """A (seq, hash) pair written somewhere else, pinning the chain up to ``seq``."""

    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"


@dataclass(frozen=True)
class RecordFilter:
    """Which records to read; every field narrows the selection."""

    incident: str | None = None
    run: str | None = None
    kinds: tuple[str, ...] = ()
    """Exact kinds, or prefixes ending in ``.`` (``action.`` matches ``action.intent``)."""
    since: str | None = None
    until: str | None = None
    after_seq: int = 0
    limit: int | None = None
    newest_first: bool = False
    """In descending ``seq`` order (with ``limit``: the newest records)."""
    params_contain: tuple[str, ...] = ()
    """Records whose params, as stored (canonical JSON: ``"key":value``, no spaces), contain
    one of these texts: a narrowing done by the database, which may let through more than
    the reader wants (SQLite compares ASCII letters in any case), never less."""
    target: str | None = None
    """Records concerning this target (``ircli.audit.targets``: its own record, intents and
    outcomes naming it among others), found through the target index."""
