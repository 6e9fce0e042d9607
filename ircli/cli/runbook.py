"""``ircli run PLAYBOOK``: run (or plan) a playbook through the normal executor."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ircli.cli.display import Column
from ircli.cli.helptext import example
from ircli.cli.options import OverrideProtected, SkipPreflight, check_override, parse_pairs
from ircli.cli.state import CliState, state_of
from ircli.errors import ExitCode, GuardRefused, InvalidInput

if TYPE_CHECKING:
    from ircli.playbook.runner import PlaybookOutcome

__all__ = ["EPILOG", "run"]

EPILOG = example(
    "ircli run live-flood-containment --incident INC-20261128-7QK2 --dry-run",
    "ircli run playbooks/live-restore.yaml --input stages=1,10,50,100 --yes",
)


def run(
    ctx: typer.Context,
    playbook: Annotated[
        str, typer.Argument(metavar="PLAYBOOK", help="A playbook file, or a shipped name.")
    ],
    inputs: Annotated[
        list[str] | None,
        typer.Option("--input", "-i", metavar="NAME=VALUE", help="A playbook input (repeatable)."),
    ] = None,
    profile: Annotated[
        str | None, typer.Option("--profile", metavar="NAME|PATH", help="Platform profile.")
    ] = None,
    incident: Annotated[
        str | None, typer.Option("--incident", metavar="ID", help="The incident it acts for.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Resolve every query and target; send no change.")
    ] = False,
    plan_out: Annotated[
        Path | None, typer.Option("--plan-out", metavar="FILE", help="Save the dry-run plan.")
    ] = None,
    plan: Annotated[
        Path | None,
        typer.Option("--plan", metavar="FILE", help="Apply exactly this saved, approved plan."),
    ] = None,
    max_drift: Annotated[
        float,
        typer.Option(
            "--max-drift", min=0.0, max=1.0, help="Refuse a plan whose targets changed more."
        ),
    ] = 0.1,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    skip_preflight: SkipPreflight = False,
    override_protected: OverrideProtected = False,
    reason: Annotated[
        str | None,
        typer.Option("--reason", help="Why protected accounts may be acted on (recorded)."),
    ] = None,
) -> None:
    """Run a playbook: queries, actions, notes, waits — every action audited and resumable."""
    from ircli.cli.incident import current_incident
    from ircli.cli.progress import RunProgress
    from ircli.playbook.runner import open_playbook

    state = state_of(ctx)
    override = check_override(override_protected, reason)
    if reason is not None and override is None:
        raise InvalidInput("--reason goes with --override-protected; a playbook's own reason "
                           "is its input (--input reason=…).")  # fmt: skip
    workspace = state.workspace(preflight=not skip_preflight)
    incident = current_incident(state, incident)
    book = open_playbook(workspace, playbook, profile or state.settings.profile)
    given = parse_pairs(inputs or [], "--input")
    if plan_out is not None and not dry_run:
        raise InvalidInput("--plan-out saves a dry run's plan; add --dry-run.")
    saved = None
    if plan is not None:
        from ircli.playbook.plans import read_plan

        if dry_run or inputs:
            raise InvalidInput(
                "--plan applies a saved plan with its own inputs; drop --dry-run/--input."
            )
        saved = read_plan(plan)
    if not dry_run and not yes and saved is None:
        if not state.environment.interactive():
            raise GuardRefused(
                f"running playbook {book.name!r} needs confirmation; nothing was sent.",
                hint="Look first with --dry-run, then pass --yes.",
            )
        planned = _execute(
            state, book, given, profile, incident, dry_run=True, override_protected=override
        )
        _show(state, planned)
        state.display.err.print("run it now? [y/N] ", end="", markup=False)
        if state.environment.stdin.readline().strip().lower() not in ("y", "yes"):
            raise GuardRefused("not confirmed; nothing was sent.")
    progress = RunProgress(state.display, f"playbook {book.name}", 0)
    outcome = _execute(
        state,
        book,
        given,
        profile,
        incident,
        dry_run=dry_run,
        on_event=progress,
        plan=saved,
        max_drift=max_drift,
        override_protected=override,
    )
    if plan_out is not None:
        from ircli.cli.audit import write_private

        write_private(plan_out, [_plan_json(outcome)])
        state.display.info(f"wrote the plan to {plan_out}")
    show_and_exit(state, outcome)


def show_and_exit(state: CliState, outcome: PlaybookOutcome) -> None:
    """Show a playbook run's outcome and leave with the exit code its status calls for."""
    from ircli.playbook.runner import OVER

    _show(state, outcome)
    if outcome.status not in OVER and not outcome.dry_run:  # what runs resume reopens
        state.display.warning(
            f"playbook run {outcome.run} is {outcome.status}; continue it with: "
            f"ircli runs resume {outcome.run}"
        )
    codes = {
        "completed": ExitCode.OK,
        "refused": ExitCode.REFUSED,
        "interrupted": ExitCode.INTERRUPTED,
    }
    code = codes.get(outcome.status, ExitCode.FAILED)
    if outcome.invalid_input:
        code = ExitCode.INVALID_INPUT
    if code:
        raise typer.Exit(code)


