"""Batch answers turned into targets grouped by outcome."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ircli.platform import load_profile
from ircli.platform.classify import classify_batch
from ircli.platform.model import ActionSpec, Outcome

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def freeze() -> ActionSpec:
    profile = load_profile(ROOT / "profiles" / "sandbox.yaml", {})
    return profile.actions["accounts.freeze"]


def grouped(action: ActionSpec, status: int, body: Any, targets: list[str]) -> dict[Outcome, Any]:
    assert action.batch is not None
    return classify_batch(action.batch, action, status, body, targets)


def test_each_word_maps_to_its_outcome(freeze: ActionSpec) -> None:
    body = {
        "results": [
            {"id": "a", "result": "frozen"},
            {"id": "b", "result": "already_frozen"},
            {"id": "c", "result": "not_found"},
            {"id": "d", "result": "melted"},  # a word the profile does not know
            {"id": "e", "result": "frozen"},
            {"id": "stranger", "result": "frozen"},  # not asked for: ignored
            {"id": 7, "result": "frozen"},  # numeric ids match their text
            "junk",
        ]
    }
    assert grouped(freeze, 200, body, ["a", "b", "c", "d", "e", "f", "7"]) == {
        Outcome.DONE: ["a", "e", "7"],
        Outcome.ALREADY_DONE: ["b"],
        Outcome.FAILED: ["c", "d"],
        Outcome.RETRYABLE: ["f"],  # not mentioned: sent again
    }


def test_odd_answers_are_read_conservatively(freeze: ActionSpec) -> None:
    body = {
        "results": [
            {"id": "a", "result": "not_found"},
            {"id": "a", "result": "frozen"},  # named twice: the last word counts
            {"id": "b", "result": None},
            {"id": "c", "result": 1},
            {"id": "d"},
            {"result": "frozen"},  # no id
        ]
    }
    assert grouped(freeze, 200, body, ["a", "b", "c", "d"]) == {
        Outcome.DONE: ["a"],
        Outcome.FAILED: ["b", "c", "d"],  # words the profile does not map
    }


def test_a_refused_batch_classifies_every_target_alike(freeze: ActionSpec) -> None:
    assert grouped(freeze, 503, {}, ["a", "b"]) == {Outcome.RETRYABLE: ["a", "b"]}
    assert grouped(freeze, 403, {}, ["a", "b"]) == {Outcome.FAILED: ["a", "b"]}
    # A success without per-target results cannot tell what happened to whom.
    assert grouped(freeze, 200, {"ok": True}, ["a"]) == {Outcome.RETRYABLE: ["a"]}
