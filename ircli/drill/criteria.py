"""A drill's pass criteria: expressions over the sandbox score, evaluated after the run.

Criteria are written in the playbook expression language (``ircli.playbook.expr``); their
names are the top-level fields of ``GET /_sandbox/score`` plus ``audit_ok`` (the audit chain
verifies). The default criteria are those of the live-flood containment drill; ``--pass EXPR``
replaces them with one expression, checked before anything runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ircli.errors import OperationFailed
from ircli.playbook.context import Context, Origin, Scope
from ircli.playbook.expr import Expression, compile_expression
from ircli.yamlfile import Location

__all__ = [
    "CRITERION_NAMES",
    "DEFAULT_CRITERIA",
    "SCORE_FIELDS",
    "WATCH_CRITERIA",
    "Criterion",
    "CriterionResult",
    "compile_criterion",
    "default_criteria",
    "evaluate_criteria",
]

SCORE_FIELDS: tuple[str, ...] = (
    "scenario",
    "seed",
    "elapsed_seconds",
    "malicious_live_streams",
    "malicious_streams_suspended",
    "malicious_streams_ended",
    "malicious_streams_total",
    "attacker_streams_started",
    "malicious_accounts",
    "malicious_accounts_frozen",
    "compromised_accounts",
    "compromised_accounts_reset",
    "compromised_accounts_password_reset",
    "compromised_accounts_sessions_revoked",
    "collateral_streams",
    "collateral_accounts",
    "collateral_password_resets",
    "honest_live_streams",
    "honest_streams_ended_by_kill_switch",
    "exposure_viewer_seconds",
    "attack_started_at_seconds",
    "detected_at_seconds",
    "contained_at_seconds",
    "duplicate_effects",
    "kill_switch",
    "blocked_domains",
    "requests",
    "requests_total",
)
"""The score fields (docs/sandbox.md); nested ones (``kill_switch``) are mappings."""

CRITERION_NAMES = frozenset({*SCORE_FIELDS, "audit_ok"})
"""The names a criterion may use."""

DEFAULT_CRITERIA: tuple[tuple[str, str], ...] = (
    ("no malicious stream live", "malicious_live_streams == 0"),
    ("no honest account frozen", "collateral_accounts == 0"),
    ("every compromised account secured", "compromised_accounts_reset == compromised_accounts"),
    ("no duplicate effects", "duplicate_effects == 0"),
    ("audit chain verifies", "audit_ok"),
)
"""(label, expression) of the live-flood containment drill's default criteria."""

WATCH_CRITERIA: tuple[tuple[str, str], ...] = (
    ("detected, after the attack started", "detected_at_seconds >= attack_started_at_seconds"),
)
"""Added to the default criteria of a watch drill (``--watch``)."""


@dataclass(frozen=True)
class Criterion:
    """One named pass condition."""

    label: str
    expression: Expression

    @property
    def text(self) -> str:
        """The expression as written."""
        return self.expression.text


@dataclass(frozen=True)
class CriterionResult:
    """A criterion, whether it held, and the score values it read."""

    label: str
    expression: str
    passed: bool
    values: Mapping[str, Any]
    error: str | None = None
    """Why it could not be evaluated (then ``passed`` is false)."""


def compile_criterion(
    text: str, *, label: str | None = None, source: str = "--pass expression"
) -> Criterion:
    """Check and compile ``text``; ``InvalidInput`` located at ``source:1:col`` when wrong."""
    origin = Origin(Location(source, 1, 1), "")
    expression = compile_expression(text, Scope(values=CRITERION_NAMES), origin)
    return Criterion(label or " ".join(text.split()), expression)


def default_criteria(*, watch: bool = False) -> tuple[Criterion, ...]:
    """The live-flood containment criteria, compiled (with ``watch``: and the detection's)."""
    return tuple(
        compile_criterion(text, label=label, source="default criteria")
        for label, text in (*DEFAULT_CRITERIA, *(WATCH_CRITERIA if watch else ()))
    )


def evaluate_criteria(
    criteria: Sequence[Criterion], score: Mapping[str, Any], *, audit_ok: bool
) -> list[CriterionResult]:
    """Evaluate every criterion against ``score``; a field the score lacks counts as null."""
    values: dict[str, Any] = {name: score.get(name) for name in SCORE_FIELDS}
    values.update({k: v for k, v in score.items() if k in CRITERION_NAMES})
    values["audit_ok"] = audit_ok
    context = Context(values=values)
    results: list[CriterionResult] = []
    for criterion in criteria:
        used = {ref.root: values[ref.root] for ref in criterion.expression.references}
        try:
            passed = criterion.expression.test(context)
        except OperationFailed as exc:  # e.g. ``null < 3``: the criterion does not hold
            results.append(
                CriterionResult(criterion.label, criterion.text, False, used, exc.message)
            )
            continue
        results.append(CriterionResult(criterion.label, criterion.text, passed, used))
    return results
