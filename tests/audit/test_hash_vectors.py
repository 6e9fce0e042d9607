"""The hash is RFC 8785 (JCS): docs/audit.md's test vectors, a real store (SQLite and
PostgreSQL) and any storable value are checked against an independent implementation (the
``rfc8785`` package), and the store refuses what a JCS verifier would hash otherwise."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from enum import IntEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from ircli.audit.chain import (
    GENESIS_HASH,
    MAX_SAFE_INTEGER,
    audit_safe,
    canonical_json,
    check_json_value,
    hashed_content,
    record_hash,
)
from ircli.audit.records import NewRecord, RecordFilter
from ircli.audit.store import AuditStore, open_store
from ircli.errors import InvalidInput
from tests.audit.rawsql import insert, rows
from tests.conftest import FixedClock

DOC = Path(__file__).resolve().parents[2] / "docs" / "audit.md"
VECTOR = re.compile(
    r"Fields:\n\n```json\n(?P<fields>.*?)\n```\n\n"
    r"Canonical text:\n\n```text\n(?P<canonical>.*?)\n```\n\n"
    r"SHA-256: `(?P<hash>[0-9a-f]{64})`",
    re.DOTALL,
)
TOO_BIG = MAX_SAFE_INTEGER + 1


def doc_vectors() -> list[dict[str, Any]]:
    """The test vectors of docs/audit.md: fields, canonical text and hash of each."""
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("### Test vectors") : text.index("## Verifying")]
    return [
        {"fields": json.loads(found["fields"]), "text": found["canonical"], "hash": found["hash"]}
        for found in VECTOR.finditer(section)
    ]


VECTORS = doc_vectors()


def jcs_sha256(value: Any) -> str:
    return hashlib.sha256(rfc8785.dumps(value)).hexdigest()


def rehash_stored_rows(db: str) -> int:
    """Check every stored row from its columns alone, with ``rfc8785``: ``params`` and
    ``outcome`` are stored as JCS text, ``hash`` is the JCS hash, each links to the one before.
    Returns how many rows were checked."""
    stored = [row._asdict() for row in rows(db, "SELECT * FROM audit_records ORDER BY seq")]
    prev_hash = GENESIS_HASH
    for seq, row in enumerate(stored, start=1):
        content = {"v": 1, **row}
        stored_hash = content.pop("hash")
        for column in ("params", "outcome"):
            content[column] = json.loads(row[column])
            assert row[column].encode("utf-8") == rfc8785.dumps(content[column])
        assert (row["seq"], row["prev_hash"]) == (seq, prev_hash)
        assert jcs_sha256(content) == stored_hash, f"record {seq}"
        prev_hash = stored_hash
    return len(stored)


def new_record(fields: dict[str, Any]) -> NewRecord:
    names = ("kind", "incident", "run", "step", "target", "params", "outcome")
    return NewRecord(**{name: fields[name] for name in names})


# -- the docs' test vectors ----------------------------------------------------------------


def test_the_docs_hold_one_chain_of_vectors_covering_text_escapes_and_bounds() -> None:
    assert [vector["fields"]["seq"] for vector in VECTORS] == [1, 2, 3, 4]
    links = [vector["fields"]["prev_hash"] for vector in VECTORS]
    assert links == [GENESIS_HASH] + [vector["hash"] for vector in VECTORS[:-1]]
    texts = "".join(vector["text"] for vector in VECTORS)
    for shown in ("Zoë", "配信", "🚨", '\\"', "\\\\", "\\n", "\\t", "\\u0001", "\x7f", "\u2028"):
        assert shown in texts
    assert f"[{MAX_SAFE_INTEGER},{-MAX_SAFE_INTEGER}]" in texts


@pytest.mark.parametrize("vector", VECTORS, ids=lambda vector: vector["fields"]["kind"])
def test_a_vector_is_what_ircli_and_an_independent_jcs_compute(vector: dict[str, Any]) -> None:
    content = hashed_content(**vector["fields"])
    check_json_value(content, "vector")
    assert canonical_json(content) == vector["text"]
    assert rfc8785.dumps(content) == vector["text"].encode("utf-8")
    assert record_hash(content) == vector["hash"]
    assert jcs_sha256(content) == vector["hash"]


# -- a real store --------------------------------------------------------------------------


def test_a_store_writes_the_documented_hashes(db: str, clock: FixedClock) -> None:
    with open_store(db, operator="zoë", clock=clock) as store:
        for vector in VECTORS:
            clock.now = datetime.fromisoformat(vector["fields"]["ts"])
            assert store.append(new_record(vector["fields"])).hash == vector["hash"]
        assert store.verify().ok
    assert rehash_stored_rows(db) == len(VECTORS)


def test_every_stored_record_rehashes_with_an_independent_jcs(store: AuditStore, db: str) -> None:
    texts = ("Zoë", "東京 🚨 \U0010ffff", "\x00\x08\x1f\x7f\u2028\u2029\ufeff", '</script>"\\/')
    store.append_many(
        [NewRecord(kind="timeline.note", incident="INC-ü", params={"message": m}) for m in texts]
    )
    store.append(
        NewRecord(
            kind="action.intent",
            run="run-1",
            step="suspend",
            params={
                "targets": [f"stream-{i}-é" for i in range(2048)],
                "bounds": {"max": MAX_SAFE_INTEGER, "min": -MAX_SAFE_INTEGER, "zero": 0},
            },
        )
    )
    store.append(
        NewRecord(
            kind="action.outcome",
            target="stream-ü\n",
            outcome={
                "groups": [
                    {"status": 200, "error": None, "targets": ["a"]},
                    {"status": None, "error": 'timed out: "read"\r\n\t', "targets": ["b", "c"]},
                ],
                "keys": {"ｚ": 1, "z": 2, "é": 3, "\ue000": 4, "": 5, "\x01": 6},
                "flags": [True, False, None, [], {}],
            },
        )
    )
    assert rehash_stored_rows(db) == len(texts) + 2
    assert store.verify().ok


def test_an_old_record_now_refused_still_verifies_as_before(store: AuditStore, db: str) -> None:
    head = store.append(NewRecord(kind="before"))
    params = {"count": TOO_BIG + 1, "labels": {"🚨": 1, "ｚ": 2}}
    with pytest.raises(rfc8785.IntegerDomainError):  # why such a record is refused today
        rfc8785.dumps(params)
    content = hashed_content(
        seq=2, ts="2026-11-28T22:00:00.000000Z", operator="alice", kind="old", incident=None,
        run=None, step=None, target=None, params=params, outcome={}, prev_hash=head.hash,
    )  # fmt: skip

    def old_text(value: Any) -> str:  # how an older ircli wrote it (json, as the docs said)
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    digest = hashlib.sha256(old_text(content).encode("utf-8")).hexdigest()
    insert(db, {**content, "params": old_text(params), "outcome": "{}", "hash": digest})
    assert next(store.records(RecordFilter(after_seq=1))).params == params
    assert store.append(NewRecord(kind="after")).seq == 3
    assert store.verify().ok


# -- what is refused, and what user input becomes --------------------------------------------


@pytest.mark.parametrize(
    ("params", "outcome", "message"),
    [
        ({"count": TOO_BIG}, {}, "params -> count: the integer 9007199254740992 is outside"),
        ({}, {"groups": [{"id": -TOO_BIG}]}, "outcome -> groups -> id: the integer -9007"),
        ({"ids": ["a", 10**400]}, {}, "params -> ids: a 1329-bit integer is outside"),
        ({"labels": {"flood 🚨": 1}}, {}, "params -> labels: the key 'flood 🚨' has a character "),
    ],
    ids=["2^53", "-(2^53)", "huge", "astral key"],
)
def test_what_jcs_would_hash_otherwise_is_refused_and_nothing_written(
    store: AuditStore, params: dict[str, Any], outcome: dict[str, Any], message: str
) -> None:
    store.append(NewRecord(kind="before"))
    batch = [NewRecord(kind="fine"), NewRecord(kind="bad", params=params, outcome=outcome)]
    # Bad input (exit 2, one sentence) when it came from a user, a TypeError for code.
    with pytest.raises(InvalidInput, match=re.escape(message)) as refused:
        store.append_many(batch)
    assert isinstance(refused.value, TypeError)
    assert store.count() == 1
    assert store.verify().ok


class Big(IntEnum):
    LARGEST = MAX_SAFE_INTEGER
    TOO_BIG = MAX_SAFE_INTEGER + 1


def test_the_integer_bounds_are_inclusive_whatever_holds_them() -> None:
    check_json_value([MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER, Big.LARGEST, True])
    too_big = (TOO_BIG, -TOO_BIG, [TOO_BIG], {"a": {"b": TOO_BIG}}, Big.TOO_BIG)
    for value in (*too_big, MappingProxyType({"a": TOO_BIG}), ({"a": [1, TOO_BIG]},)):
        with pytest.raises(TypeError, match="outside ±"):
            check_json_value(value)
    with pytest.raises(TypeError, match="Basic Multilingual Plane"):
        check_json_value(MappingProxyType({"\U0001f6a8": 1}))
    check_json_value({"\uffff é ｚ": 1})


def test_audit_safe_makes_big_integers_and_astral_keys_storable() -> None:
    assert audit_safe(TOO_BIG) == "9007199254740992"
    assert audit_safe({"n": [-TOO_BIG, MAX_SAFE_INTEGER], "🚨 x": 1}) == {
        "n": ["-9007199254740992", MAX_SAFE_INTEGER],
        "\\U0001f6a8 x": 1,
    }


# -- properties ----------------------------------------------------------------------------

characters = st.characters(exclude_categories=["Cs"])  # lone surrogates are not text
# Keys where code point and UTF-16 order part: astral characters beside U+E000..U+FFFF ones.
tricky_keys = st.text(st.sampled_from("aé\ue000ｚ\uffff🚨\U00010000\U0010ffff"), max_size=3)
keys = tricky_keys | st.text(characters, max_size=4)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.sampled_from([MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER, TOO_BIG, -TOO_BIG])
    | st.text(characters)
)
any_json = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
    max_leaves=12,
)
storable = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
    | st.text(characters),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.text(st.characters(max_codepoint=0xFFFF, exclude_categories=["Cs"])),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@given(storable)
def test_storable_values_are_accepted_and_written_as_jcs_writes_them(value: Any) -> None:
    check_json_value(value)
    assert canonical_json(value).encode("utf-8") == rfc8785.dumps(value)


@given(any_json)
def test_whatever_the_gate_accepts_is_written_as_jcs_writes_it(value: Any) -> None:
    try:
        check_json_value(value)
    except TypeError:
        return  # refused (which values, and why: the refusal tests above)
    assert canonical_json(value).encode("utf-8") == rfc8785.dumps(value)


user_input = st.recursive(
    scalars | st.floats(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.tuples(children, children)
        | st.dictionaries(keys, children, max_size=4)
    ),
    max_leaves=12,
)


@given(user_input)
def test_audit_safe_output_always_passes_the_gate(value: Any) -> None:
    check_json_value(audit_safe({"input": value}))