def _execute(
    state: CliState,
    book: Any,
    given: dict[str, str],
    profile: str | None,
    incident: str | None,
    *,
    dry_run: bool,
    on_event: Any = None,
    plan: Any = None,
    max_drift: float = 0.1,
    override_protected: str | None = None,
) -> PlaybookOutcome:
    from ircli.cli.asyncrun import run_draining
    from ircli.playbook.runner import run_playbook

    workspace = state.workspace()
    if override_protected is not None and not dry_run:
        from ircli.cli.actions import warn_override

        warn_override(state)

    async def main(stop: Any) -> PlaybookOutcome:
        return await run_playbook(
            workspace,
            book,
            inputs=given,
            profile_ref=profile or state.settings.profile,
            incident=incident,
            dry_run=dry_run,
            stop=stop,
            plan=plan,
            max_drift=max_drift,
            override_protected=override_protected,
            **({"on_event": on_event} if on_event else {}),
        )

    return run_draining(main, state.display)


def outcome_data(outcome: PlaybookOutcome) -> dict[str, Any]:
    """The JSON form of a playbook run."""
    return {
        "run": outcome.run,
        "status": outcome.status,
        "status_reason": outcome.reason,
        "dry_run": outcome.dry_run,
        "plan_hash": outcome.plan_hash,
        "steps": [
            {
                "id": s.id,
                "kind": s.kind,
                "status": s.status,
                "summary": s.summary,
                "targets": s.targets,
                "sample": s.sample,
                "estimate_seconds": s.estimate_seconds,
                "at_run_time": s.at_run_time,
            }
            for s in outcome.steps
        ],
        "audit_head": None
        if outcome.head is None
        else {"seq": outcome.head.seq, "hash": outcome.head.hash},
    }


def _seconds(estimate: float | None) -> str:
    if estimate is None:
        return ""
    if 0 < estimate < 0.1:
        return "<0.1s"
    return f"{estimate:.1f}s" if estimate < 120 else f"{estimate / 60:.1f}min"


def _plan_json(outcome: PlaybookOutcome) -> str:
    import json

    return json.dumps(outcome.saved_plan(), indent=2) + "\n"


def _show(state: CliState, outcome: PlaybookOutcome) -> None:
    display = state.display
    data = outcome_data(outcome)
    if display.json_mode:
        display.json(data)
        return
    display.table(
        (
            "step",
            Column("kind", drop=2),
            "status",
            "targets",
            Column("estimate", drop=1),
            Column("sample", drop=3),
            "summary",
        ),
        (
            (
                s["id"],
                s["kind"],
                s["status"],
                (f"≤{s['targets']:,}" if s["at_run_time"] else f"{s['targets']:,}")
                if s["targets"]
                else "",
                _seconds(s["estimate_seconds"]),
                ", ".join(s["sample"][:3]) + (" …" if len(s["sample"]) > 3 else ""),
                s["summary"],
            )
            for s in data["steps"]
        ),
        title=f"{'Plan' if outcome.dry_run else 'Run'} {outcome.run}: {outcome.status}",
    )
    display.result(f"plan hash {outcome.plan_hash}")
    if outcome.head is not None:
        display.result(f"audit head {outcome.head.seq}:{outcome.head.hash}")
    if outcome.reason:
        display.warning(outcome.reason)
