"""Reading per-target results out of ``action.outcome`` records, grouped or per target."""

from __future__ import annotations

import re
from typing import Any

import pytest

from ircli.audit.outcomes import outcome_groups, outcome_results, outcome_tally

GROUPED: dict[str, Any] = {
    "groups": [
        {"outcome": "done", "status": 200, "attempts": 1, "latency_ms": 40, "error": None,
         "targets": ["a", "b"]},
        {"outcome": "failed", "status": 200, "attempts": 1, "latency_ms": 40,
         "error": "HTTP 200: not_found", "targets": ["c"]},
    ]
}  # fmt: skip
PER_TARGET: dict[str, Any] = {
    "results": [
        {"target": "a", "outcome": "done", "status": 200, "attempts": 1, "latency_ms": 40,
         "error": None},
        {"target": "b", "outcome": "done", "status": 200, "attempts": 1, "latency_ms": 40,
         "error": None},
        {"target": "c", "outcome": "failed", "status": 200, "attempts": 1, "latency_ms": 40,
         "error": "HTTP 200: not_found"},
    ]
}  # fmt: skip


def test_both_forms_read_the_same() -> None:
    assert list(outcome_results(GROUPED)) == PER_TARGET["results"]
    assert list(outcome_results(PER_TARGET)) == PER_TARGET["results"]
    assert outcome_tally(GROUPED) == outcome_tally(PER_TARGET) == {"done": 2, "failed": 1}


def test_groups_come_out_whole() -> None:
    assert [targets for targets, _ in outcome_groups(GROUPED)] == [["a", "b"], ["c"]]
    assert [targets for targets, _ in outcome_groups(PER_TARGET)] == [["a"], ["b"], ["c"]]


def test_malformed_entries_are_skipped() -> None:
    odd: dict[str, Any] = {
        "groups": [
            "junk",
            {"outcome": "done", "targets": "a"},  # not a list
            {"outcome": "done"},  # no targets
            {"outcome": "done", "targets": ["x"]},  # fields missing: read as None
        ]
    }
    assert list(outcome_results(odd)) == [
        {"target": "x", "outcome": "done", "status": None, "attempts": None,
         "latency_ms": None, "error": None}
    ]  # fmt: skip
    assert outcome_tally(odd) == {"done": 1}
    assert list(outcome_results({"groups": 3})) == []
    assert [r["target"] for r in outcome_results({"results": [3, {"target": "y"}]})] == ["y"]
    assert list(outcome_results({})) == []
    assert outcome_tally({"groups": [{"targets": ["z"]}]}) == {"unknown": 1}


@pytest.mark.parametrize(
    ("outcome", "reason"),
    [
        ({"groups": {"targets": ["a"]}}, "'groups' is not a list"),
        ({"groups": [{"outcome": "done", "targets": "a"}]}, "group 1 has no list of target ids"),
        ({"groups": [GROUPED["groups"][0], 7]}, "group 2 has no list of target ids"),
        ({"groups": [{**GROUPED["groups"][0], "targets": [1]}]}, "a target id is not text"),
        ({"groups": [{"outcome": "done", "targets": ["a"]}]},
         "an entry lacks status, attempts, latency_ms"),
        ({"results": [PER_TARGET["results"][0], "junk"]}, "result 2 is not an object"),
        ({"results": [{"outcome": "done", "status": 200, "attempts": 1, "latency_ms": 4}]},
         "a target id is not text"),
        ({}, "the record holds neither 'groups' nor 'results'"),
    ],
)  # fmt: skip
def test_strict_reading_names_what_is_wrong(outcome: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(reason)}$"):
        list(outcome_groups(outcome, strict=True))
    list(outcome_groups(outcome))  # the lenient reader skips it instead


def test_strict_reading_accepts_both_forms() -> None:
    assert list(outcome_groups(GROUPED, strict=True)) == list(outcome_groups(GROUPED))
    assert list(outcome_groups(PER_TARGET, strict=True)) == list(outcome_groups(PER_TARGET))
