"""``ircli dsa``: EU DSA statements of reasons, sent to the Transparency Database."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ircli.cli.display import Display
from ircli.cli.helptext import CONTEXT_SETTINGS, example
from ircli.cli.state import state_of
from ircli.errors import ExitCode

if TYPE_CHECKING:
    import asyncio

    from ircli.executor.dsa import SubmissionReport

__all__ = ["app"]

app = typer.Typer(
    help="Send EU DSA statements of reasons to the Transparency Database.",
    epilog=example("ircli dsa submit statements.jsonl --profile dsa-tdb"),
    rich_markup_mode=None,
    no_args_is_help=True,
    context_settings=CONTEXT_SETTINGS,
)


@app.command(
    "submit",
    epilog=example(
        "ircli dsa submit statements.jsonl --profile dsa-tdb --dry-run",
        "ircli dsa submit statements.jsonl --profile dsa-tdb --incident INC-20261128-7QK2",
    ),
)
def submit(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="JSON Lines of statements (report -f dsa).")
    ],
    profile: Annotated[
        str,
        typer.Option(
            "--profile",
            metavar="NAME|PATH",
            help="The profile of the database's API: its base URL, token, TLS.",
        ),
    ],
    incident: Annotated[
        str | None,
        typer.Option("--incident", metavar="ID", help="Put the submission on this incident."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check the file and count the calls; send nothing.")
    ] = False,
) -> None:
    """Send FILE's statements, at most 100 a call, to the profile's /api/v1/statements.

    Every line is checked against the database's rules first (exit 2, nothing sent). Each
    call is an audit record. A call refused for statements the database already holds is
    sent again without them; statements an earlier submission to the same URL saw accepted
    or held are not sent again. Exit 1 when a statement was refused or a call got no answer.
    """
    from ircli.dsarules import MAX_BATCH
    from ircli.executor.dsa import read_statements, submit_statements
    from ircli.executor.service import load_platform

    state = state_of(ctx)
    env = state.environment
    statements = read_statements(file if file.is_absolute() else env.cwd / file)
    count = len(statements.statements)
    if dry_run:
        calls = -(-count // MAX_BATCH)
        if state.display.json_mode:
            state.display.json({"statements": count, "calls": calls, "sent": False})
        else:
            state.display.result(f"{file}: {count} valid statements, {calls} call(s); not sent")
        return
    workspace = state.workspace()
    if incident is not None:
        from ircli.incident.service import IncidentService

        IncidentService(workspace.store).get(incident)  # refuses an unknown incident
    loaded = load_platform(workspace, profile)

    async def main(_stop: asyncio.Event) -> SubmissionReport:
        return await submit_statements(workspace, loaded, statements, incident=incident)

    from ircli.cli.asyncrun import run_draining

    report = run_draining(main, state.display)
    _show(state.display, report)
    if not report.ok:
        raise typer.Exit(ExitCode.FAILED)


def _show(display: Display, report: SubmissionReport) -> None:
    if display.json_mode:
        display.json(
            {
                "statements": report.total,
                "skipped": report.skipped,
                "accepted": report.accepted,
                "held": report.held,
                "ok": report.ok,
                "batches": [
                    {
                        "batch": b.number,
                        "statements": b.count,
                        "status": b.status,
                        "held": len(b.held),
                        "error": b.error,
                    }
                    for b in report.batches
                ],
            }
        )
        return
    if report.batches:
        display.table(
            ("batch", "statements", "answer"),
            [
                (str(b.number), str(b.count), "201 Created" if b.accepted else b.error or "-")
                for b in report.batches
            ],
            title="DSA Transparency Database",
        )
    unsent = report.total - report.skipped - report.sent
    held = f"; {report.held} were already in the database" if report.held else ""
    skipped = f"; {report.skipped} in the database before, not sent again" if report.skipped else ""
    left = f"; {unsent} not sent" if unsent else ""
    display.result(
        f"{report.accepted} of {report.sent} statements sent were accepted{held}{skipped}{left}",
        style="bold green" if report.ok else "bold red",
    )
