"""The hash chain, as pure functions: canonical form, record hash, verification.

Normative description in docs/audit.md. In short: a record's hash is the lowercase hex
SHA-256 of the canonical JSON (RFC 8785 / JCS) of the object

    {"v": 1, "seq", "ts", "operator", "kind", "incident", "run", "step", "target",
     "params", "outcome", "prev_hash"}

where ``prev_hash`` is the previous record's ``hash`` (64 zeros for ``seq`` 1). Records hold
no floats, no integers beyond ±(2^53−1) and no object keys outside the BMP
(``check_json_value``): for such values ``canonical_json`` is byte for byte RFC 8785.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ircli.audit.records import Anchor, AuditRecord
from ircli.errors import InvalidInput

__all__ = [
    "CHAIN_VERSION",
    "GENESIS_HASH",
    "MAX_SAFE_INTEGER",
    "Unstorable",
    "VerifyResult",
    "audit_safe",
    "canonical_json",
    "check_continues",
    "check_json_value",
    "member_text",
    "record_hash",
    "verify_records",
]

CHAIN_VERSION = 1
GENESIS_HASH = "0" * 64
MAX_SAFE_INTEGER = 2**53 - 1
"""The largest integer a record may hold, and its negative the smallest. RFC 8785 reads
numbers as IEEE 754 doubles: beyond this a JCS verifier would hash a rounded value."""
_SAFE_BITS = MAX_SAFE_INTEGER.bit_length()  # |n| <= 2**53 - 1 exactly when n has <= 53 bits


def check_json_value(value: Any, where: str = "value") -> None:
    """Raise ``TypeError`` unless ``value`` is JSON that ``canonical_json`` writes exactly as
    RFC 8785 does: no floats, integers within ±``MAX_SAFE_INTEGER``, string keys with no
    character outside the Basic Multilingual Plane (JCS orders keys by UTF-16 code units).
    ``where`` names the value in the message; a lone surrogate raises ``UnicodeEncodeError``."""
    kind = type(value)
    if kind is int:
        if value.bit_length() > _SAFE_BITS:
            raise _unsafe_integer(value, where)
        return
    if kind is bool or value is None:
        return
    if kind is str:
        value.encode("utf-8")  # lone surrogates cannot be hashed canonically
        return
    if kind is dict:  # the common case, without the Mapping ABC check
        _check_keys(value, where)
        for key, item in value.items():
            kind = type(item)
            if kind is str:
                item.encode("utf-8")
            elif kind is int:
                if item.bit_length() > _SAFE_BITS:
                    raise _unsafe_integer(item, f"{where} -> {key}")
            elif item is not None:
                check_json_value(item, f"{where} -> {key}")
        return
    if isinstance(value, int):  # an IntEnum and the like
        check_json_value(int(value), where)
        return
    if isinstance(value, str):
        value.encode("utf-8")
        return
    if isinstance(value, list | tuple):
        if all(type(item) is str for item in value):  # a list of ids: one pass
            "".join(value).encode("utf-8")
            return
        for item in value:
            check_json_value(item, where)
        return
    if isinstance(value, Mapping):
        check_json_value(dict(value), where)
        return
    raise TypeError(f"{where}: {type(value).__name__} is not allowed in an audit record")


def _check_keys(members: dict[Any, Any], where: str) -> None:
    try:
        keys = "".join(members)  # all keys in one pass: nearly always ASCII
    except TypeError:
        bad = next(key for key in members if not isinstance(key, str))
        raise TypeError(f"{where}: object keys must be strings, got {bad!r}") from None
    if keys.isascii():
        return
    keys.encode("utf-8")
    if max(keys) > "\uffff":
        bad = next(key for key in members if key and max(key) > "\uffff")
        raise Unstorable(
            f"{where}: the key {bad!r} has a character outside the Basic Multilingual Plane, "
            "which RFC 8785 sorts differently; it is not allowed in an audit record"
        )


class Unstorable(InvalidInput, TypeError):
    """A value the hash spec cannot hold (an integer beyond ±(2^53−1), a key outside the
    BMP): bad input when it came from a user (exit 2, nothing written), a ``TypeError`` for
    code that checks values."""


def _unsafe_integer(value: int, where: str) -> Unstorable:
    bits = value.bit_length()
    shown = f"the integer {value}" if bits <= 256 else f"a {bits}-bit integer"
    return Unstorable(
        f"{where}: {shown} is outside ±(2^53−1), which RFC 8785 verifiers cannot hash "
        "exactly; it is not allowed in an audit record (store it as a string)"
    )


def audit_safe(value: Any) -> Any:
    """``value`` made storable: floats become their decimal text, integers beyond
    ±``MAX_SAFE_INTEGER`` their digits, tuples lists, keys outside the BMP their ``\\U``
    escapes, other non-JSON values their ``str``. For parameters that come from users
    (playbook inputs)."""
    if isinstance(value, int) and value.bit_length() > _SAFE_BITS:
        return str(value)
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Mapping):
        return {_storable_key(str(key)): audit_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [audit_safe(item) for item in value]
    return str(value)


def _storable_key(key: str) -> str:
    if key.isascii() or max(key) <= "\uffff":
        return key
    return "".join(char if char <= "\uffff" else f"\\U{ord(char):08x}" for char in key)


def canonical_json(value: Any) -> str:
    """Canonical JSON text: keys sorted, no whitespace, UTF-8 characters kept as they are.

    For every value ``check_json_value`` accepts this is RFC 8785 (JCS) output: strings
    escaped as JCS escapes them (``json`` does the same), integers in plain decimal, and keys
    in code-point order, which is UTF-16 order for keys within the BMP. Existing records
    are hashed with it as they always were, whatever they hold.
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def member_text(key: str, value: Any) -> str:
    """The text ``key: value`` is stored as inside an object (``"key":value``): what
    ``RecordFilter.params_contain`` looks for."""
    return canonical_json({key: value})[1:-1]


