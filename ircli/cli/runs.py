"""``ircli runs``: list, show and resume runs from the audit store."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ircli.cli.helptext import CONTEXT_SETTINGS, example
from ircli.cli.state import state_of

__all__ = ["app"]

app = typer.Typer(
    help="List, inspect and resume runs (every run is rebuilt from the audit store).",
    epilog=example("ircli runs list", "ircli runs resume RUN-20261128-7QK2AB"),
    rich_markup_mode=None,
    no_args_is_help=True,
    context_settings=CONTEXT_SETTINGS,
)

RunId = Annotated[str, typer.Argument(metavar="RUN", help="The run id.")]


def _summary(state: Any) -> dict[str, Any]:
    spec = state.spec
    return {
        "run": spec.run,
        "action": spec.action,
        "status": state.status,
        "operator": state.operator,
        "started": state.started_at,
        "incident": spec.incident,
        "profile": spec.profile,
        "targets": len(spec.targets),
        "counts": state.counts(),
    }


@app.command("list", epilog=example("ircli runs list", "ircli --json runs list"))
def list_runs(ctx: typer.Context) -> None:
    """List runs, newest first."""
    from ircli.executor.service import list_runs as runs

    state = state_of(ctx)
    summaries = [_summary(run) for run in runs(state.store())]
    if state.display.json_mode:
        state.display.json(summaries)
        return
    state.display.table(
        ("run", "started", "operator", "action", "status", "targets", "done", "failed",
         "unresolved", "incident"),
        (
            (s["run"], s["started"], s["operator"], s["action"], s["status"], s["targets"],
             s["counts"]["done"] + s["counts"]["already_done"], s["counts"]["failed"],
             s["counts"]["retryable"] + s["counts"]["unknown"] + s["counts"]["untouched"],
             s["incident"] or "")
            for s in summaries
        ),
    )  # fmt: skip


@app.command("show", epilog=example("ircli runs show RUN-20261128-7QK2AB"))
def show(ctx: typer.Context, run: RunId) -> None:
    """Show a run: its action, parameters, status and per-outcome counts."""
    from ircli.executor.journal import load_run

    state = state_of(ctx)
    run_state = load_run(state.store(), run)
    data = _summary(run_state)
    data["params"] = dict(run_state.spec.params)
    data["reason"] = run_state.spec.reason
    failures = [r.as_json() for r in run_state.results.values() if not r.outcome.succeeded]
    data["failures"] = failures[:50]
    if state.display.json_mode:
        state.display.json(data)
        return
    display = state.display
    display.result(f"{data['run']}  {data['action']}  {data['status']}")
    display.result(
        f"started {data['started']} by {data['operator']}; profile {data['profile']}; "
        f"incident {data['incident'] or '-'}; reason: {data['reason'] or '-'}"
    )
    display.table(("outcome", "targets"), sorted(data["counts"].items()))
    if failures:
        display.table(
            ("target", "outcome", "status", "attempts", "error"),
            ((f["target"], f["outcome"], f["status"], f["attempts"], f["error"] or "")
             for f in failures[:50]),
            title="Not done (first 50)",
        )  # fmt: skip


@app.command("resume", epilog=example("ircli runs resume RUN-20261128-7QK2AB"))
def resume(ctx: typer.Context, run: RunId) -> None:
    """Continue an interrupted or crashed run; targets known done are never resent."""
    from ircli.cli.actions import finish
    from ircli.cli.asyncrun import run_draining
    from ircli.cli.progress import RunProgress, outcome_json, print_outcome
    from ircli.executor import service
    from ircli.executor.journal import load_run

    state = state_of(ctx)
    display = state.display
    workspace = state.workspace()
    before = load_run(workspace.store, run)
    remaining = len(before.spec.targets) - len(before.settled())
    display.info(f"resuming {run}: {remaining:,} of {len(before.spec.targets):,} targets left")
    progress = RunProgress(display, before.spec.action, remaining)

    async def main(stop: Any) -> service.RunOutcome:
        async with progress.shown():
            return await service.resume_run(workspace, run, on_event=progress, stop=stop)

    outcome = run_draining(main, display)
    finish(state, outcome_json(outcome), lambda: print_outcome(display, outcome))
