"""``ircli timeline``: notes on an incident's timeline."""

from __future__ import annotations

from typing import Annotated

import typer

from ircli.cli.helptext import CONTEXT_SETTINGS, example
from ircli.cli.incident import current_incident, print_timeline, service
from ircli.cli.options import parse_optional_time
from ircli.cli.state import state_of
from ircli.errors import InvalidInput

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
        "ircli timeline add 'Comms sent to creators' --kind communication   # after 'incident use'",
    ),
)
def add_note(
    ctx: typer.Context,
    first: Annotated[
        str,
        typer.Argument(
            metavar="[ID] MESSAGE",
            help="The incident id, then the note; the id may be left out after "
            "'ircli incident use' or with IRCLI_INCIDENT.",
        ),
    ],
    second: Annotated[str | None, typer.Argument(hidden=True)] = None,
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
    if second is None:
        message, incident_id = first, current_incident(state, None, warn=False)
        if incident_id is None:
            raise InvalidInput(
                "name the incident: 'ircli timeline add INC MESSAGE'.",
                hint="Or choose one for every note and action with 'ircli incident use INC'.",
            )
    else:
        incident_id, message = first, second
    moment = parse_optional_time(at, state.environment.clock(), "--at")
    record = service(state, write=True).add_note(incident_id, message, kind=kind, at=moment)
    if state.display.json_mode:
        state.display.json(
            {"incident": incident_id, "seq": record.seq, "hash": record.hash,
             "at": record.params["at"]}
        )  # fmt: skip
    else:
        state.display.result(f"noted on {incident_id} (audit seq {record.seq})")


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