def hashed_content(
    *,
    seq: int,
    ts: str,
    operator: str,
    kind: str,
    incident: str | None,
    run: str | None,
    step: str | None,
    target: str | None,
    params: Mapping[str, Any],
    outcome: Mapping[str, Any],
    prev_hash: str,
) -> dict[str, Any]:
    """The object whose canonical form is hashed."""
    return {
        "v": CHAIN_VERSION,
        "seq": seq,
        "ts": ts,
        "operator": operator,
        "kind": kind,
        "incident": incident,
        "run": run,
        "step": step,
        "target": target,
        "params": params,
        "outcome": outcome,
        "prev_hash": prev_hash,
    }


def record_hash(content: Mapping[str, Any]) -> str:
    """SHA-256 (lowercase hex) of the canonical UTF-8 bytes of ``content``."""
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def hash_of(record: AuditRecord) -> str:
    """Recompute the hash a stored record should carry."""
    return record_hash(
        hashed_content(
            seq=record.seq,
            ts=record.ts,
            operator=record.operator,
            kind=record.kind,
            incident=record.incident,
            run=record.run,
            step=record.step,
            target=record.target,
            params=record.params,
            outcome=record.outcome,
            prev_hash=record.prev_hash,
        )
    )


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of walking the chain."""

    total: int
    valid: int
    first_bad_seq: int | None = None
    reason: str | None = None
    head: Anchor | None = None
    time_decreases: int = 0
    """Valid records whose ``ts`` is earlier than their predecessor's (the chain holds, but
    a clock stepped back or writers' clocks disagree)."""
    first_time_decrease_seq: int | None = None

    @property
    def ok(self) -> bool:
        """True when every record checked out (and the anchor, if any, matched)."""
        return self.first_bad_seq is None


