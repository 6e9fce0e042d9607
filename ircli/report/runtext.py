"""One run in words: who, why, what chose its targets, with which parameters, how it went.

Shared by the Response section and the Runs appendix of the Markdown and HTML reports. A
playbook run is told with its step runs (their targets and outcomes), not as "0/0 targets".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ircli.platform.sent import describe
from ircli.report.model import ActionTally, Report, RunSummary
from ircli.report.runs import OUTCOMES
from ircli.report.timeline import text_of
from ircli.report.words import (
    UNKNOWN,
    num,
    parameters_text,
    short_time,
    value_text,
)

__all__ = [
    "PROVENANCE_COLUMNS",
    "RUN_COLUMNS",
    "chosen_by",
    "outcome_text",
    "outcome_totals",
    "provenance_rows",
    "run_line",
    "run_rows",
    "step_rows",
]

RUN_COLUMNS = (
    "Run",
    "Operator",
    "Started",
    "Finished",
    "Status",
    "What",
    "Reason",
    "Targets chosen by",
    "Parameters",
    "Outcome",
    "HTTP requests",
)
PROVENANCE_COLUMNS = ("Run", "Plan hash", "Playbook", "Playbook SHA-256", "Profile SHA-256")


def outcome_totals(tallies: list[ActionTally]) -> dict[str, int]:
    totals = dict.fromkeys(OUTCOMES, 0)
    for tally in tallies:
        for outcome, count in tally.outcomes.items():
            totals[outcome] = totals.get(outcome, 0) + count
    return totals


def outcome_text(tallies: list[ActionTally], targets: int | None) -> str:
    """``400 of 400 targets done, 0 already done, 0 not done`` (``, 3 protected`` when
    protected accounts were held back)."""
    totals = outcome_totals(tallies)
    acted = sum(totals.values())
    of = max(acted, targets or 0)
    protected = totals["protected"]
    return (
        f"{num(totals['done'])} of {num(of)} targets done, "
        f"{num(totals['already_done'])} already done, "
        f"{num(totals['failed'] + totals['retryable'] + of - acted)} not done"
        + (f", {num(protected)} protected (not sent)" if protected else "")
    )


def run_line(run: RunSummary, report: Report) -> str:
    head = f"{short_time(run.started_at)} — run {run.run}"
    if run.playbook is not None:
        steps = _step_runs(run, report)
        tallies, targets = _with_steps(run, steps)
        return (
            f"{head} (playbook {run.playbook.get('name') or UNKNOWN}) by {run.operator}: "
            f"{run.status}; {num(len(steps))} step run{'' if len(steps) == 1 else 's'}, "
            f"{outcome_text(tallies, targets)}; HTTP requests for its own reads: "
            f"{describe(run.http_requests)}."
        )
    parameters = parameters_text(run.parameters)
    return (
        f"{head} ({run.action or UNKNOWN}) by {run.operator}: {run.status}; "
        f"why: {run.reason or UNKNOWN}; targets chosen by {chosen_by(run)}"
        + (f"; parameters: {parameters}" if parameters else "")
        + f"; {outcome_text(run.actions, run.targets)}; "
        f"HTTP requests: {describe(run.http_requests)}."
    )


def _step_runs(run: RunSummary, report: Report) -> list[RunSummary]:
    return [child for child in report.runs if child.parent == run.run]


def _with_steps(run: RunSummary, steps: list[RunSummary]) -> tuple[list[ActionTally], int]:
    """A playbook run's tallies and targets: its own (if any) and its step runs'."""
    tallies = [*run.actions, *(tally for child in steps for tally in child.actions)]
    return tallies, (run.targets or 0) + sum(child.targets or 0 for child in steps)


def chosen_by(run: RunSummary) -> str:
    """What chose the run's targets, from its ``run.started`` record."""
    selection = run.selection
    if run.playbook is not None:
        return f"playbook {run.playbook.get('name') or UNKNOWN} (its steps)"
    if not selection:
        return f"{UNKNOWN} (not recorded)"
    source = selection.get("source")
    if source == "--id":
        return "--id on the command line"
    if source == "--ids-file":
        column = f", column {value_text(selection['column'])}" if selection.get("column") else ""
        return (
            f"ids file {value_text(selection.get('ids_file'))} "
            f"(SHA-256 {value_text(selection.get('sha256'))}{column})"
        )
    if source == "playbook":
        return f"playbook step {value_text(selection.get('step'))}: {_step_source(selection)}"
    if source == "expiry":
        return f"the expiry of {value_text(selection.get('expired_run'))} (set back by ircli)"
    filters = selection.get("filters")
    where = parameters_text(filters) if isinstance(filters, Mapping) else ""
    return f"--where on {value_text(selection.get('listing'))}" + (f" ({where})" if where else "")


