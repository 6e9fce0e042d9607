"""Reading per-target results out of ``action.outcome`` records, grouped or per target."""

from __future__ import annotations

from typing import Any

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
