"""Per-target outcomes: one row per (run, action, target), ``report -f targets.csv``.

A target's final outcome in a run and action follows the rule reports and resume share
(``ircli.audit.outcomes.replaces_final``): its first success (``done``, ``already_done``) if
any, else its latest result; ``status`` and ``error`` are that result's. ``attempts``
adds up the attempts of every result recorded for it (per target: a request carrying a batch
of 500 is one attempt for each of them). A target with an intent but no outcome is
``unknown``: its request may have left (``runs resume`` settles it). ``first_recorded_at`` and
``last_recorded_at`` are the times of the first and last record naming it; ``operator`` is who
started the run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ircli.audit.outcomes import outcome_groups, replaces_final
from ircli.audit.records import AuditRecord
from ircli.report.csvtimeline import csv_text
from ircli.report.model import Report, TargetOutcome
from ircli.report.timeline import text_of

__all__ = ["TARGET_COLUMNS", "render_targets_csv", "target_outcomes"]

TARGET_COLUMNS = (
    "incident",
    "run",
    "step",
    "action",
    "target",
    "outcome",
    "status",
    "attempts",
    "error",
    "first_recorded_at",
    "last_recorded_at",
    "operator",
)


def render_targets_csv(report: Report) -> str:
    """The report's per-target outcomes as CSV (``csv_text``: visible, formula-safe cells)."""
    incident = report.incident.id
    return csv_text(
        TARGET_COLUMNS, ({**row.__dict__, "incident": incident} for row in report.targets)
    )


@dataclass
class _Row:
    step: str | None
    first: str
    last: str
    outcome: str = "unknown"
    status: int | None = None
    error: str | None = None
    attempts: int = 0


def target_outcomes(records: Iterable[AuditRecord]) -> list[TargetOutcome]:
    """One ``TargetOutcome`` per (run, action, target) in ``records`` (seq order), in the
    order the targets were first named."""
    operators: dict[str, str] = {}
    actions: dict[str, str] = {}
    rows: dict[tuple[str, str, str], _Row] = {}
    for record in records:
        run = record.run
        if run is None:
            continue
        operators.setdefault(run, record.operator)
        if record.kind == "run.started":
            operators[run] = record.operator
            actions.setdefault(run, text_of(record.params.get("action")))
        if record.kind not in ("action.intent", "action.outcome"):
            continue
        action = text_of(record.params.get("action")) or actions.get(run) or "action"
        for targets, fields in _named(record):
            for target in map(text_of, targets):
                row = rows.get((run, action, target))
                if row is None:
                    row = rows[run, action, target] = _Row(record.step, record.ts, record.ts)
                row.last = record.ts
                if fields is not None:
                    _settle(row, fields)
    return [
        TargetOutcome(
            run=run,
            step=row.step,
            action=action,
            target=target,
            outcome=row.outcome,
            status=row.status,
            attempts=row.attempts,
            error=row.error,
            first_recorded_at=row.first,
            last_recorded_at=row.last,
            operator=operators[run],
        )
        for (run, action, target), row in rows.items()
    ]


def _named(record: AuditRecord) -> Iterable[tuple[list[Any], Mapping[str, Any] | None]]:
    """The targets a record names, with their result (None: an intent)."""
    if record.kind == "action.outcome":
        return outcome_groups(record.outcome)
    targets = record.params.get("targets")
    return [(targets, None)] if isinstance(targets, list) else []


def _settle(row: _Row, fields: Mapping[str, Any]) -> None:
    """Add one result: attempts add up; the final outcome is the first success, else the
    latest result."""
    row.attempts += _int(fields.get("attempts")) or 0
    if not replaces_final(row.outcome):
        return
    row.outcome = text_of(fields.get("outcome")) or "unknown"
    row.status = _int(fields.get("status"))
    row.error = None if fields.get("error") is None else text_of(fields.get("error"))


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
