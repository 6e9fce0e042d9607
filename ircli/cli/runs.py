"""``ircli runs``: list, show and resume runs from the audit store."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from ircli.cli.display import Column, short_time
from ircli.cli.helptext import CONTEXT_SETTINGS, example
from ircli.cli.options import OverrideProtected, SkipPreflight, check_override
from ircli.cli.state import CliState, state_of
from ircli.errors import InvalidInput

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable, Mapping

    from ircli.audit.store import AuditStore
    from ircli.executor.history import PlaybookListing, RunListing
    from ircli.executor.reverts import Expiry, RevertResult
    from ircli.executor.rollback import RollbackOutcome
    from ircli.executor.service import RunOutcome, Workspace

__all__ = ["app"]

app = typer.Typer(
    help="List, inspect and resume runs (every run is rebuilt from the audit store).",
    epilog=example("ircli runs list", "ircli runs resume RUN-20261128-7QK2AB", "ircli runs due"),
    rich_markup_mode=None,
    no_args_is_help=True,
    context_settings=CONTEXT_SETTINGS,
)

RunId = Annotated[str, typer.Argument(metavar="RUN", help="The run id.")]


def _summary(listing: RunListing, expiries: Mapping[str, list[Expiry]]) -> dict[str, Any]:
    """A ``RunListing`` as output, with its expiry (``expiries`` by run) if it has one."""
    return {
        "run": listing.run,
        "kind": "action",
        "action": listing.action,
        "status": listing.status,
        "operator": listing.operator,
        "started_at": listing.started_at,
        "incident": listing.incident,
        "profile": listing.profile,
        "targets": listing.targets,
        "counts": dict(listing.counts),
        "expiry": _expiry_summary(expiries.get(listing.run)),
    }


_URGENCY = ("due", "pending", "reverted", "superseded", "not_changed")


def _expiry_summary(found: list[Expiry] | None) -> dict[str, Any] | None:
    """A run's expiry: when, and where it stands — of the target that most needs attention
    (a run of one flag has one) — and each target's."""
    if not found:
        return None
    first = min(found, key=lambda expiry: _URGENCY.index(expiry.status))
    return {
        "expires_at": first.as_json()["expires_at"],
        "status": first.status,
        "reverted_by": first.reverted_by,
        "superseded_by": first.superseded_by,
        "targets": [
            {key: value for key, value in expiry.as_json().items()
             if key in ("target", "status", "revert_params", "reverted_by", "superseded_by")}
            for expiry in found
        ],
    }  # fmt: skip


def _expiries_by_run(state: CliState, store: AuditStore) -> dict[str, list[Expiry]]:
    """Every expiry in the store, by the run that made the change, as of now."""
    from ircli.executor.reverts import expiries

    by_run: dict[str, list[Expiry]] = {}
    for expiry in expiries(store, state.environment.clock()):
        by_run.setdefault(expiry.run, []).append(expiry)
    return by_run


def _expiry_cell(summary: dict[str, Any]) -> str:
    """The ``expires`` cell of ``runs list``: when, or how it ended (``runs show`` names the
    run that set it back or superseded it)."""
    expiry = summary.get("expiry")
    if not expiry:
        return ""
    status = expiry["status"]
    if status == "pending":
        return short_time(expiry["expires_at"])
    return str(status).replace("_", " ")


LIST_LIMIT = 50
"""How many runs ``runs list`` shows unless told otherwise: a store keeps every run ever."""


