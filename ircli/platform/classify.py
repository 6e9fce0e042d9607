"""Turn responses into outcomes, for single requests and batches."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ircli.platform.model import ActionSpec, BatchSpec, Outcome, StatusRule

__all__ = ["classify", "classify_batch", "dig"]

_MISSING = object()


def dig(body: Any, path: str) -> Any:
    """The value at a dotted path (``a.b.0.c``) in a JSON body, or ``_MISSING``."""
    if not path:
        return body
    current = body
    for part in path.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
    return current


def found(value: Any) -> bool:
    """Whether ``dig`` found something."""
    return value is not _MISSING


def _matches(rule: StatusRule, status: int, body: Any) -> bool:
    if rule.status and status not in rule.status:
        return False
    if rule.field is None:
        return True
    value = dig(body, rule.field)
    if value is _MISSING:
        return False
    return not rule.equals or value in rule.equals


def classify(action: ActionSpec, status: int, body: Any) -> Outcome:
    """The outcome of a single-target response."""
    for rule in action.all_rules():
        if _matches(rule, status, body):
            return rule.outcome
    return Outcome.FAILED


def classify_batch(
    batch: BatchSpec, action: ActionSpec, status: int, body: Any, targets: Sequence[str]
) -> dict[Outcome, list[str]]:
    """The targets of a batch, grouped by outcome (each list in the order of ``targets``).

    A response that is not a success as a whole classifies every target the same way (so a
    429 or 503 retries the batch). Otherwise each listed result maps through ``status_map``
    (unknown words are ``FAILED``) and targets the response does not mention are retried.
    """
    whole = classify(action, status, body)
    results = dig(body, batch.results)
    if whole is not Outcome.DONE or not isinstance(results, list):
        if whole is Outcome.DONE:  # a 2xx without per-target results: cannot tell
            whole = Outcome.RETRYABLE
        return {whole: list(targets)}
    words: dict[str, Any] = {}
    simple = "." not in batch.result_id and "." not in batch.result_status
    for item in results:
        if simple and type(item) is dict:  # the common case, without dig()'s walk
            target_id = item.get(batch.result_id, _MISSING)
            word = item.get(batch.result_status)
        else:
            target_id = dig(item, batch.result_id)
            word = dig(item, batch.result_status)
        if target_id is not _MISSING:
            key = target_id if type(target_id) is str else str(target_id)
            words[key] = word if type(word) is str else str(word)
    # Group by the platform's word first (string keys hash fast), then map each word once.
    by_word: dict[Any, list[str]] = {}
    for target in targets:
        word = words.get(target, _MISSING)
        group = by_word.get(word)
        if group is None:
            by_word[word] = [target]
        else:
            group.append(target)
    outcomes: dict[Outcome, list[str]] = {}
    mixed: set[Outcome] = set()
    status_map = batch.status_map
    for word, group in by_word.items():
        outcome = Outcome.RETRYABLE if word is _MISSING else status_map.get(word, Outcome.FAILED)
        if outcome in outcomes:
            outcomes[outcome] += group
            mixed.add(outcome)
        else:
            outcomes[outcome] = group
    if mixed:  # several words, one outcome: back to the order of ``targets``
        position = {target: index for index, target in enumerate(targets)}
        for outcome in mixed:
            outcomes[outcome].sort(key=position.__getitem__)
    return outcomes
