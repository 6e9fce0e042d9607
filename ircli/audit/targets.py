"""Which targets a record concerns, and what a record says of one of them.

The store keeps an index of ``(target, seq)`` rows, written in the same transaction as the
records (``audit_targets``, docs/audit.md). ``record_targets`` says which rows a record gets:

* its ``target`` column, whatever its kind (set on one-target records);
* ``action.intent``: every id in ``params.targets``;
* ``action.outcome``: every id in its groups (``ircli.audit.outcomes``).

Other kinds (``run.started`` lists every target a run *planned*, not what it did) only count
through their ``target`` column. ``write_target_index`` writes the rows, the cheapest way on
each database. Ids are indexed as stored, after redaction; ids that are not
text (a malformed record) are left out. The index is derived data, outside the hash chain:
anything it says can be recomputed from the records with this function.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ARRAY, BigInteger, Connection, Text, bindparam, func, insert, select

from ircli.audit.outcomes import all_text, outcome_groups
from ircli.audit.records import AuditRecord
from ircli.audit.schema import audit_targets

__all__ = [
    "INDEXED_KINDS",
    "TargetEntry",
    "record_targets",
    "target_entry",
    "write_target_index",
]

_T = TypeVar("_T")

INDEXED_KINDS = ("action.intent", "action.outcome")
"""The kinds whose params or outcome name targets the index holds."""


def record_targets(
    kind: str, target: str | None, params: Mapping[str, Any], outcome: Mapping[str, Any]
) -> list[str]:
    """The distinct target ids a record concerns, in the order it names them."""
    found: dict[str, None] = {} if target is None else {target: None}
    if kind == "action.intent":
        ids = params.get("targets")
        if isinstance(ids, list):
            found.update(dict.fromkeys(_texts(ids)))
    elif kind == "action.outcome":
        for ids, _fields in outcome_groups(outcome):
            found.update(dict.fromkeys(_texts(ids)))
    return list(found)


def _texts(ids: list[Any]) -> list[str]:
    return ids if all_text(ids) else [i for i in ids if isinstance(i, str)]


@dataclass(frozen=True)
class TargetEntry:
    """What one record says of one target: ``audit log --target``'s row."""

    seq: int
    recorded_at: str
    kind: str
    operator: str
    incident: str | None
    run: str | None
    step: str | None
    action: str | None
    target: str
    batch: bool | None
    """Intents: whether the target went in a batch request."""
    outcome: str | None
    """Outcomes: this target's result (``done``, ``already_done``, ``retryable``, ``failed``)."""
    status: int | None
    attempts: int | None
    latency_ms: int | None
    error: str | None
    targets_in_record: int
    """How many targets the record concerns (a batch's outcome names up to 2,048)."""

    def as_json(self) -> dict[str, Any]:
        """The ``--json`` object (docs/audit.md): times ``_at``, counts ``_count``,
        durations ``_seconds``."""
        return {
            "seq": self.seq,
            "recorded_at": self.recorded_at,
            "kind": self.kind,
            "operator": self.operator,
            "incident": self.incident,
            "run": self.run,
            "step": self.step,
            "action": self.action,
            "target": self.target,
            "batch": self.batch,
            "outcome": self.outcome,
            "status": self.status,
            "attempts": self.attempts,
            "latency_seconds": None if self.latency_ms is None else self.latency_ms / 1000,
            "error": self.error,
            "targets_in_record": self.targets_in_record,
        }


def target_entry(record: AuditRecord, target: str) -> TargetEntry:
    """What ``record`` says of ``target`` (its own result inside a grouped outcome)."""
    fields: Mapping[str, Any] = {}
    if record.kind == "action.outcome":
        fields = next((found for ids, found in outcome_groups(record.outcome) if target in ids), {})
    batch = record.params.get("batch") if record.kind == "action.intent" else None
    return TargetEntry(
        seq=record.seq,
        recorded_at=record.ts,
        kind=record.kind,
        operator=record.operator,
        incident=record.incident,
        run=record.run,
        step=record.step,
        action=_typed(record.params.get("action"), str),
        target=target,
        batch=_typed(batch, bool),
        outcome=_typed(fields.get("outcome"), str),
        status=_typed(fields.get("status"), int),
        attempts=_typed(fields.get("attempts"), int),
        latency_ms=_typed(fields.get("latency_ms"), int),
        error=_typed(fields.get("error"), str),
        targets_in_record=len(
            record_targets(record.kind, record.target, record.params, record.outcome)
        ),
    )


def _typed(value: object, kind: type[_T]) -> _T | None:
    """``value`` if it has the type a well-formed record gives it, else None (records come
    from the store: a malformed one shows as unknown, never as a wrong type)."""
    if kind is int and isinstance(value, bool):
        return None
    return value if isinstance(value, kind) else None


_INSERT_TARGETS = insert(audit_targets)
# On SQLite, SQLAlchemy's per-row work would cost more than the inserts: a record's long id
# list is unpacked by SQLite itself (json_each, one statement per record), short ones go as
# plain rows in one executemany.
_JSON_IDS = func.json_each(bindparam("ids")).table_valued("value")
_INSERT_TARGET_LISTS = insert(audit_targets).from_select(
    ["target", "seq"], select(_JSON_IDS.c.value, bindparam("seq", type_=BigInteger))
)
_INSERT_TARGET_ROWS = "INSERT INTO audit_targets (target, seq) VALUES (?, ?)"
_LIST_FROM = 8
"""Ids in one record from which json_each is the cheaper way (measured: about 4)."""
# On PostgreSQL, likewise, the server unnests each record's id array: one statement per record
# (a record of 2,048 ids took 22 ms so, 79 ms as 2,048 rows in an executemany).
_INSERT_TARGET_ARRAYS = insert(audit_targets).from_select(
    ["target", "seq"],
    select(func.unnest(bindparam("ids", type_=ARRAY(Text))),
           bindparam("seq", type_=BigInteger)),
)  # fmt: skip


def write_target_index(
    connection: Connection, linked: list[tuple[int, str, str, dict[str, Any]]]
) -> None:
    """The target index rows of records being appended — (seq, prev_hash, hash, content), as
    ``link_records`` gives them — in their transaction."""
    named = [
        (seq, record_targets(content["kind"], content["target"], content["params"],
                             content["outcome"]))
        for seq, _prev, _digest, content in linked
    ]  # fmt: skip
    if connection.dialect.name == "postgresql":
        arrays = [{"seq": seq, "ids": ids} for seq, ids in named if ids]
        if arrays:
            connection.execute(_INSERT_TARGET_ARRAYS, arrays)
        return
    if connection.dialect.name != "sqlite":
        rows = [{"target": target, "seq": seq} for seq, ids in named for target in ids]
        if rows:
            connection.execute(_INSERT_TARGETS, rows)
        return
    pairs = [(target, seq) for seq, ids in named if len(ids) < _LIST_FROM for target in ids]
    if pairs:
        connection.exec_driver_sql(_INSERT_TARGET_ROWS, pairs)
    lists = [{"seq": seq, "ids": json.dumps(ids)} for seq, ids in named if len(ids) >= _LIST_FROM]
    if lists:
        connection.execute(_INSERT_TARGET_LISTS, lists)