@app.command(
    "list",
    epilog=example(
        "ircli runs list", "ircli runs list --limit 200", "ircli --json runs list --all"
    ),
)
def list_runs(
    ctx: typer.Context,
    limit: Annotated[
        int, typer.Option("--limit", min=1, help="Show at most this many runs, newest first.")
    ] = LIST_LIMIT,
    every: Annotated[bool, typer.Option("--all", help="Show every run the store holds.")] = False,
) -> None:
    """List runs, newest first (the newest 50 unless --limit or --all)."""
    from ircli.executor.history import list_playbook_runs, list_run_summaries, newest_runs

    state = state_of(ctx)
    store = state.store()
    runs, total = (None, 0) if every else newest_runs(store, limit)
    if runs is not None and total > len(runs):
        state.display.info(
            f"the newest {len(runs):,} of {total:,} runs; --limit N or --all for more."
        )
    expiries = _expiries_by_run(state, store)
    summaries = [_summary(run, expiries) for run in list_run_summaries(store, runs)]
    summaries += [_playbook_summary(run) for run in list_playbook_runs(store, runs)]
    summaries.sort(key=lambda s: (s["started_at"], s["run"]), reverse=True)
    if state.display.json_mode:
        state.display.json(summaries)
        return
    # The expires column only when a run expires (most stores have none); it gives way
    # after the start time and the operator.
    expiring = (Column("expires", drop=3),) if any(s.get("expiry") for s in summaries) else ()
    state.display.table(
        (
            "run",
            Column("started", drop=4),
            Column("operator", drop=5),
            Column("action", drop=1),
            "status",
            Column("targets", drop=2),
            "done",
            "failed",
            "left",
            Column("incident", drop=3),
            *expiring,
        ),
        (
            (
                s["run"],
                short_time(s["started_at"]),
                s["operator"],
                s["action"],
                s["status"],
                *_count_cells(s),
                s["incident"] or "",
                *((_expiry_cell(s),) if expiring else ()),
            )
            for s in summaries
        ),
    )


def _count_cells(summary: dict[str, Any]) -> tuple[object, ...]:
    """targets, done, failed, left — of targets for an action run, blank for a playbook run
    (whose action cell says its progress through the steps)."""
    if summary.get("kind") == "playbook":
        return ("", "", "", "")
    counts = summary["counts"]
    return (
        summary["targets"],
        counts["done"] + counts["already_done"],
        counts["failed"],
        counts["retryable"] + counts["unknown"] + counts["untouched"],
    )


def _playbook_summary(listing: PlaybookListing) -> dict[str, Any]:
    """A ``PlaybookListing`` as output; ``action`` says how far it got."""
    progress = f"{listing.steps_done} steps done" + (
        f", {listing.steps_failed} failed" if listing.steps_failed else ""
    )
    if listing.stopped_in:
        progress += f", stopped in {listing.stopped_in}"
    return {
        "run": listing.run,
        "kind": "playbook",
        "action": f"playbook {listing.playbook}"
        + (" (dry run)" if listing.dry_run else "")
        + f": {progress}",
        "playbook": listing.playbook,
        "status": listing.status,
        "operator": listing.operator,
        "started_at": listing.started_at,
        "incident": listing.incident,
        "dry_run": listing.dry_run,
        "steps_done": listing.steps_done,
        "steps_failed": listing.steps_failed,
        "stopped_in": listing.stopped_in,
    }


@app.command("show", epilog=example("ircli runs show RUN-20261128-7QK2AB"))
def show(ctx: typer.Context, run: RunId) -> None:
    """Show a run: its action, parameters, status, per-outcome counts and the HTTP requests
    it sent (by kind), apart from its target attempts."""
    from ircli.audit.records import RecordFilter
    from ircli.executor.history import RunListing
    from ircli.executor.journal import load_run
    from ircli.executor.reverts import expired_run
    from ircli.platform.sent import describe, run_requests

    state = state_of(ctx)
    if _is_playbook_run(state.store(), run):
        _show_playbook_run(state, run)
        return
    store = state.store()
    run_state = load_run(store, run)
    data = _summary(RunListing.of(run_state), _expiries_by_run(state, store))
    data["params"] = dict(run_state.spec.params)
    data["reason"] = run_state.spec.reason
    data["selection"] = run_state.spec.selection
    data["automated"] = run_state.spec.automated
    data["reverts"] = expired_run({"selection": run_state.spec.selection})
    data["protection"] = run_state.spec.protection
    data["target_attempts"] = sum(result.attempts for result in run_state.results.values())
    data["http_requests"] = run_requests(
        store.records(RecordFilter(run=run, kinds=("run.started", "run.resumed", "run.finished")))
    )
    failures = [
        result.as_json(target)
        for target, result in run_state.results.items()
        if not result.outcome.succeeded
    ]
    data["failures"] = failures[:50]
    if state.display.json_mode:
        state.display.json(data)
        return
    display = state.display
    display.result(f"{data['run']}  {data['action']}  {data['status']}")
    display.result(
        f"started {data['started_at']} by {data['operator']}; profile {data['profile']}; "
        f"incident {data['incident'] or '-'}; reason: {data['reason'] or '-'}"
    )
    if data["reverts"]:
        display.result(f"sets back the expiry of {data['reverts']} (automated)")
    if data["expiry"]:
        _show_expiry(state, data["expiry"])
    display.table(("outcome", "targets"), sorted(data["counts"].items()))
    if data["protection"] is not None:
        display.result(f"protection: {_protection_text(data['protection'])}")
    display.result(
        f"HTTP requests: {describe(data['http_requests'])}; "
        f"target attempts: {data['target_attempts']:,}"
    )
    if failures:
        display.table(
            ("target", "outcome", "status", "attempts", "error"),
            (
                (f["target"], f["outcome"], f["status"], f["attempts"], f["error"] or "")
                for f in failures[:50]
            ),
            title="Not done (first 50)",
        )


