"""EU DSA statements of reasons from an incident's audit records (``ircli report -f dsa``).

One statement per account or content decision ircli carried out: each target whose final
outcome in a run is ``done`` (its first success — ``already_done`` was someone else's decision;
failures decided nothing) for an action that the run's profile maps to a decision
(``DecisionMapping``). What the statement says:

- the decision and ``content_type``: the profile's mapping of the action, as the run recorded it
  (``dsa_decision`` in ``run.started``); for runs recorded before runs kept it, the profile's
  file as it reads now (``decisions``), if its SHA-256 is still the one the run recorded;
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
from ircli.report.runs import parent_run

__all__ = [
    "Decisions",
    "ProfileDecisions",
    "automated_decision",
    "build_statements",
    "puid",
    "render_statements",
]


@dataclass(frozen=True)
class ProfileDecisions:
    """A profile's actions' decision mappings as its file reads now, and the file's SHA-256."""

    sha256: str
    actions: Mapping[str, DecisionMapping]


Decisions = Callable[[str], ProfileDecisions]
"""A run's profile (as the run recorded it: name or path) → its decision mappings now; read
only for runs recorded before runs kept their own mapping (``dsa_decision``)."""


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
    profile_sha256: str | None = None
    """Of the profile it last ran with (``run.started``, or a ``run.resumed`` after it)."""
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
            run.profile_sha256 = _text(record.params.get("profile_sha256"))
        elif record.kind == "run.resumed" and _text(record.params.get("profile_sha256")):
            run.profile_sha256 = _text(record.params.get("profile_sha256"))
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


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _parent(run: str, runs: Mapping[str, _Run]) -> Mapping[str, Any]:
    """The ``run.started`` params of the playbook run ``run`` is a step of (empty for none;
    ``parent_run`` says which)."""
    parent = parent_run(run, runs[run].params if run in runs else {})
    found = runs.get(parent) if isinstance(parent, str) else None
    return found.params if found is not None else {}


def automated_decision(own: Mapping[str, Any], parent: Mapping[str, Any]) -> str:
    """How automated a run's decisions were, from its ``run.started`` params and those of the
    playbook run it is a step of (empty for none): a run that recorded ``automated: true`` —
    fully (what an automatic trigger records; no ircli command does yet, ``ircli watch`` is
    planned); a playbook run started by a person — partially; an ad-hoc command — not at all."""
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
    profiles: dict[str, ProfileDecisions] = {}
    reasons: dict[str, dict[str, Any]] = {}
    lacking: dict[str, list[str]] = {}
    chosen: list[tuple[_Decided, DecisionMapping]] = []
    for item in decided:
        mapping = _mapping(item, runs[item.run], decisions, profiles)
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


def _mapping(
    item: _Decided, run: _Run, decisions: Decisions, profiles: dict[str, ProfileDecisions]
) -> DecisionMapping | None:
    """The decision ``item``'s action carried out (``None``: none): the mapping its run
    recorded, else its profile's now (kept in ``profiles``) if the file is the one it ran with."""
    if "dsa_decision" in run.params:
        recorded = run.params["dsa_decision"]
        try:
            return None if recorded is None else DecisionMapping.model_validate(recorded)
        except ValueError:
            raise InvalidInput(
                f"the dsa mapping recorded with {item.run} is not valid; nothing was written."
            ) from None
    ref = str(run.params.get("profile") or "")
    if ref not in profiles:
        try:
            profiles[ref] = decisions(ref)
        except InvalidInput as error:
            raise InvalidInput(
                error.message,
                hint=f"{item.run} ran with the profile {ref!r} and recorded no dsa mapping of "
                "its own: the profile's say which actions are DSA decisions.",
            ) from None
    now = profiles[ref].sha256
    if now != run.profile_sha256:
        then = f"{run.profile_sha256[:12]}…" if run.profile_sha256 else "not recorded"
        raise InvalidInput(
            f"cannot write DSA statements for {item.run}: it recorded no dsa mapping of its own "
            f"and its profile {ref!r} changed since it ran (SHA-256 {then} then, {now[:12]}… "
            "now); nothing was written.",
            hint="Restore the profile as the run used it: its actions' dsa mappings say which "
            "of them are DSA decisions.",
        )
    return profiles[ref].actions.get(item.action)


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
