"""Guardrails: a playbook tightened for a pre-approved, automatic run.

Each action step (in included playbooks too) gets the stricter of its own limit and the
guardrail's: ``max_targets`` (more targets than that and the step is refused, nothing sent),
``max_failure_ratio``, and a canary slice (``canary_percent``) where it has none, checked as
``failure_ratio <= max_failure_ratio`` and aborting the step when it fails. Protected accounts
are not here: the executor drops them from every run that has no person's override, and an
automatic run never has one.
"""

from __future__ import annotations

from typing import Any

from ircli.playbook.context import Origin, Scope
from ircli.playbook.expr import compile_expression
from ircli.playbook.model import ActionStep, Canary, IncludeStep, Playbook
from ircli.playbook.parts import CANARY_VALUES
from ircli.watch.model import Guardrails

__all__ = ["DEFAULT_FAILURE_RATIO", "guarded", "guardrail_params"]

DEFAULT_FAILURE_RATIO = 0.05


def guardrail_params(rails: Guardrails) -> dict[str, Any]:
    """The guardrails as an audit record keeps them."""
    return rails.model_dump(exclude_none=True)


def guarded(playbook: Playbook, rails: Guardrails) -> Playbook:
    """``playbook`` with every action step held to ``rails`` (see the module text)."""
    steps: list[Any] = []
    for step in playbook.steps:
        if isinstance(step, ActionStep):
            step = _guard(step, rails)
        elif isinstance(step, IncludeStep) and step._playbook is not None:
            inner = guarded(step._playbook, rails)
            step = step.model_copy()
            step._playbook = inner
        steps.append(step)
    return playbook.model_copy(update={"steps": tuple(steps)})


def _stricter(own: float | None, rail: float | None) -> Any:
    if rail is None:
        return own
    return rail if own is None else min(own, rail)


def _guard(step: ActionStep, rails: Guardrails) -> ActionStep:
    update: dict[str, Any] = {
        "max_targets": _stricter(step.max_targets, rails.max_targets_per_step),
        "max_failure_ratio": _stricter(step.max_failure_ratio, rails.max_failure_ratio),
    }
    if step.canary is None and rails.canary_percent is not None:
        update["canary"] = _canary(rails, step)
    return step.model_copy(update=update)


def _canary(rails: Guardrails, step: ActionStep) -> Canary:
    ratio = rails.max_failure_ratio
    ratio = DEFAULT_FAILURE_RATIO if ratio is None else ratio
    origin = Origin(rails.location, f"{rails.path} -> canary_percent")
    check = compile_expression(
        f"failure_ratio <= {ratio!r}", Scope(values=frozenset(CANARY_VALUES)), origin
    )
    return Canary.model_construct(
        first=None,
        percent=float(rails.canary_percent or 0.0),
        query=None,
        check=check,
        settle=0.0,
        on_fail="abort",
    )
