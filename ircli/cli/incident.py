"""``ircli incident``: open incidents and move them through their lifecycle."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ircli.cli.display import Column, short_time
from ircli.cli.helptext import CONTEXT_SETTINGS, example
from ircli.cli.options import parse_optional_time
from ircli.cli.state import CliState, state_of

if TYPE_CHECKING:
    from ircli.incident.model import Incident
    from ircli.incident.service import IncidentService

__all__ = ["app", "chosen_incident", "current_incident", "service"]

CURRENT_ENV = "IRCLI_INCIDENT"
_SETTLED = ("resolved", "closed")

app = typer.Typer(
    help="Open incidents, change their status, and show them.",
    epilog=example("ircli incident open 'Bot live-stream flood' -s P1", "ircli incident list"),
    rich_markup_mode=None,
    no_args_is_help=True,
    context_settings=CONTEXT_SETTINGS,
)


def service(state: CliState, *, write: bool = False) -> IncidentService:
    """The incident service over the invocation's audit store (``write``: create it)."""
    from ircli.incident.service import IncidentService

    return IncidentService(state.store(create=write))


def current_incident(state: CliState, given: str | None, *, warn: bool = True) -> str | None:
    """The incident an action or note is for: ``--incident``, else ``IRCLI_INCIDENT``, else
    the one ``ircli incident use`` chose for this store. With none, and ``warn``, an open
    incident in the store gets a warning: the run would be missing from its report."""
    if given:
        return given
    chosen, source = chosen_incident(state)
    if chosen:
        state.display.info(f"on incident {chosen} ({source})")
        return chosen
    if warn:
        unsettled = [i.id for i in service(state, write=True).list() if i.status not in _SETTLED]
        if unsettled:
            shown = ", ".join(unsettled[:3]) + (" …" if len(unsettled) > 3 else "")
            state.display.warning(
                f"incident {shown} is open, but this run is on no incident and will be missing "
                f"from its report; name one with --incident, {CURRENT_ENV} or "
                "'ircli incident use INC'."
            )
    return None


def chosen_incident(state: CliState) -> tuple[str | None, str]:
    """The incident chosen without ``--incident``, and by what (env or 'incident use')."""
    from ircli.incident.current import read_current

    value = state.environment.env.get(CURRENT_ENV)
    if value is not None:
        if not value.strip():
            from ircli.errors import InvalidInput

            raise InvalidInput(f"{CURRENT_ENV} is set but empty; name an incident or unset it.")
        return value.strip(), f"from {CURRENT_ENV}"
    return read_current(state.environment.user_data_dir(), state.store_key()), "incident use"


@app.command(
    "use",
    epilog=example(
        "ircli incident use INC-20261128-7QK2", "ircli incident use", "ircli incident use --clear"
    ),
)
def use_incident(
    ctx: typer.Context,
    incident_id: Annotated[
        str | None, typer.Argument(metavar="[ID]", help="The incident (none: show the current).")
    ] = None,
    clear: Annotated[
        bool, typer.Option("--clear", help="Forget the current incident of this store.")
    ] = False,
) -> None:
    """Choose the incident that actions, playbook runs and notes go on when they name none.

    The choice is per audit store and per user; IRCLI_INCIDENT and --incident override it.
    """
    from ircli.incident.current import write_current

    state = state_of(ctx)
    data_dir = state.environment.user_data_dir()
    if incident_id is not None and clear:
        from ircli.errors import InvalidInput

        raise InvalidInput("give an incident id or --clear, not both.")
    if incident_id is not None:
        incident = service(state).get(incident_id)  # refuses an unknown id, naming the store
        write_current(data_dir, state.store_key(), incident.id)
        if incident.status in _SETTLED:
            state.display.warning(f"{incident.id} is {incident.status}.")
    elif clear:
        write_current(data_dir, state.store_key(), None)
    chosen, source = chosen_incident(state)
    if state.display.json_mode:
        state.display.json({"incident": chosen, "source": source if chosen else None,
                            "store": state.store_key()})  # fmt: skip
    elif chosen:
        state.display.result(f"current incident: {chosen} ({source})")
    else:
        state.display.result("no current incident")


