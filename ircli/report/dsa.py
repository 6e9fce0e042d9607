"""EU DSA statements of reasons from an incident's audit records (``ircli report -f dsa``).

One statement per account or content decision ircli carried out: each target whose final
outcome in a run is ``done`` (its first success — ``already_done`` was someone else's decision;
failures decided nothing) for an action that the run's profile maps to a decision
(``DecisionMapping``). What the statement says:

- the decision and ``content_type``: the profile's mapping of the action;
- the ground, category, facts and the rest of ``Reasons``: ``ircli.yaml`` (``config``), then
  the playbook's ``dsa`` block recorded with its run, then the command line (``given``), field
  by field; a statement is never written without them;
- ``automated_decision``: how the run was started (``automated_decision``);
- ``application_date``: the UTC day the outcome was recorded; ``content_date``: the UTC day the
  run started (ircli does not know when content was posted; it was up by then);
- ``puid``: ``ircli-`` and the SHA-256 of run, action and target — the same on every export,
  unique per decision, and no target id in the clear.

Every statement is checked against the database's rules (``ircli.dsarules``) before any is
returned; ``render_statements`` writes them as ASCII-escaped JSON Lines. docs/dsa.md.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ircli.audit.outcomes import SUCCEEDED, outcome_groups, replaces_final
from ircli.audit.records import AuditRecord
from ircli.audit.store import AuditStore
from ircli.dsarules import (
    DecisionMapping,
    Reasons,
    Statement,
    check_statement,
    drop_excluded,
    missing_reasons,
)
from ircli.errors import InvalidInput
from ircli.incident.model import replay
from ircli.report.build import incident_records

__all__ = ["Decisions", "automated_decision", "build_statements", "puid", "render_statements"]

Decisions = Callable[[str], Mapping[str, DecisionMapping]]
"""A run's profile (as the run recorded it: name or path) → its actions' decision mappings."""


@dataclass(frozen=True)
class _Decided:
    """A decision carried out: ``action`` on ``target`` in ``run``, its outcome recorded at
    ``at`` (the audit's UTC time)."""

    run: str
    action: str
    target: str
    at: str


@dataclass
class _Run:
    params: Mapping[str, Any] = field(default_factory=dict)
    """Of its ``run.started`` record."""
    started_at: str = ""
    final: dict[str, tuple[str, str]] = field(default_factory=dict)
    """target → (outcome, time) of its final outcome so far (``replaces_final``)."""


def _carried_out(records: Iterable[AuditRecord]) -> tuple[list[_Decided], dict[str, _Run]]:
    """The decisions of the action runs in ``records`` — each target whose final outcome in
    its run is ``done`` — in the order they were recorded, and every run seen."""
    runs: dict[str, _Run] = {}
    settled: list[tuple[str, str]] = []
    """(run, target) in the order their final outcome became a success (it stays one)."""
    for record in records:
        if record.run is None:
            continue
        run = runs.setdefault(record.run, _Run())
        if record.kind == "run.started" and not run.started_at:
            run.params, run.started_at = record.params, record.ts
        elif record.kind == "action.outcome":
            for targets, fields in outcome_groups(record.outcome):
                outcome = fields.get("outcome")
                if not isinstance(outcome, str):
                    continue
                for target in targets:
                    previous, _at = run.final.get(target, (None, None))
                    if isinstance(target, str) and replaces_final(previous):
                        run.final[target] = (outcome, record.ts)
                        if outcome in SUCCEEDED:
                            settled.append((record.run, target))
    decided = []
    for name, target in settled:
        run = runs[name]
        outcome, at = run.final[target]
        if outcome == "done" and isinstance(action := run.params.get("action"), str):
            decided.append(_Decided(name, action, target, at))
    return decided, runs


def _parent(run: str, runs: Mapping[str, _Run]) -> Mapping[str, Any]:
    """The ``run.started`` params of the playbook run ``run`` is a step of (empty for none).

    A step run names its playbook run in its ``run.started`` (``selection.run``); an ad-hoc or
    rollback run names none. Only records from before runs recorded their selection are read
    by id (``RUN.step``), and a rollback's (``RUN.rollback.N.action``) is no step of ``RUN``.
    """
    own = runs[run].params if run in runs else {}
    if "selection" in own:
        selection = own["selection"]
        parent = selection.get("run") if isinstance(selection, Mapping) else None
    elif "." in run and not re.fullmatch(r".+\.rollback\.\d+(\..*)?", run):
        parent = run.split(".", 1)[0]
    else:
        parent = None
    found = runs.get(parent) if isinstance(parent, str) else None
    return found.params if found is not None else {}


def automated_decision(own: Mapping[str, Any], parent: Mapping[str, Any]) -> str:
    """How automated a run's decisions were, from its ``run.started`` params and those of the
    playbook run it is a step of (empty for none): a run that recorded ``automated: true`` —
    fully; a playbook run started by a person — partially; an ad-hoc command — not at all."""
    if own.get("automated") is True or parent.get("automated") is True:
        return "AUTOMATED_DECISION_FULLY"
    if "playbook" in parent:
        return "AUTOMATED_DECISION_PARTIALLY"
    return "AUTOMATED_DECISION_NOT_AUTOMATED"


def puid(run: str, action: str, target: str) -> str:
    """The statement's platform unique identifier: stable for (run, action, target)."""
    digest = hashlib.sha256(f"{run}\n{action}\n{target}".encode()).hexdigest()
    return f"ircli-{digest}"


def build_statements(
    store: AuditStore,
    incident_id: str,
    *,
    decisions: Decisions,
    config: Reasons | None = None,
    given: Reasons | None = None,
    redact: Callable[[str], str] = str,
) -> list[Statement]:
    """The statements of reasons of ``incident_id`` (see the module docstring).

    ``redact`` is applied to every text the statements carry. Raises ``InvalidInput`` naming what is
    missing, or the first statement that breaks the database's rules; then none is returned.
    """
    head = store.head()
    records = incident_records(store, incident_id, head.seq if head else 0)
    if incident_id not in replay(records):
        raise InvalidInput(f"no incident {incident_id!r} in the audit store.")
    decided, runs = _carried_out(records)
    mapped: dict[str, Mapping[str, DecisionMapping]] = {}
    reasons: dict[str, dict[str, Any]] = {}
    lacking: dict[str, list[str]] = {}
    chosen: list[tuple[_Decided, DecisionMapping]] = []
    for item in decided:
        profile = str(runs[item.run].params.get("profile") or "")
        if profile not in mapped:
            try:
                mapped[profile] = decisions(profile)
            except InvalidInput as error:
                raise InvalidInput(
                    error.message,
                    hint=f"{item.run} ran with the profile {profile!r}: its actions' dsa "
                    "mappings say which actions are DSA decisions.",
                ) from None
        mapping = mapped[profile].get(item.action)
        if mapping is None:
            continue
        if item.run not in reasons:
            reasons[item.run] = _reasons_of(item.run, runs, config, given)
            if missing := missing_reasons(reasons[item.run]):
                lacking[item.run] = missing
        chosen.append((item, mapping))
    if lacking:
        raise _missing(lacking)
    return [_statement(item, mapping, reasons[item.run], runs, redact) for item, mapping in chosen]


def _reasons_of(
    run: str, runs: Mapping[str, _Run], config: Reasons | None, given: Reasons | None
) -> dict[str, Any]:
    recorded = _parent(run, runs).get("dsa")
    playbook = None
    if recorded is not None:
        try:
            playbook = Reasons.model_validate(recorded)
        except ValueError:
            raise InvalidInput(
                f"the playbook's dsa block recorded with {run} is not valid; nothing was written.",
                hint="Give the reasons with --dsa-ground, --dsa-category and --dsa-facts.",
            ) from None
    merged = {"source_type": "SOURCE_VOLUNTARY", **Reasons.merge(config, playbook, given)}
    return drop_excluded(merged)


def _missing(lacking: Mapping[str, list[str]]) -> InvalidInput:
    run, missing = next(iter(lacking.items()))
    others = len(lacking) - 1
    more = f" (and {others} other run{'s' if others > 1 else ''})" if others else ""
    return InvalidInput(
        f"cannot write DSA statements for {run}{more}: no {_or(missing)} was given; nothing "
        "was written.",
        hint="Give them in the playbook's dsa block, in ircli.yaml (dsa:), or with "
        "--dsa-ground, --dsa-category, --dsa-facts and --dsa-field NAME=VALUE (docs/dsa.md).",
    )


def _or(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _statement(
    item: _Decided,
    mapping: DecisionMapping,
    reasons: Mapping[str, Any],
    runs: Mapping[str, _Run],
    redact: Callable[[str], str],
) -> Statement:
    run = runs[item.run]
    values: dict[str, Any] = {
        **mapping.model_dump(exclude_none=True),
        **reasons,
        "content_date": run.started_at[:10],
        "application_date": item.at[:10],
        "automated_decision": automated_decision(run.params, _parent(item.run, runs)),
        "puid": puid(item.run, item.action, item.target),
    }
    for name, value in values.items():  # constants and dates pass unchanged
        if isinstance(value, str) and name != "puid":
            values[name] = redact(value)
    statement, problems = check_statement(values)
    if statement is None:
        raise InvalidInput(
            f"the DSA statement for a target of {item.run} ({item.action}) breaks the "
            f"database's rules: {' '.join(problems)} Nothing was written."
        )
    return statement


def render_statements(statements: Iterable[Statement]) -> str:
    """JSON Lines, one statement a line, ASCII-escaped (inert on a terminal)."""
    return "".join(
        json.dumps(s.as_json(), ensure_ascii=True, separators=(",", ":")) + "\n" for s in statements
    )
