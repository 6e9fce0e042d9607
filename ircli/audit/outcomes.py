"""The per-target results inside ``action.outcome`` records, in both stored forms.

An outcome record holds ``groups``: targets that ended the same way (same outcome, status,
attempts, latency and error — a whole batch, typically) share one entry::

    {"groups": [{"outcome": "done", "status": 200, "attempts": 1, "latency_ms": 41,
                 "error": null, "targets": ["acc_1", "acc_2", ...]}]}

Records of development builds before the grouped form hold ``results``, one object per
target with a ``target`` key. Readers go through this module and see the same either way.
Records come from the store, so every shape is checked: malformed entries are skipped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["RESULT_FIELDS", "outcome_groups", "outcome_results", "outcome_tally"]

RESULT_FIELDS = ("outcome", "status", "attempts", "latency_ms", "error")
"""What is known of each target besides its id."""


def outcome_groups(outcome: Mapping[str, Any]) -> Iterator[tuple[list[Any], Mapping[str, Any]]]:
    """``(targets, fields)`` pairs of an outcome record; old records give one pair per target."""
    groups = outcome.get("groups")
    if isinstance(groups, list):
        for group in groups:
            if isinstance(group, Mapping) and isinstance(targets := group.get("targets"), list):
                yield targets, group
        return
    results = outcome.get("results")
    if isinstance(results, list):
        for item in results:
            if isinstance(item, Mapping):
                yield [item.get("target")], item


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
