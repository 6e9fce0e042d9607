"""What a watch does when a rule fires.

1. Opens an incident detected when the rule first held (``detected_by``: the watch, the rule,
   ``automated: true``), with the signals' values as the detection note, and records
   ``watch.fired`` with the evidence: each condition's verdict and the samples since the rule
   first held.
2. Posts to the rule's webhooks (``watch.notified``, one record each), all at once and beside
   the response: a slow or silent webhook never holds the containment back.
3. Responds with the linked playbook (``watch.decision`` records each step of the way):
   - ``approval: person`` (the default): plans it (a dry run on the incident) and waits for
     ``ircli runs approve PLAN-RUN`` by a person other than the watch, then applies exactly
     that plan. A plan the platform has drifted from is planned again; one not approved
     within ``approval_timeout`` is given up.
   - ``approval: pre-approved`` (or a drill): runs it at once, held to the guardrails, as an
     automatic run (``automated: true`` in its ``run.started``: ``FULLY`` automated in the
     DSA statements of reasons).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ircli.clock import format_epoch
from ircli.errors import GuardRefused
from ircli.watch.rules import Evidence

if TYPE_CHECKING:
    from ircli.playbook.model import Playbook
    from ircli.playbook.runner import PlaybookOutcome
    from ircli.watch.model import Response as ResponseSpec
    from ircli.watch.model import Rule
    from ircli.watch.service import WatchSession

__all__ = ["APPROVAL_POLL_SECONDS", "MAX_PLANS", "Response"]

APPROVAL_POLL_SECONDS = 2.0
MAX_PLANS = 3
"""Plans made for one firing before the watch gives up (each refused one is re-planned)."""


class Response:
    """One firing of one rule, from the incident to the playbook run's end."""

    def __init__(self, session: WatchSession, rule: Rule, evidence: Evidence) -> None:
        self.session = session
        self.rule = rule
        self.evidence = evidence
        self.incident: str | None = None
        self.state = "firing"
        """firing, awaiting_approval, running, completed, failed, expired, refused, stopped,
        no_response."""
        self.plan_run: str | None = None
        self.run_id: str | None = None
        self.run_status: str | None = None
        self.reason: str | None = None
        self.over = False

    def as_dict(self) -> dict[str, Any]:
        """For ``--json`` and the live status."""
        return {
            "rule": self.rule.name,
            "incident": self.incident,
            "state": self.state,
            "detected_at": format_epoch(self.evidence.held_since),
            "fired_at": format_epoch(self.evidence.fired_at),
            "plan_run": self.plan_run,
            "run": self.run_id,
            "run_status": self.run_status,
            "status_reason": self.reason,
        }

    def failed(self, why: str) -> None:
        """The response could not go on (recorded, and shown by the caller)."""
        self.state, self.reason, self.over = "failed", why, True
        if self.incident is not None:
            self._decide("failed", reason=why)

    # -- the steps -----------------------------------------------------------------------------

    async def run(self) -> None:
        """Incident, notification, then the playbook (see the module text)."""
        session = self.session
        self._open_incident()
        session.say(
            "warning",
            f"rule {self.rule.name} fired: incident {self.incident} "
            f"(held since {format_epoch(self.evidence.held_since)}; {self._values_text()})",
        )
        notifying = asyncio.create_task(self._notify())
        try:
            await self._respond()
        finally:  # the response is over once its notifications are on record too
            await notifying

    async def _respond(self) -> None:
        session = self.session
        playbook = session.watch.playbooks.get(self.rule.name)
        response = self.rule.respond
        if playbook is None or response is None:
            self.state, self.over = "no_response", True
            return
        if session.pre_approve or response.approval == "pre-approved":
            await self._run_at_once(playbook)
        else:
            await self._plan_and_wait(playbook)
        self.over = True

    def _spec(self) -> ResponseSpec:
        spec = self.rule.respond
        if spec is None:  # pragma: no cover - run() checks first
            raise TypeError(f"rule {self.rule.name} has no response")
        return spec

    def _values_text(self) -> str:
        parts = []
        for text, verdict in self.evidence.conditions:
            shown = "unknown" if verdict.value is None else f"{verdict.value:,.6g}"
            against = "" if verdict.compared is None else f" vs {verdict.compared:,.6g}"
            parts.append(f"{text}: {shown}{against}")
        return "; ".join(parts)

    def _open_incident(self) -> None:
        from ircli.incident.service import IncidentService

        session, evidence = self.session, self.evidence
        incidents = IncidentService(session.workspace.store)
        spec = session.watch.watch
        incident = incidents.open(
            session.title_prefix + self.rule.incident_title,
            severity=self.rule.severity,
            detected_at=datetime.fromtimestamp(evidence.held_since, UTC),
            detected_by={
                "watch": spec.name,
                "rule": self.rule.name,
                "session": session.session,
                "automated": True,
            },
        )
        self.incident = incident.id
        session.record(
            "watch.fired",
            incident=incident.id,
            summary=f"rule {self.rule.name} fired",
            rule=self.rule.name,
            held_since=format_epoch(evidence.held_since),
            fired_at=format_epoch(evidence.fired_at),
            conditions=[
                {
                    "condition": text,
                    "holds": verdict.holds,
                    "value": verdict.value,
                    "compared": verdict.compared,
                }
                for text, verdict in evidence.conditions
            ],
            samples={
                name: [[format_epoch(at), value] for at, value in rows]
                for name, rows in evidence.samples.items()
            },
            baselines=dict(evidence.baselines),
        )
        incidents.add_note(
            incident.id,
            f"Detected by ircli watch {spec.name}, rule {self.rule.name}: {self._values_text()}.",
            kind="detection",
            at=datetime.fromtimestamp(evidence.fired_at, UTC),
        )
        session.fired.append(
            {
                "rule": self.rule.name,
                "incident": incident.id,
                "detected_at": format_epoch(evidence.held_since),
                "fired_at": format_epoch(evidence.fired_at),
                "values": evidence.values(),
            }
        )

    async def _notify(self) -> None:
        from ircli.playbook.webhooks import post_webhook, webhook_url

        session = self.session
        workspace = session.workspace
        text = (
            f"ircli watch {session.watch.watch.name}: rule {self.rule.name} fired — "
            f"incident {self.incident}: {self._values_text()}"
        )
        payload = {
            "text": text,
            "incident": self.incident,
            "rule": self.rule.name,
            "values": self.evidence.values(),
        }

        async def notify(name: str) -> None:
            url = webhook_url(workspace.webhooks, workspace.env, name)
            if url is None:
                status, detail = "failed", "no such webhook configured"
            else:
                status, detail = await post_webhook(url, payload)
            session.record(
                "watch.notified",
                incident=self.incident,
                summary=f"notify {name}: {detail}",
                webhook=name,
                status=status,
                detail=detail,
            )
            if status != "done":
                session.say("error", f"notify {name} failed: {detail}")

        await asyncio.gather(*(notify(name) for name in self.rule.notify))

    def _decide(self, decision: str, **params: Any) -> None:
        self.session.record(
            "watch.decision",
            incident=self.incident,
            summary=f"rule {self.rule.name}: {decision.replace('_', ' ')}",
            rule=self.rule.name,
            decision=decision,
            **params,
        )

    def _trigger(self, automated: bool, **more: Any) -> dict[str, Any]:
        from ircli.watch.service import storable

        session = self.session
        trigger: dict[str, Any] = storable(
            {
                "automated": automated,
                "trigger": {
                    "watch": session.watch.watch.name,
                    "rule": self.rule.name,
                    "session": session.session,
                    **more,
                },
            }
        )
        return trigger

    async def _run_at_once(self, playbook: Playbook) -> None:
        from ircli.watch.guardrails import guarded, guardrail_params
        from ircli.watch.model import Guardrails

        response = self._spec()
        rails = response.guardrails or Guardrails()
        book = guarded(playbook, rails)
        self._decide(
            "run_pre_approved",
            playbook=playbook.name,
            guardrails=guardrail_params(rails),
            drill=self.session.pre_approve and response.approval != "pre-approved",
        )
        self.state = "running"
        outcome = await self._playbook(
            book, trigger=self._trigger(True, guardrails=guardrail_params(rails))
        )
        self._ran(outcome)

    async def _playbook(
        self, book: Playbook, *, trigger: dict[str, Any], **more: Any
    ) -> PlaybookOutcome:
        from ircli.playbook.runner import run_playbook

        session = self.session
        response = self._spec()
        return await run_playbook(
            session.workspace,
            book,
            inputs=dict(response.inputs),
            profile_ref=session.loaded.ref,
            incident=self.incident,
            stop=session.stop,
            trigger=trigger,
            **more,
        )

    def _ran(self, outcome: PlaybookOutcome) -> None:
        self.run_id, self.run_status = outcome.run, outcome.status
        self.state = "completed" if outcome.status == "completed" else "failed"
        if outcome.status == "interrupted":
            self.state = "stopped"
        self.reason = outcome.reason
        self._decide("run_finished", run=outcome.run, run_status=outcome.status)
        level = "info" if outcome.status == "completed" else "error"
        self.session.say(level, f"playbook run {outcome.run}: {outcome.status}")

    async def _plan_and_wait(self, playbook: Playbook) -> None:
        from ircli.playbook.plans import SavedPlan, required_approvals, valid_approvers

        session = self.session
        response = self._spec()
        store = session.workspace.store
        deadline = session.now() + response.approval_timeout
        needed = max(1, required_approvals(playbook)[0])
        for _attempt in range(MAX_PLANS):
            plan = await self._playbook(playbook, trigger=self._trigger(True), dry_run=True)
            self.plan_run = plan.run
            self.state = "awaiting_approval"
            self._decide(
                "awaiting_approval",
                playbook=playbook.name,
                plan_run=plan.run,
                plan_hash=plan.plan_hash,
                approvals_needed=needed,
            )
            session.say(
                "warning",
                f"rule {self.rule.name}: plan {plan.run} of playbook {playbook.name} waits for "
                f"{needed} approval(s): ircli runs approve {plan.run}",
            )
            saved = SavedPlan(**plan.saved_plan())
            approvers: list[str] = []
            while len(approvers) < needed:
                if session.now() >= deadline:
                    self.state, self.reason = "expired", "not approved in time"
                    self._decide("expired", plan_run=plan.run)
                    session.say("error", f"rule {self.rule.name}: plan {plan.run} expired")
                    return
                if session.stop.is_set():
                    self.state, self.reason = "stopped", "the watch stopped before approval"
                    self._decide("abandoned", plan_run=plan.run, reason=self.reason)
                    return
                approvers = valid_approvers(
                    store, saved.plan_hash, requester=store.operator, now=store.clock()
                )
                if len(approvers) < needed:
                    await _sleep_or_stop(session.stop, APPROVAL_POLL_SECONDS)
            self._decide("approved", plan_run=plan.run, approvers=approvers)
            self.state = "running"
            try:
                outcome = await self._playbook(
                    playbook,
                    trigger=self._trigger(False, approved_by=approvers, plan_run=plan.run),
                    plan=saved,
                    max_drift=response.max_drift,
                )
            except GuardRefused as refused:
                self.state, self.reason = "refused", refused.message
                self._decide("refused", plan_run=plan.run, reason=refused.message)
                session.say("warning", f"rule {self.rule.name}: {refused.message}")
                continue  # most often drift: plan again, for a person to approve again
            self._ran(outcome)
            return


async def _sleep_or_stop(stop: asyncio.Event, delay: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=delay)
    except TimeoutError:
        return
