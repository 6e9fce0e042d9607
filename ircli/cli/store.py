"""``ircli store``: which audit store a command would use, and what it holds."""

from __future__ import annotations

import typer

from ircli.cli.helptext import CONTEXT_SETTINGS, example
from ircli.cli.state import CliState, state_of
from ircli.errors import OperationFailed

__all__ = ["app"]

app = typer.Typer(
    help="Show the audit store in use.",
    epilog=example("ircli store info", "ircli --db /srv/ircli/audit.db store info"),
    rich_markup_mode=None,
    no_args_is_help=True,
    context_settings=CONTEXT_SETTINGS,
)


@app.command("info", epilog=example("ircli store info", "ircli --json store info"))
def info(ctx: typer.Context) -> None:
    """Show the store in use, where that choice came from, where a server's password
    comes from, its backend and its head.

    Exits 2 when there is no store there (nothing is created), 1 when its server cannot be
    reached or refuses the password (after showing what it can).
    """
    from ircli.audit.chain import GENESIS_HASH
    from ircli.audit.store import StoreMissing
    from ircli.cli.incident import chosen_incident, service

    state = state_of(ctx)
    settings = state.settings
    facts: dict[str, object] = {
        "store": state.store_key(),
        "chosen_by": settings.sources["db"],
        "operator": settings.operator,
    }
    password = state.password_source(settings.db)
    if password is not None:
        facts["password_source"] = password.source
    try:
        store = state.store()
    except StoreMissing:
        _show(state, {**facts, "exists": False})
        raise
    except OperationFailed:  # a server that cannot be reached or refuses the password
        _show(state, facts)
        raise
    head = store.head()
    incidents = service(state).list()
    facts |= {
        "exists": True,
        "backend": store.backend,
        "schema_revision": store.revision(),
        "records": store.count(),
        "head": f"{head.seq}:{head.hash}" if head else f"0:{GENESIS_HASH}",
        "incidents": len(incidents),
        "open_incidents": [i.id for i in incidents if i.status not in ("resolved", "closed")],
        "current_incident": chosen_incident(state)[0],
    }
    _show(state, facts)


def _show(state: CliState, facts: dict[str, object]) -> None:
    if state.display.json_mode:
        state.display.json(facts)
        return
    for key, value in facts.items():
        shown = ", ".join(value) if isinstance(value, list) else value
        if isinstance(value, bool):
            shown = "yes" if value else "no"
        state.display.result(f"{key.replace('_', ' ')}: {'-' if shown in (None, '') else shown}")
