"""``ircli timeline``: notes on an incident's timeline."""

from __future__ import annotations

from typing import Annotated

import typer

from ircli.cli.helptext import CONTEXT_SETTINGS, example
from ircli.cli.incident import print_timeline, service
from ircli.cli.options import parse_optional_time
from ircli.cli.state import state_of

__all__ = ["app"]

app = typer.Typer(
    help="Add notes to an incident's timeline and show it.",
    epilog=example("ircli timeline add INC-20261128-7QK2 'Kill switch at 0%' --kind decision"),
    rich_markup_mode=None,
    no_args_is_help=True,
    context_settings=CONTEXT_SETTINGS,
)


@app.command(
    "add",
    epilog=example(
        "ircli timeline add INC-20261128-7QK2 'Kill switch at 0%' --kind decision",
        "ircli timeline add INC-20261128-7QK2 'First user reports' --kind detection "
        "--at 2026-11-28T22:01:00Z",
    ),
)
def add_note(
    ctx: typer.Context,
    incident_id: Annotated[str, typer.Argument(metavar="ID", help="The incident id.")],
    message: Annotated[
        str, typer.Argument(metavar="MESSAGE", help="What happened or was decided.")
    ],
    kind: Annotated[
        str,
        typer.Option(
            "--kind",
            "-k",
            help="detection, decision, action, communication, recovery or note.",
        ),
    ] = "note",
    at: Annotated[
        str | None,
        typer.Option("--at", metavar="TIME", help="When it happened, for backfilling."),
    ] = None,
) -> None:
    """Add a note to an incident's timeline."""
    state = state_of(ctx)
    moment = parse_optional_time(at, state.environment.clock(), "--at")
    record = service(state).add_note(incident_id, message, kind=kind, at=moment)
    if state.display.json_mode:
        state.display.json({"seq": record.seq, "hash": record.hash, "at": record.params["at"]})
    else:
        state.display.result(f"noted (audit seq {record.seq})")


@app.command("show", epilog=example("ircli timeline show INC-20261128-7QK2"))
def show(
    ctx: typer.Context,
    incident_id: Annotated[str, typer.Argument(metavar="ID", help="The incident id.")],
) -> None:
    """Show an incident's timeline in time order."""
    state = state_of(ctx)
    incident = service(state).get(incident_id)
    if state.display.json_mode:
        state.display.json([entry.__dict__ for entry in incident.timeline])
    else:
        print_timeline(state, incident)