def _show_expiry(state: CliState, expiry: Mapping[str, Any]) -> None:
    """An expiring run's expiry in ``runs show``: when, and each target's state."""
    import json

    state.display.result(f"expires at {expiry['expires_at']}: {expiry['status']}")
    state.display.table(
        ("target", "expiry", "sets back", "by"),
        (
            (t["target"], t["status"], json.dumps(t["revert_params"]),
             t["reverted_by"] or t["superseded_by"] or "")
            for t in expiry["targets"]
        ),
    )  # fmt: skip


def _protection_text(protection: Mapping[str, Any]) -> str:
    """How ``runs show`` words the protection a run went with (``run.started``)."""
    if "exempt" in protection:
        return f"not applied ({protection['exempt']})"
    said = f"{protection.get('ids', 0):,} protected accounts"
    if protection.get("sha256"):
        said += f" (SHA-256 {str(protection['sha256'])[:12]}…)"
    if protection.get("applies") is False:
        said += "; its targets cannot be accounts, so none were read"
    if protection.get("override_protected"):
        said += f"; overridden by {protection.get('operator')}: {protection.get('override_reason')}"
    return said


@app.command(
    "resume",
    epilog=example(
        "ircli runs resume RUN-20261128-7QK2AB", "ircli runs resume RUN-20261128-7QK2AB --yes"
    ),
)
def resume(
    ctx: typer.Context,
    run: RunId,
    profile_changed: Annotated[
        bool,
        typer.Option(
            "--profile-changed",
            help="Resume even though the run's profile changed since it started.",
        ),
    ] = False,
    skip_preflight: SkipPreflight = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    allow_changed: Annotated[
        bool,
        typer.Option(
            "--allow-changed",
            help="Resume a playbook run even though its playbook file changed since it started.",
        ),
    ] = False,
    override_protected: OverrideProtected = False,
    reason: Annotated[
        str | None,
        typer.Option("--reason", help="Why protected accounts may be acted on (recorded)."),
    ] = None,
) -> None:
    """Continue an interrupted or crashed run — an action run, or a whole playbook run from
    the step it stopped in; targets known done are never resent, finished steps never rerun."""
    from ircli.cli.actions import confirm, finish, warn_override
    from ircli.cli.asyncrun import run_draining
    from ircli.cli.progress import RunProgress
    from ircli.executor import service
    from ircli.executor.journal import load_run

    state = state_of(ctx)
    display = state.display
    override = check_override(override_protected, reason)
    if reason is not None and override is None:
        raise InvalidInput("--reason goes with --override-protected here.")
    workspace = state.workspace(preflight=not skip_preflight)
    if override is not None:
        warn_override(state)
    if _is_playbook_run(workspace.store, run):
        _resume_playbook(state, workspace, run, yes=yes, allow_changed=allow_changed,
                         profile_changed=profile_changed, override=override)  # fmt: skip
        return
    before = load_run(workspace.store, run)
    settled = before.settled()
    left = [target for target in before.spec.targets if target not in settled]
    remaining = len(left)
    if before.status not in ("completed", "running"):  # the service refuses those
        doing = f"resume {run}: {before.spec.action} on the {remaining:,} targets left"
        confirm(state, workspace, before.spec.action, left, before.spec.incident, yes=yes,
                doing=doing)  # fmt: skip
    display.info(f"resuming {run}: {remaining:,} of {len(before.spec.targets):,} targets left")
    progress = RunProgress(display, before.spec.action, remaining)

    async def main(stop: asyncio.Event) -> RunOutcome:
        async with progress.shown():
            return await service.resume_run(
                workspace,
                run,
                on_event=progress,
                stop=stop,
                profile_changed=profile_changed,
                override_protected=override,
            )

    outcome = run_draining(main, display)
    finish(state, outcome)


