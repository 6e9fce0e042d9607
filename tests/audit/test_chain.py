"""The pure chain functions: canonical form, linking, verification."""

from __future__ import annotations

import dataclasses
import hashlib

from hypothesis import given
from hypothesis import strategies as st

from ircli.audit.chain import (
    GENESIS_HASH,
    canonical_json,
    hashed_content,
    link_records,
    verify_records,
)
from ircli.audit.records import Anchor, AuditRecord

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(st.characters(exclude_categories=["Cs"])),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def make_chain(count: int) -> list[AuditRecord]:
    contents = [
        hashed_content(
            seq=0,
            ts=f"2026-11-28T22:00:{i:02d}.000000Z",
            operator="alice",
            kind="timeline.note",
            incident="INC-1",
            run=None,
            step=None,
            target=None,
            params={"message": f"note {i}"},
            outcome={},
            prev_hash="",
        )
        for i in range(count)
    ]
    return [
        AuditRecord(
            **{k: v for k, v in content.items() if k not in ("v", "seq", "prev_hash")},
            seq=seq,
            prev_hash=prev,
            hash=digest,
        )
        for seq, prev, digest, content in link_records(None, contents)
    ]


def test_canonical_json_sorts_keys_without_whitespace_and_keeps_unicode() -> None:
    assert canonical_json({"b": 1, "a": ["é", None, True]}) == '{"a":["é",null,true],"b":1}'


def test_hash_is_sha256_of_canonical_utf8() -> None:
    content = {"v": 1, "seq": 0, "title": "Flut über alles"}
    chain = link_records(None, [content])
    expected_text = '{"prev_hash":"' + GENESIS_HASH + '","seq":1,"title":"Flut über alles","v":1}'
    assert chain[0][1] == GENESIS_HASH
    assert chain[0][2] == hashlib.sha256(expected_text.encode("utf-8")).hexdigest()


def test_clean_chain_verifies() -> None:
    chain = make_chain(5)
    result = verify_records(chain)
    assert result.ok
    assert (result.valid, result.total) == (5, 5)
    assert result.head == Anchor(5, chain[-1].hash)


def test_modified_record_is_reported_at_its_seq() -> None:
    chain = make_chain(5)
    chain[2] = dataclasses.replace(chain[2], params={"message": "rewritten"})
    result = verify_records(chain)
    assert (result.first_bad_seq, result.valid) == (3, 2)
    assert "modified" in str(result.reason)


def test_anchor_beyond_end_reports_truncation() -> None:
    chain = make_chain(5)
    result = verify_records(chain[:3], Anchor(5, chain[4].hash))
    assert result.first_bad_seq == 4
    assert "removed from the tail" in str(result.reason)


def test_anchor_with_other_hash_reports_rewrite() -> None:
    chain = make_chain(5)
    result = verify_records(chain, Anchor(4, "f" * 64))
    assert result.first_bad_seq == 4


@given(st.lists(st.dictionaries(st.text(max_size=6), json_values, max_size=3), max_size=8))
def test_any_float_free_content_links_and_verifies(params_list: list[dict[str, object]]) -> None:
    contents = [
        hashed_content(
            seq=0, ts="t", operator="o", kind="k", incident=None, run=None, step=None,
            target=None, params=params, outcome={}, prev_hash="",
        )
        for params in params_list
    ]  # fmt: skip
    records = [
        AuditRecord(
            seq=seq, ts="t", operator="o", kind="k", incident=None, run=None, step=None,
            target=None, params=content["params"], outcome={}, prev_hash=prev, hash=digest,
        )
        for seq, prev, digest, content in link_records(None, contents)
    ]  # fmt: skip
    assert verify_records(records).ok


@given(st.integers(min_value=1, max_value=6), st.integers(min_value=0, max_value=5))
def test_any_single_field_change_is_detected(count: int, index: int) -> None:
    chain = make_chain(count)
    index %= count
    chain[index] = dataclasses.replace(chain[index], operator="mallory")
    assert verify_records(chain).first_bad_seq == index + 1