def verify_records(records: Iterable[AuditRecord], anchor: Anchor | None = None) -> VerifyResult:
    """Walk records in ascending ``seq`` order and report the first break.

    Detects modified records (hash mismatch), deleted records (a gap in ``seq``), reordered
    or inserted records (``prev_hash`` not linking to the predecessor), and — given an anchor
    past the end — a truncated tail. Stops at the first problem.
    """
    expected_seq = 1
    prev_hash = GENESIS_HASH
    prev_ts = ""
    decreases: list[int] = []
    total = 0
    failure: tuple[int, str] | None = None
    anchor_seen = anchor is None or anchor == Anchor(0, GENESIS_HASH)
    for record in records:
        total += 1
        if failure is not None:
            continue  # keep counting, so the report can say "k/N records valid"
        failure = _check_link(record, expected_seq, prev_hash)
        if failure is None and anchor is not None and record.seq == anchor.seq:
            anchor_seen = True
            if record.hash != anchor.hash:
                failure = (
                    record.seq,
                    (
                        f"record {record.seq} has hash {record.hash[:16]}…, but the anchor says "
                        f"{anchor.hash[:16]}…; the chain was rewritten up to or after this record"
                    ),
                )
        if failure is None:
            if record.ts < prev_ts:  # one fixed-width UTC format: text order is time order
                decreases.append(record.seq)
            prev_hash, prev_ts = record.hash, record.ts
            expected_seq += 1
    valid = expected_seq - 1
    times: dict[str, Any] = {
        "time_decreases": len(decreases),
        "first_time_decrease_seq": decreases[0] if decreases else None,
    }
    if failure is not None:
        return VerifyResult(total, valid, failure[0], failure[1], **times)
    head = Anchor(valid, prev_hash) if total else None
    if not anchor_seen and anchor is not None:
        reason = (
            f"the chain ends at seq {valid} but the anchor names seq {anchor.seq}; "
            "records were removed from the tail"
        )
        return VerifyResult(total, total, valid + 1, reason, head, **times)
    return VerifyResult(total, total, None, None, head, **times)


def verify_tail(records: Sequence[AuditRecord]) -> str | None:
    """Check the newest records alone: each hash recomputed, each linked to the one before
    (the first is taken as it is). None when they hold; else what is wrong."""
    if not records:
        return None
    return check_continues(Anchor(records[0].seq - 1, records[0].prev_hash), records)


def check_continues(head: Anchor | None, records: Iterable[AuditRecord]) -> str | None:
    """Check that ``records`` extend a chain whose newest record is ``head`` (None: an empty
    chain): each the next seq, linked to the one before, its hash recomputed. None when they
    do; else what is wrong, naming the first record that does not."""
    expected, prev_hash = (head.seq + 1, head.hash) if head else (1, GENESIS_HASH)
    for record in records:
        failure = _check_link(record, expected, prev_hash)
        if failure is not None:
            return f"record {failure[0]}: {failure[1]}"
        expected, prev_hash = expected + 1, record.hash
    return None


def _check_link(record: AuditRecord, expected_seq: int, prev_hash: str) -> tuple[int, str] | None:
    if record.seq > expected_seq:
        missing = (
            f"record {expected_seq} is missing"
            if record.seq == expected_seq + 1
            else f"records {expected_seq}..{record.seq - 1} are missing"
        )
        return expected_seq, f"{missing} (deleted); the next record is seq {record.seq}"
    if record.seq < expected_seq:
        return record.seq, f"seq {record.seq} appears again after seq {expected_seq - 1}"
    if record.prev_hash != prev_hash:
        return record.seq, (
            f"prev_hash does not match the hash of record {record.seq - 1}; "
            "records were inserted, deleted or reordered before it"
            if record.seq > 1
            else "the first record does not start from the genesis hash"
        )
    if hash_of(record) != record.hash:
        return record.seq, "the content does not match its hash; the record was modified"
    return None


def link_records(
    head: Anchor | None, contents: Iterable[dict[str, Any]]
) -> list[tuple[int, str, str, dict[str, Any]]]:
    """Chain new contents after ``head``: (seq, prev_hash, hash, content) for each."""
    seq = head.seq if head else 0
    prev_hash = head.hash if head else GENESIS_HASH
    linked = []
    for content in contents:
        seq += 1
        content = {**content, "seq": seq, "prev_hash": prev_hash}
        digest = record_hash(content)
        linked.append((seq, prev_hash, digest, content))
        prev_hash = digest
    return linked