def _step_source(selection: Mapping[str, Any]) -> str:
    query = selection.get("query")
    if isinstance(query, Mapping):
        filters = query.get("filters")
        text = f"query {value_text(query.get('listing'))}"
        if isinstance(filters, Mapping) and filters:
            text += f" ({parameters_text(filters)})"
        if query.get("where"):
            text += f" where {value_text(query['where'])}"
        return text
    if selection.get("from"):
        return f"from {value_text(selection['from'])}"
    if selection.get("ids_file"):
        return f"ids file {value_text(selection['ids_file'])}"
    count = selection.get("inline_ids")
    return f"{num(count)} ids in the playbook" if type(count) is int else UNKNOWN


def run_rows(report: Report) -> list[tuple[str, ...]]:
    """One row per run (``RUN_COLUMNS``): who, why, what chose the targets, with which
    parameters, and how it went."""
    rows: list[tuple[str, ...]] = []
    for run in report.runs:
        targets: int | None
        if run.playbook is not None:
            tallies, targets = _with_steps(run, _step_runs(run, report))
            what = f"playbook {run.playbook.get('name') or UNKNOWN}"
        else:
            tallies, targets, what = run.actions, run.targets, run.action or UNKNOWN
        rows.append(
            (
                run.run,
                run.operator,
                short_time(run.started_at),
                short_time(run.finished_at),
                run.status + (f" (resumed {run.resumed}×)" if run.resumed else ""),
                what,
                run.reason or UNKNOWN,
                chosen_by(run),
                parameters_text(run.parameters) or "none",
                outcome_text(tallies, targets),
                describe(run.http_requests),
            )
        )
    return rows


def provenance_rows(report: Report) -> list[tuple[str, ...]]:
    """One row per run (``PROVENANCE_COLUMNS``): the plan and the files it ran from."""
    rows: list[tuple[str, ...]] = []
    for run in report.runs:
        playbook = run.playbook or {}
        rows.append(
            (
                run.run,
                run.plan_hash or "none",
                playbook.get("path") or playbook.get("name") or "none",
                playbook.get("sha256") or "none",
                run.profile_sha256 or UNKNOWN,
            )
        )
    return rows


def step_rows(report: Report) -> list[tuple[str, ...]]:
    """(run, step, kind, action, finished, outcome) for playbook steps."""
    return [
        (
            run.run,
            step.step,
            step.kind or UNKNOWN,
            step.action or "none",
            short_time(step.finished_at),
            _step_outcome(step.counts),
        )
        for run in report.runs
        for step in run.steps
    ]


def _step_outcome(fields: Mapping[str, Any]) -> str:
    """``done, 15,241 targets`` from a ``step.finished`` outcome (else its fields)."""
    if "status" not in fields:
        return ", ".join(f"{k}={v}" for k, v in fields.items()) or UNKNOWN
    count = fields.get("targets")
    parts = [text_of(fields["status"]) or "?"]
    if type(count) is int and count:
        parts.append(f"{num(count)} target{'' if count == 1 else 's'}")
    return ", ".join(parts)