@app.command(
    "rollback",
    epilog=example(
        "ircli runs rollback RUN-20261128-7QK2AB --yes",
        "ircli runs rollback RUN-20261128-7QK2AB --stages 1,10,50,100 "
        "--check 'failure_ratio < 0.05' --yes",
    ),
)
def rollback(
    ctx: typer.Context,
    run: RunId,
    stages: Annotated[
        str | None,
        typer.Option("--stages", metavar="PERCENTS", help="Cumulative stages, e.g. 1,10,50,100."),
    ] = None,
    check: Annotated[
        str | None,
        typer.Option(
            "--check",
            metavar="EXPR",
            help="Checked between stages over attempted, succeeded, failed, failure_ratio.",
        ),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Undo what a run changed: the declared inverse actions, optionally in stages."""
    from ircli.cli.asyncrun import run_draining
    from ircli.cli.progress import RunProgress
    from ircli.errors import ExitCode, GuardRefused
    from ircli.executor import rollback as rollbacks

    state = state_of(ctx)
    display = state.display
    workspace = state.workspace()
    fractions = rollbacks.parse_stages(stages)
    test = _check(check)
    plan = rollbacks.plan_rollback(workspace, run, _undo(workspace, run))
    if not yes:
        raise GuardRefused(
            f"rolling back {run} ({plan.changed:,} changed targets) needs --yes; nothing was sent."
        )
    progress = RunProgress(display, f"rollback {run}", plan.changed)

    async def main(stop: asyncio.Event) -> RollbackOutcome:
        async with progress.shown():
            return await rollbacks.rollback(
                workspace, plan, stages=fractions, check=test, on_event=progress, stop=stop
            )

    outcome = run_draining(main, display)
    data = {
        "run": run,
        "status": outcome.status,
        "status_reason": outcome.reason,
        "reverted": outcome.reverted,
        "failed": outcome.failed,
        "stages": outcome.stages,
    }
    if display.json_mode:
        display.json(data)
    else:
        display.table(
            ("stage", "action", "targets", "reverted"),
            ((s["stage"], s["action"], s["targets"], s["succeeded"]) for s in outcome.stages),
            title=f"Rollback of {run}: {outcome.status}",
        )
        if outcome.reason:
            display.warning(outcome.reason)
    if outcome.status == "interrupted":
        raise typer.Exit(ExitCode.INTERRUPTED)
    if outcome.status not in ("completed", "nothing"):
        raise typer.Exit(ExitCode.FAILED)


_DUE_STATUSES = ("due", "reverted", "superseded", "failed", "busy", "interrupted")


@app.command(
    "due",
    epilog=example(
        "ircli runs due",
        "ircli runs due --profile sandbox --dry-run",
        "ircli --json runs due >> /var/log/ircli-due.jsonl   # from cron, every 5 minutes",
    ),
)
def due(
    ctx: typer.Context,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            metavar="NAME|PATH",
            help="Only changes made through this profile (named as they named it).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what is due; send and record nothing.")
    ] = False,
) -> None:
    """Set back the changes whose expiry is due (flags set --for, a step's for:), each with an
    audited run; a change made since supersedes one (not set back). Exit 1 when one could not
    be set back: it is tried again next time."""
    from ircli.cli.asyncrun import run_draining
    from ircli.clock import format_utc
    from ircli.errors import ExitCode
    from ircli.executor import reverts

    state = state_of(ctx)
    display = state.display
    store = state.store()  # one that exists: a mistyped --db must not start a new chain
    now = state.environment.clock()
    found = reverts.due_reverts(store, now, profile=profile)
    if dry_run or not found:  # nothing to send: no profile or HTTP client is loaded
        results = [reverts.RevertResult(due, due.status) for due in found]
    else:
        workspace = state.workspace()

        async def main(stop: asyncio.Event) -> list[RevertResult]:
            return await reverts.revert_due(workspace, now, profile=profile, stop=stop)

        results = run_draining(main, display)
    rows = [result.as_json() for result in results]
    counts = {status: sum(row["status"] == status for row in rows) for status in _DUE_STATUSES}
    if display.json_mode:
        display.json(
            {"dry_run": dry_run, "checked_at": format_utc(now), "counts": counts, "expiries": rows}
        )
    elif not rows:
        display.result(f"nothing due at {format_utc(now)}.")
    else:
        display.table(
            ("expired run", "target", "status", "revert run", Column("expired at", drop=2),
             Column("sets back", drop=1)),
            ((row["run"], row["target"], row["status"], row["revert_run"] or "",
              short_time(row["expires_at"]), _values(row["revert_params"])) for row in rows),
            title="Due (dry run: nothing sent)" if dry_run else None,
        )  # fmt: skip
    for row in rows:
        if row["status"] == "failed":
            display.error(
                f"could not set back {row['target']} (expiry of {row['run']}): {row['error']}"
            )
        elif row["status"] == "busy":
            display.warning(f"{row['target']} (expiry of {row['run']}) is {row['error']}.")
    if counts["interrupted"]:
        raise typer.Exit(ExitCode.INTERRUPTED)
    if counts["failed"]:
        raise typer.Exit(ExitCode.FAILED)


def _values(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{name}={value}" for name, value in params.items())


def _check(text: str | None) -> Callable[[Mapping[str, Any]], bool] | None:
    """Compile ``--check`` with the playbook expression language (names checked now)."""
    if text is None:
        return None
    from ircli.playbook.context import Context, Origin, Scope
    from ircli.playbook.expr import compile_expression
    from ircli.yamlfile import Location

    names = frozenset({"attempted", "succeeded", "failed", "failure_ratio"})
    expression = compile_expression(
        text, Scope(values=names), Origin(Location("--check", 1, 1), "")
    )
    return lambda values: expression.test(Context(values=values))


def _undo(workspace: Workspace, run: str) -> dict[str, tuple[str, Any]]:
    """Explicit ``undo`` of a playbook run's steps (for actions without an inverse)."""
    from pathlib import Path

    from ircli.playbook.context import Context
    from ircli.playbook.execution import undo_map
    from ircli.playbook.loader import load_playbook
    from ircli.playbook.plans import playbook_run_started

    started = playbook_run_started(workspace.store, run)
    if started is None:
        return {}
    source = Path(started.params["playbook"]["source"])
    if not source.is_file():
        return {}
    return undo_map(load_playbook(source), Context(inputs=started.params.get("inputs", {})))


@app.command(
    "approve",
    epilog=example("ircli --operator lee runs approve RUN-20261128-7QK2AB"),
)
def approve(
    ctx: typer.Context,
    run: RunId,
    expires: Annotated[
        str | None,
        typer.Option(
            "--expires",
            metavar="DURATION",
            help="Lifetime, e.g. 30m (default: the playbook's, else 1h).",
        ),
    ] = None,
) -> None:
    """Approve the plan of a dry run (another operator than the one who planned it)."""
    from pathlib import Path

    from ircli.clock import parse_duration
    from ircli.playbook import plans
    from ircli.playbook.loader import load_playbook

    state = state_of(ctx)
    store = state.store()
    ttl = plans.DEFAULT_APPROVAL_TTL
    started = plans.playbook_run_started(store, run)
    if started is not None:
        source = Path(started.params["playbook"]["source"])
        if source.is_file():
            _needed, ttl = plans.required_approvals(load_playbook(source))
    if expires is not None:
        seconds = parse_duration(expires)
        if seconds is None or seconds <= 0:
            raise InvalidInput(f"--expires {expires!r}: expected a duration such as 30m.")
        ttl = seconds
    record = plans.approve(store, run, now=state.environment.clock(), ttl=ttl)
    params = record.params
    data = {
        "run": run,
        "plan_hash": params["plan_hash"],
        "approver": params["approver"],
        "requester": params["requester"],
        "expires_at": params["expires"],
        "seq": record.seq,
    }
    if state.display.json_mode:
        state.display.json(data)
    else:
        state.display.result(
            f"approved plan {record.params['plan_hash'][:12]} of {run} "
            f"until {record.params['expires']} (audit seq {record.seq})"
        )


def _resume_playbook(
    state: CliState,
    workspace: Workspace,
    run: str,
    *,
    yes: bool,
    allow_changed: bool,
    profile_changed: bool,
    override: str | None,
) -> None:
    from ircli.cli.actions import confirm
    from ircli.cli.asyncrun import run_draining
    from ircli.cli.progress import RunProgress
    from ircli.cli.runbook import show_and_exit
    from ircli.playbook.plans import playbook_run_started
    from ircli.playbook.runner import PlaybookOutcome, resume_playbook

    started = playbook_run_started(workspace.store, run)
    assert started is not None
    name = str(started.params["playbook"]["name"])
    confirm(state, workspace, f"playbook {name}", [], started.incident, yes=yes,
            doing=f"resume playbook run {run} ({name}) from the step it stopped in")  # fmt: skip
    progress = RunProgress(state.display, f"playbook {name}", 0)

    async def main(stop: asyncio.Event) -> PlaybookOutcome:
        async with progress.shown():
            return await resume_playbook(
                workspace,
                run,
                allow_changed=allow_changed,
                profile_changed=profile_changed,
                on_event=progress,
                stop=stop,
                override_protected=override,
            )

    show_and_exit(state, run_draining(main, state.display))


def _is_playbook_run(store: AuditStore, run: str) -> bool:
    from ircli.playbook.plans import playbook_run_started

    return playbook_run_started(store, run) is not None


def _show_playbook_run(state: CliState, run: str) -> None:
    """A playbook run: its steps, plan hash and — for a plan — the approvals it waits for."""
    from pathlib import Path

    from ircli.audit.records import RecordFilter
    from ircli.executor.history import list_playbook_runs
    from ircli.platform.sent import describe, run_requests
    from ircli.playbook import plans
    from ircli.playbook.loader import load_playbook
    from ircli.report.runs import parent_run

    store = state.store()
    records = list(store.records(RecordFilter(run=run)))
    started = next(r for r in records if r.kind == "run.started")
    finished = next((r for r in reversed(records) if r.kind == "run.finished"), None)
    steps = [
        (r.step, r.outcome.get("status"), r.params.get("summary"))
        for r in records
        if r.kind == "step.finished"
    ]
    (listing,) = list_playbook_runs(store, [run])  # status and the step it stopped in
    over = listing.status not in ("running", "crashed")  # not resumed since its finish
    plan_hash = finished.outcome.get("plan_hash") if finished is not None and over else None
    needed = 0
    source = Path(started.params["playbook"]["source"])
    if source.is_file():
        needed, _ttl = plans.required_approvals(load_playbook(source))
    approvers = (
        plans.valid_approvers(
            store, str(plan_hash), requester=started.operator, now=state.environment.clock()
        )
        if plan_hash
        else []
    )
    step_runs = {
        record.run
        for record in store.records(RecordFilter(kinds=("run.started",)))
        if record.run is not None and parent_run(record.run, record.params) == run
    }
    sent = {"playbook": run_requests(records)}
    for step_run in sorted(step_runs):
        kinds = ("run.started", "run.resumed", "run.finished")
        sent[step_run] = run_requests(store.records(RecordFilter(run=step_run, kinds=kinds)))
    data = {
        "run": run,
        "playbook": started.params["playbook"]["name"],
        "dry_run": started.params.get("dry_run"),
        "operator": started.operator,
        "status": listing.status,
        "stopped_in": listing.stopped_in,
        "plan_hash": plan_hash,
        "approvals_needed": needed,
        "approved_by": approvers,
        "steps": [{"id": s, "status": st, "summary": sm} for s, st, sm in steps],
        "http_requests": sent,
    }
    if state.display.json_mode:
        state.display.json(data)
        return
    display = state.display
    display.result(
        f"{run}  playbook {data['playbook']}  {data['status']}"
        + ("  (dry run)" if data["dry_run"] else "")
    )
    if listing.stopped_in is not None:
        display.result(
            f"stopped in step {listing.stopped_in}; continue with: ircli runs resume {run}"
        )
    display.result(f"plan hash {plan_hash}")
    if needed:
        waiting = max(0, needed - len(approvers))
        display.result(
            f"approvals: {len(approvers)}/{needed} valid"
            + (f" ({', '.join(approvers)})" if approvers else "")
            + (f"; waits for {waiting} more" if waiting else "")
        )
    display.table(("step", "status", "summary"), steps)
    display.table(
        ("HTTP requests of", "requests"),
        ((name, describe(counted)) for name, counted in sent.items()),
    )
