"""The root Typer application: global options and the command groups."""

from __future__ import annotations

import importlib
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from ircli import __version__
from ircli.cli.helptext import CONTEXT_SETTINGS, example
from ircli.cli.state import state_of

__all__ = ["app"]

GROUPS: dict[str, tuple[str, str]] = {
    "incident": ("ircli.cli.incident", "app"),
    "streams": ("ircli.cli.actions", "streams"),
    "accounts": ("ircli.cli.actions", "accounts"),
    "sessions": ("ircli.cli.actions", "sessions"),
    "domains": ("ircli.cli.actions", "domains"),
    "flags": ("ircli.cli.actions", "flags"),
    "runs": ("ircli.cli.runs", "app"),
    "timeline": ("ircli.cli.timeline", "app"),
    "audit": ("ircli.cli.audit", "app"),
    "store": ("ircli.cli.store", "app"),
    "sandbox": ("ircli.cli.sandbox", "app"),
    "profile": ("ircli.cli.profile", "app"),
    "playbook": ("ircli.cli.playbook", "app"),
    "dsa": ("ircli.cli.dsa", "app"),
}
"""Command groups: name → (module, its Typer app)."""
COMMANDS: dict[str, tuple[str, str]] = {
    "report": ("ircli.cli.report", "report"),
    "run": ("ircli.cli.runbook", "run"),
    "drill": ("ircli.cli.drill", "drill"),
    "watch": ("ircli.cli.watch", "watch"),
}
"""Top-level commands: name → (module, its function; the module's ``EPILOG`` is its epilog)."""


class LazyGroup(TyperGroup):
    """The root group: a command's module is imported, and its click command built, only when
    that command runs (or ``--help`` lists them all). Building every command up front took
    about a tenth of a second of each invocation."""

    # Contexts and commands are click's (vendored by recent Typers as typer._click).

    def list_commands(self, ctx: Any) -> list[str]:
        return [*COMMANDS, *GROUPS]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in (*COMMANDS, *GROUPS):
            self.add_command(_build(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)


def _build(name: str) -> Any:
    import typer.main

    if name in GROUPS:
        module, attribute = GROUPS[name]
        group = getattr(importlib.import_module(module), attribute)
        command: Any = typer.main.get_group(group)  # a group even of one command
    else:
        module, attribute = COMMANDS[name]
        loaded = importlib.import_module(module)
        single = typer.Typer(
            rich_markup_mode=None, add_completion=False, context_settings=CONTEXT_SETTINGS
        )
        single.command(name, epilog=loaded.EPILOG)(getattr(loaded, attribute))
        command = typer.main.get_command(single)
    command.name = name
    return command


app = typer.Typer(
    name="ircli",
    help="Incident response at machine speed, with a tamper-evident audit trail.",
    epilog=example("ircli incident open 'Live-stream flood' --severity P1"),
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    add_completion=False,
    context_settings=CONTEXT_SETTINGS,
    cls=LazyGroup,
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
