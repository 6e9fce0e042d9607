"""The root Typer application: global options and the command groups."""

from __future__ import annotations

from typing import Annotated

import typer

from ircli import __version__
from ircli.cli import (
    actions,
    audit,
    incident,
    playbook,
    profile,
    report,
    runbook,
    runs,
    sandbox,
    store,
    timeline,
)
from ircli.cli import drill as drill_command
from ircli.cli.helptext import CONTEXT_SETTINGS, example
from ircli.cli.state import state_of

__all__ = ["app"]


app = typer.Typer(
    name="ircli",
    help="Incident response at machine speed, with a tamper-evident audit trail.",
    epilog=example("ircli incident open 'Live-stream flood' --severity P1"),
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    add_completion=False,
    context_settings=CONTEXT_SETTINGS,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ircli {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option("--db", metavar="URL|PATH", help="Audit store (env IRCLI_DB)."),
    ] = None,
    operator: Annotated[
        str | None,
        typer.Option("--operator", metavar="NAME", help="Who is acting (env IRCLI_OPERATOR)."),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Machine-readable output on stdout.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Incident response at machine speed, with a tamper-evident audit trail."""
    state = state_of(ctx)
    state.debug = debug
    state.display.json_mode = json_output
    state.flags = {"db": db, "operator": operator}


app.add_typer(incident.app, name="incident")
app.add_typer(actions.streams, name="streams")
app.add_typer(actions.accounts, name="accounts")
app.add_typer(actions.sessions, name="sessions")
app.add_typer(actions.domains, name="domains")
app.add_typer(actions.flags, name="flags")
app.add_typer(runs.app, name="runs")
app.add_typer(timeline.app, name="timeline")
app.add_typer(audit.app, name="audit")
app.add_typer(store.app, name="store")
app.add_typer(sandbox.app, name="sandbox")
app.add_typer(profile.app, name="profile")
app.add_typer(playbook.app, name="playbook")
app.command("report", epilog=report.EPILOG)(report.report)
app.command("run", epilog=runbook.EPILOG)(runbook.run)
app.command("drill", epilog=drill_command.EPILOG)(drill_command.drill)
