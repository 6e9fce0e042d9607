"""What dynamic parts of a playbook see at run time: references, their scope and their values.

A **reference** names one value the runner knows: ``inputs.reason``, ``steps.find_bots.count``,
``run.id``, ``now``. References appear in two places only — ``${…}`` in strings
(``ircli.playbook.templates``) and names in expressions (``ircli.playbook.expr``) — and both are
resolved through the same ``Context`` the runner builds. Nothing here performs I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ircli.errors import InvalidInput, OperationFailed
from ircli.wording import did_you_mean
from ircli.yamlfile import Location

__all__ = [
    "RUN_FIELDS",
    "STEP_RESULT_FIELDS",
    "Context",
    "Origin",
    "Reference",
    "Scope",
    "skipped_result",
]

STEP_RESULT_FIELDS: Mapping[str, frozenset[str]] = {
    "query": frozenset({"ids", "items", "count"}),
    "action": frozenset({"ids", "count", "succeeded", "failed", "failure_ratio", "protected"}),
    "wait": frozenset({"ids", "items", "count", "elapsed", "ok"}),
    "include": frozenset({"status"}),
    "approval": frozenset({"approvers"}),
    "note": frozenset(),
    "status": frozenset(),
    "notify": frozenset(),
}
"""What ``steps.<id>.<field>`` may name, by step kind (the runner fills these in)."""

_EMPTY: Mapping[str, Any] = {
    "ids": [],
    "items": [],
    "count": 0,
    "succeeded": 0,
    "failed": 0,
    "failure_ratio": 0.0,
    "protected": 0,
    "elapsed": 0.0,
    "ok": False,
    "status": "skipped",
    "approvers": [],
}


def skipped_result(kind: str) -> dict[str, Any]:
    """What a step skipped by its ``when`` publishes: empty ids, zero counts, ``ok`` false."""
    return {name: _EMPTY[name] for name in STEP_RESULT_FIELDS[kind]}


RUN_FIELDS: Mapping[str, frozenset[str]] = {
    "run": frozenset({"id", "operator", "dry_run"}),
    "incident": frozenset({"id"}),
    "playbook": frozenset({"name"}),
}
"""The other reference roots with fields: ``run.id``, ``incident.id``, ``playbook.name``."""


@dataclass(frozen=True)
class Origin:
    """Where a dynamic part was written: its YAML location and the path to its field."""

    location: Location
    path: str
    """``steps -> 2 -> where`` (empty at the top level)."""

    def __str__(self) -> str:
        return f"{self.location}: {self.path}" if self.path else str(self.location)

    def invalid(self, message: str, hint: str | None = None) -> InvalidInput:
        """A validation error here: ``file:line:col: steps -> 2 -> where: message``."""
        return InvalidInput(f"{self}: {message}", hint=hint)

    def failed(self, message: str) -> OperationFailed:
        """A run-time error here (the same prefix, so the runner can point at the YAML)."""
        return OperationFailed(f"{self}: {message}")


@dataclass(frozen=True)
class Reference:
    """A dotted name the runner resolves: ``("inputs", "reason")``, ``("now",)``."""

    parts: tuple[str, ...]

    def __str__(self) -> str:
        return ".".join(self.parts)

    @property
    def root(self) -> str:
        """``inputs``, ``steps``, ``run``, ``incident``, ``playbook``, ``now`` or a local name."""
        return self.parts[0]

    @property
    def step(self) -> str | None:
        """The step id for ``steps.<id>.<field>``, else ``None``."""
        return self.parts[1] if self.parts[0] == "steps" else None


@dataclass(frozen=True)
class Scope:
    """The names a dynamic part may use, decided by the loader for each field."""

    inputs: frozenset[str] = frozenset()
    steps: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Earlier steps (by id) and the result fields each one publishes."""
    later_steps: frozenset[str] = frozenset()
    """Steps declared at or after this one (named in a clearer error)."""
    values: frozenset[str] = frozenset()
    """Local names: a wait's ``count``/``ids``/``items``, a canary's ``failure_ratio`` …"""
    item: bool = False
    """Whether an item is in scope (a ``where`` filter): bare names are its fields."""
    item_fields: frozenset[str] | None = None
    """The item's known fields; ``None`` when the listing does not declare them."""

    def step_problem(self, step: str, result: str) -> str | None:
        """Why ``steps.STEP.RESULT`` cannot be used here (one sentence), or None if it can."""
        fields = self.steps.get(step)
        if fields is None:
            if step in self.later_steps:
                return (
                    f"the step {step!r} has not run yet here; "
                    "only earlier steps' results can be used."
                )
            return f"unknown step {step!r}{did_you_mean(step, self.steps)}."
        if result not in fields:
            listed = ", ".join(sorted(fields)) or "none"
            return (
                f"the step {step!r} has no result {result!r}{did_you_mean(result, fields)}; "
                f"its results: {listed}."
            )
        return None


@dataclass(frozen=True)
class Context:
    """The values the runner supplies when it evaluates an expression or renders a string.

    ``steps`` maps a step id to its result fields (``STEP_RESULT_FIELDS``); ``values`` holds the
    local names of the field being evaluated (a wait's ``count``, a canary's ``failure_ratio``).
    """

    inputs: Mapping[str, Any] = field(default_factory=dict)
    steps: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    now: datetime = field(default_factory=lambda: datetime(1970, 1, 1, tzinfo=UTC))
    run: Mapping[str, Any] = field(default_factory=dict)
    incident: Mapping[str, Any] = field(default_factory=dict)
    playbook: Mapping[str, Any] = field(default_factory=dict)
    values: Mapping[str, Any] = field(default_factory=dict)

    def resolve(self, reference: Reference, origin: Origin) -> Any:
        """The value of ``reference``; ``OperationFailed`` at ``origin`` when it has none."""
        parts = reference.parts
        root = parts[0]
        if root == "now":
            return self.now
        if len(parts) == 1:
            if root in self.values:
                return self.values[root]
            raise origin.failed(f"the value {root!r} is not available here.")
        source: Mapping[str, Any] | None = {
            "inputs": self.inputs,
            "steps": self.steps,
            "run": self.run,
            "incident": self.incident,
            "playbook": self.playbook,
        }.get(root)
        value: Any = source
        for depth, part in enumerate(parts[1:], start=1):
            if not isinstance(value, Mapping) or part not in value:
                shown = ".".join(parts[: depth + 1])
                raise origin.failed(f"{shown} has no value yet.")
            value = value[part]
        return value