@app.command(
    "open",
    epilog=example("ircli incident open 'Bot live-stream flood' --severity P1 --commander dana"),
)
def open_incident(
    ctx: typer.Context,
    title: Annotated[
        str, typer.Argument(metavar="TITLE", help="A short description of what is happening.")
    ],
    severity: Annotated[
        str, typer.Option("--severity", "-s", metavar="P0..P4", help="Severity, P0 worst.")
    ],
    commander: Annotated[
        str | None, typer.Option("--commander", metavar="NAME", help="Incident commander.")
    ] = None,
    started_at: Annotated[
        str | None,
        typer.Option("--started-at", metavar="TIME", help="When the impact started (ISO-8601)."),
    ] = None,
    detected_at: Annotated[
        str | None,
        typer.Option("--detected-at", metavar="TIME", help="When it was detected (default: now)."),
    ] = None,
) -> None:
    """Open an incident; prints its id."""
    state = state_of(ctx)
    now = state.environment.clock()
    incident = service(state, write=True).open(
        title,
        severity=severity,
        commander=commander,
        started_at=parse_optional_time(started_at, now, "--started-at"),
        detected_at=parse_optional_time(detected_at, now, "--detected-at"),
    )
    if state.display.json_mode:
        state.display.json(incident.as_dict())
    else:
        state.display.result(incident.id)


@app.command("list", epilog=example("ircli incident list", "ircli --json incident list"))
def list_incidents(ctx: typer.Context) -> None:
    """List incidents, newest first."""
    state = state_of(ctx)
    incidents = service(state).list()
    if state.display.json_mode:
        state.display.json([_summary(incident) for incident in incidents])
        return
    state.display.table(
        ("id", "severity", "status", Column("opened", drop=1), Column("commander", drop=2),
         "title"),
        ((i.id, i.severity, i.status, short_time(i.opened_at), i.commander or "", i.title)
         for i in incidents),
    )  # fmt: skip


@app.command("show", epilog=example("ircli incident show INC-20261128-7QK2"))
def show_incident(
    ctx: typer.Context,
    incident_id: Annotated[str, typer.Argument(metavar="ID", help="The incident id.")],
) -> None:
    """Show an incident: status, milestones, metrics and timeline."""
    state = state_of(ctx)
    incident = service(state).get(incident_id)
    if state.display.json_mode:
        state.display.json(incident.as_dict())
        return
    display = state.display
    display.result(f"{incident.id}  {incident.severity}  {incident.status}  {incident.title}")
    display.result(f"commander: {incident.commander or '-'}   opened by: {incident.opened_by}")
    metrics = incident.metrics()
    display.table(
        ("milestone", "at"),
        ((name, short_time(incident.milestones.get(name)) or "-") for name in _milestone_names()),
    )
    display.table(
        ("metric", "value"),
        (
            (name.removesuffix("_seconds").replace("_", " "), _duration(value))
            for name, value in metrics.items()
        ),
    )
    print_timeline(state, incident)


@app.command(
    "status",
    epilog=example(
        "ircli incident status INC-20261128-7QK2 mitigated",
        "ircli incident status INC-20261128-7QK2 acknowledged --at 2026-11-28T22:04:00Z",
    ),
)
def set_status(
    ctx: typer.Context,
    incident_id: Annotated[str, typer.Argument(metavar="ID", help="The incident id.")],
    status: Annotated[
        str,
        typer.Argument(
            metavar="STATUS",
            help="detected, acknowledged, investigating, mitigating, mitigated, resolved, closed.",
        ),
    ],
    at: Annotated[
        str | None,
        typer.Option(
            "--at", metavar="TIME", help="When it happened, for backfilling (default: now)."
        ),
    ] = None,
) -> None:
    """Move an incident to a new status, stamping the matching milestone."""
    state = state_of(ctx)
    moment = parse_optional_time(at, state.environment.clock(), "--at")
    incident = service(state, write=True).set_status(incident_id, status, at=moment)
    if state.display.json_mode:
        state.display.json(incident.as_dict())
    else:
        state.display.result(f"{incident.id} is now {incident.status}")


def print_timeline(state: CliState, incident: Incident) -> None:
    state.display.table(
        ("at", Column("kind", drop=2), Column("operator", drop=1), "message"),
        ((short_time(e.at), e.kind, e.operator, e.message) for e in incident.timeline),
        title="Timeline",
    )


def _summary(incident: Incident) -> dict[str, object]:
    data = incident.as_dict()
    data.pop("timeline")
    return data


def _milestone_names() -> tuple[str, ...]:
    from ircli.incident.lifecycle import MILESTONES

    return MILESTONES


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"
