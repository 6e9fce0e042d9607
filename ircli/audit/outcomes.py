"""The per-target results inside ``action.outcome`` records, in both stored forms.

An outcome record holds ``groups``: targets that ended the same way (same outcome, status,
attempts, latency and error — a whole batch, typically) share one entry::

    {"groups": [{"outcome": "done", "status": 200, "attempts": 1, "latency_ms": 41,
                 "error": null, "targets": ["acc_1", "acc_2", ...]}]}

Records of development builds before the grouped form hold ``results``, one object per
target with a ``target`` key. Readers go through this module and see the same either way.
Records come from the store, so every shape is checked: reports skip a malformed entry, while
resume (``strict=True``) refuses it — a target it names must not look as if never sent.

A target's *final* outcome among several results is its first success (``SUCCEEDED``), else
its latest (``replaces_final``): the rule reports, DSA statements and resume share.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = [
    "RESULT_FIELDS",
    "SUCCEEDED",
    "all_text",
    "outcome_groups",
    "outcome_results",
    "outcome_tally",
    "replaces_final",
]

RESULT_FIELDS = ("outcome", "status", "attempts", "latency_ms", "error")
"""What is known of each target besides its id."""
_REQUIRED = ("outcome", "status", "attempts", "latency_ms")
SUCCEEDED = frozenset({"done", "already_done"})
"""The outcomes of a target left as the action wants it (by this run, or before it)."""


def replaces_final(previous: str | None) -> bool:
    """Whether a newer result of a target takes the place of ``previous`` (``None``: none yet)
    as its final outcome: the first success stays, anything else gives way to the latest."""
    return previous not in SUCCEEDED


def outcome_groups(
    outcome: Mapping[str, Any], *, strict: bool = False
) -> Iterator[tuple[list[Any], Mapping[str, Any]]]:
    """``(targets, fields)`` pairs of an outcome record; old records give one pair per target.

    Malformed entries are skipped; with ``strict`` they raise ``ValueError`` saying what is
    wrong, and so does an entry whose ids are not text or that lacks a result field.
    """
    for targets, fields, problem in _entries(outcome):
        if strict and problem is None:
            problem = _incomplete(targets, fields)
        if problem is None:
            yield targets, fields
        elif strict:
            raise ValueError(problem)


_Entry = tuple[list[Any], Mapping[str, Any], str | None]


def _entries(outcome: Mapping[str, Any]) -> Iterator[_Entry]:
    """Every entry of either form, with what makes it unusable (None when it is usable)."""
    if "groups" in outcome:
        groups = outcome["groups"]
        if not isinstance(groups, list):
            yield [], {}, "'groups' is not a list"
            return
        for number, group in enumerate(groups, start=1):
            targets = group.get("targets") if isinstance(group, Mapping) else None
            if isinstance(group, Mapping) and isinstance(targets, list):
                yield targets, group, None
            else:
                yield [], {}, f"group {number} has no list of target ids"
        return
    results = outcome.get("results")
    if not isinstance(results, list):
        yield [], {}, "the record holds neither 'groups' nor 'results'"
        return
    for number, item in enumerate(results, start=1):
        if isinstance(item, Mapping):
            yield [item.get("target")], item, None
        else:
            yield [], {}, f"result {number} is not an object"


def _incomplete(targets: list[Any], fields: Mapping[str, Any]) -> str | None:
    if not all_text(targets):
        return "a target id is not text"
    missing = [name for name in _REQUIRED if name not in fields]
    return f"an entry lacks {', '.join(missing)}" if missing else None


def all_text(values: list[Any]) -> bool:
    """Whether every value is a string (one C-level pass: runs hold 100,000s of ids)."""
    try:
        "".join(values)
    except TypeError:
        return False
    return True


def outcome_results(outcome: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """One ``{"target", "outcome", "status", "attempts", "latency_ms", "error"}`` per target."""
    for targets, fields in outcome_groups(outcome):
        known = {name: fields.get(name) for name in RESULT_FIELDS}
        for target in targets:
            yield {"target": target, **known}


def outcome_tally(outcome: Mapping[str, Any]) -> Counter[str]:
    """How many targets of an outcome record ended each way."""
    counts: Counter[str] = Counter()
    for targets, fields in outcome_groups(outcome):
        counts[str(fields.get("outcome", "unknown"))] += len(targets)
    return counts
