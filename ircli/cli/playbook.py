"""``ircli playbook``: validate playbooks, print their JSON Schema, list the shipped ones."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ircli.cli.display import Column
from ircli.cli.helptext import CONTEXT_SETTINGS, example
from ircli.cli.state import CliState, state_of

if TYPE_CHECKING:
    from ircli.platform.model import Profile

__all__ = ["app"]

app = typer.Typer(
    help="Validate incident-response playbooks and list the shipped ones.",
    epilog=example("ircli playbook validate playbooks/*.yaml", "ircli playbook list"),
    rich_markup_mode=None,
    no_args_is_help=True,
    context_settings=CONTEXT_SETTINGS,
)


def profile_to_check(state: CliState, name_or_path: str, cache: dict[str, Profile]) -> Profile:
    """A profile by name or path, read without its environment: to check files against it,
    never to send anything."""
    from ircli.platform.catalog import profile_search_dirs, resolve_profile
    from ircli.platform.loader import load_profile

    if name_or_path not in cache:
        dirs = profile_search_dirs(state.environment.user_config_dir())
        cache[name_or_path] = load_profile(
            resolve_profile(name_or_path, dirs, cwd=state.environment.cwd)
        )
    return cache[name_or_path]


def _playbook_path(state: CliState, name: str) -> Path:
    path = Path(name).expanduser()
    return path if path.is_absolute() else state.environment.cwd / path


@app.command(
    "validate",
    epilog=example(
        "ircli playbook validate playbooks/live-flood-containment.yaml",
        "ircli playbook validate my-playbook.yaml --profile sandbox",
    ),
)
def validate(
    ctx: typer.Context,
    files: Annotated[list[str], typer.Argument(metavar="FILE...", help="Playbook files.")],
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            metavar="NAME|PATH",
            help="Check actions, listings and parameters against this profile "
            "(default: the playbook's own profile setting, when it names one).",
        ),
    ] = None,
) -> None:
    """Check playbooks completely without contacting anything; exit 2 at the first error."""
    from ircli.playbook.loader import load_playbook

    state = state_of(ctx)
    profiles: dict[str, Profile] = {}
    reports: list[dict[str, Any]] = []
    for name in files:
        path = _playbook_path(state, name)
        chosen = profile
        if chosen is None:
            # A first pass without a profile reads the playbook's own ``profile:`` setting.
            chosen = load_playbook(path).profile
        against = profile_to_check(state, chosen, profiles) if chosen else None
        playbook = load_playbook(path, profile=against)
        reports.append(
            {
                "file": name,
                "ok": True,
                "name": playbook.name,
                "steps": len(playbook.steps),
                "profile": against.name if against else None,
            }
        )
        if not state.display.json_mode:
            checked = f", checked against profile {against.name}" if against else ""
            state.display.result(f"{name}: ok ({len(playbook.steps)} steps{checked})")
    if state.display.json_mode:
        state.display.json(reports)


@app.command(
    "schema",
    epilog=example(
        "ircli playbook schema > playbook.schema.json",
        "ircli playbook schema --watch > watch.schema.json",
    ),
)
def schema(
    ctx: typer.Context,
    watch: Annotated[
        bool, typer.Option("--watch", help="The schema of watch files (ircli watch) instead.")
    ] = False,
) -> None:
    """Print the JSON Schema (draft 2020-12) of the playbook format, for editors."""
    if watch:
        from ircli.watch.model import watch_schema

        state_of(ctx).display.json(watch_schema())
        return
    from ircli.playbook.model import playbook_schema

    state_of(ctx).display.json(playbook_schema())


@app.command("list", epilog=example("ircli playbook list", "ircli --json playbook list"))
def list_playbooks(ctx: typer.Context) -> None:
    """List the playbooks shipped with ircli, with their descriptions."""
    from ircli.playbook.catalog import available_playbooks

    state = state_of(ctx)
    entries = available_playbooks()
    if state.display.json_mode:
        state.display.json(
            [
                {
                    "name": e.name,
                    "path": str(e.path),
                    "steps": e.steps,
                    "description": e.description,
                    "error": e.error,
                }
                for e in entries
            ]
        )
        return
    state.display.table(
        ("name", Column("steps", drop=1), Column("path", drop=2), "description"),
        (
            (
                e.name,
                e.steps,
                e.path,
                f"invalid: {e.error}" if e.error else " ".join(e.description.split()),
            )
            for e in entries
        ),
    )
