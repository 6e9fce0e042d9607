"""Ad-hoc actions for the on-call engineer: each a one-step run, audited and resumable.

``ircli streams suspend``, ``accounts freeze|unfreeze|reset-password``, ``sessions revoke``,
``domains block``, ``flags set`` … all go through ``run_action``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlencode

import typer

from ircli.cli.helptext import CONTEXT_SETTINGS, example
from ircli.cli.options import (
    MaxPause,
    OverrideProtected,
    SkipPreflight,
    check_override,
    parse_pairs,
)
from ircli.cli.state import CliState, state_of
from ircli.errors import ExitCode, GuardRefused, InvalidInput

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Sequence

    from ircli.executor.expiry import ExpiryRequest
    from ircli.executor.service import ActionPlan, LoadedProfile, RunOutcome, Workspace
    from ircli.platform.listing import Skipped
    from ircli.platform.model import ActionSpec
    from ircli.platform.protected import ProtectedSet

__all__ = ["accounts", "confirm", "domains", "flags", "run_action", "sessions", "streams"]

Ids = Annotated[
    list[str] | None, typer.Option("--id", metavar="ID", help="A target id (repeatable).")
]
IdsFile = Annotated[
    Path | None,
    typer.Option("--ids-file", metavar="FILE", help="Ids, one per line, or a CSV/JSONL column."),
]
Column = Annotated[
    str | None, typer.Option("--column", help="The CSV/JSONL column holding the ids (id).")
]
Where = Annotated[
    list[str] | None,
    typer.Option(
        "--where",
        metavar="KEY=VALUE",
        help="Select targets with the profile's listing filters (repeatable).",
    ),
]
Profile = Annotated[
    str | None, typer.Option("--profile", metavar="NAME|PATH", help="Platform profile.")
]
Reason = Annotated[str | None, typer.Option("--reason", help="Why; recorded in the audit trail.")]
Incident = Annotated[
    str | None, typer.Option("--incident", metavar="ID", help="Put the run on this incident.")
]
MaxTargets = Annotated[
    int | None, typer.Option("--max-targets", min=1, help="Refuse more targets than this.")
]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
DryRun = Annotated[
    bool, typer.Option("--dry-run", help="Show exactly what would be sent; send nothing.")
]
Batch = Annotated[
    int | None,
    typer.Option("--batch", metavar="N", min=1, help="Use the batch endpoint, N per request."),
]
Concurrency = Annotated[
    int | None, typer.Option("--concurrency", min=1, help="Requests in flight.")
]
Rate = Annotated[float | None, typer.Option("--rate", min=0.1, help="Requests per second.")]
Timeout = Annotated[
    float | None,
    typer.Option("--timeout", min=0.01, metavar="SECONDS", help="Per-request timeout."),
]


def _group(help_text: str, *examples: str) -> typer.Typer:
    return typer.Typer(
        help=help_text,
        epilog=example(*examples),
        rich_markup_mode=None,
        no_args_is_help=True,
        context_settings=CONTEXT_SETTINGS,
    )


streams = _group("Suspend or resume live streams.", "ircli streams suspend --id str_0000042")
accounts = _group(
    "Freeze, unfreeze or force password resets on accounts.",
    "ircli accounts freeze --ids-file bots.txt --reason 'bot swarm'",
)
sessions = _group("Revoke account sessions.", "ircli sessions revoke --id acc_0000042")
domains = _group("Block link domains.", "ircli domains block --id evil.example")
flags = _group("Set feature flags (the kill switch).", "ircli flags set live_streaming --off")


def run_action(
    ctx: typer.Context,
    action: str,
    *,
    ids: list[str] | None,
    ids_file: Path | None,
    column: str | None,
    where: list[str] | None,
    profile: str | None,
    reason: str | None,
    incident: str | None,
    max_targets: int | None,
    yes: bool,
    dry_run: bool,
    batch: int | None,
    concurrency: int | None,
    rate: float | None,
    timeout: float | None = None,
    params: dict[str, Any] | None = None,
    skip_preflight: bool = False,
    max_pause: float | None = None,
    expiry: ExpiryRequest | None = None,
    override_protected: bool = False,
) -> None:
    """Resolve targets, apply the guards, then run (or preview) the action (set back after
    ``expiry``, when given)."""
    from ircli.cli.asyncrun import run_draining
    from ircli.cli.incident import current_incident
    from ircli.cli.progress import RunProgress
    from ircli.executor import service

    state = state_of(ctx)
    display = state.display
    workspace = state.workspace(preflight=not skip_preflight)
    incident = current_incident(state, incident)
    override = check_override(override_protected, reason)
    loaded = service.load_platform(workspace, profile or state.settings.profile)
    spec = service.action_of(loaded.profile, action)
    protected = protection(state, workspace, loaded, spec, incident, override)
    owners: dict[str, str] = {}
    field = protected.owned.get(spec.target_kind)
    targets, selection = _targets(
        state, workspace, loaded, spec.target_kind, ids, ids_file, column, where,
        action=spec.name, incident=incident, max_targets=max_targets,
        owners=(field, owners) if field is not None else None,
    )  # fmt: skip
    plan = service.plan_action(
        workspace,
        loaded,
        action_name=action,
        targets=targets,
        params=params or {},
        max_targets=max_targets or state.settings.max_targets,
        incident=incident,
        batch_size=batch,
        overrides={
            "concurrency": concurrency,
            "rate": rate,
            "timeout": timeout,
            "breaker_max_pause": max_pause,
        },
        reason=reason,
        selection=selection,
        protected=protected,
        owners=owners,
    )
    if expiry is not None:
        from ircli.executor.expiry import expiring

        plan = expiring(plan, expiry)
    if plan.protected:
        sample = ", ".join(plan.protected[:5]) + (" …" if len(plan.protected) > 5 else "")
        display.warning(
            f"{len(plan.protected):,} of the {len(plan.targets):,} targets are protected "
            f"accounts (or theirs) and are not sent: {sample}. Only a person can act on them, "
            "with --override-protected --reason '…'."
        )
    if dry_run:
        _preview(state, plan)
        return
    _confirm(state, workspace, plan, yes)
    progress = RunProgress(display, action, len(plan.to_send))

    async def main(stop: asyncio.Event) -> RunOutcome:
        async with progress.shown():
            return await service.run_plan(workspace, plan, on_event=progress, stop=stop)

    outcome = run_draining(main, display)
    finish(state, outcome)


def protection(
    state: CliState,
    workspace: Workspace,
    loaded: LoadedProfile,
    action: ActionSpec,
    incident: str | None,
    override: str | None,
) -> ProtectedSet:
    """The protected accounts of an ad-hoc run, resolved before anything is sent; a failure
    is a ``run.refused`` record and its error (nothing sent). An override is said on stderr."""
    from ircli.cli.asyncrun import run_with_stop
    from ircli.errors import IrcliError
    from ircli.executor import service
    from ircli.executor.protection import resolve_protection

    async def resolve(_stop: asyncio.Event) -> ProtectedSet:
        return await resolve_protection(
            workspace, loaded, override=override, kind=action.target_kind
        )

    try:
        protected = run_with_stop(resolve, lambda _signal: None)
    except IrcliError as failed:
        why = f"protected accounts unresolved: {failed.message}"
        service.refuse(workspace, action.name, 0, incident, why)
        raise
    if override is not None:
        warn_override(state, f"{len(protected.ids):,} protected accounts")
    return protected


def warn_override(state: CliState, what: str = "protected accounts") -> None:
    """Say on stderr that this run may act on protected accounts, and who answers for it."""
    state.display.warning(
        f"--override-protected: this run may act on {what}; recorded in the audit chain as "
        f"overridden by {state.settings.operator}."
    )


def finish(state: CliState, outcome: RunOutcome) -> None:
    """Print the outcome (and how to continue an unfinished run, on stderr) and leave with
    the exit code its status calls for."""
    from ircli.cli.progress import outcome_json, print_outcome, resume_hint

    data = outcome_json(outcome)  # once: it counts every target
    expiry = outcome.spec.expiry
    if expiry is not None:
        data["expires_at"] = expiry["expires_at"]
    if state.display.json_mode:
        state.display.json(data)
    else:
        print_outcome(state.display, data)
    if expiry is not None:
        state.display.info(
            f"expires at {expiry['expires_at']}: then 'ircli runs due' (from cron) or "
            "'ircli watch' sets it back."
        )
    resume_hint(state.display, data)
    status = data["status"]
    counts = data["counts"]
    if data["store_failed"]:
        raise typer.Exit(ExitCode.FAILED)
    if status == "interrupted":
        raise typer.Exit(ExitCode.INTERRUPTED)
    if status != "completed" or counts["failed"]:
        raise typer.Exit(ExitCode.FAILED)


def _targets(
    state: CliState,
    workspace: Workspace,
    loaded: LoadedProfile,
    listing: str,
    ids: list[str] | None,
    ids_file: Path | None,
    column: str | None,
    where: list[str] | None,
    *,
    action: str,
    incident: str | None,
    max_targets: int | None,
    owners: tuple[str, dict[str, str]] | None = None,
) -> tuple[list[str], dict[str, Any] | None]:
    """The targets, and how they were chosen (for ``run.started``): ``--id``, the ids file
    (name, SHA-256, column) or ``--where`` (listing, filters, the reads it took). ``owners``
    (field, into): with ``--where``, each item's account by id (``select_targets``)."""
    from ircli.cli.asyncrun import run_with_stop
    from ircli.executor import service
    from ircli.executor.targets import read_ids_file_recorded, unique_ids
    from ircli.platform.sent import counting, http_requests

    sources = sum(1 for given in (ids, ids_file, where) if given)
    if sources != 1:
        raise InvalidInput("give the targets with exactly one of --id, --ids-file or --where.")
    if ids:
        return unique_ids(ids, "--id"), {"source": "--id"}
    if ids_file is not None:
        chosen, source = read_ids_file_recorded(ids_file, column)
        return chosen, {"source": "--ids-file", **source}
    filters = parse_pairs(
        where or [], "--where", shape="KEY=VALUE", example="status=live", strip_values=True
    )
    if not listing:
        raise InvalidInput("this action names no listing in the profile; --where cannot be used.")
    state.display.info(f"selecting {listing} where {filters} …")

    cap = max_targets or state.settings.max_targets

    async def select(_stop: asyncio.Event) -> tuple[list[str], Skipped]:
        # One past the cap is enough to refuse: a flood's listing can be very long.
        return await service.select_targets(
            workspace, loaded, listing, filters, limit=cap + 1, owners=owners
        )

    with counting() as reads:  # the asyncio task shares this tally (a copied context)
        selected, skipped = run_with_stop(select, lambda _signal: None)
    if skipped.count:
        state.display.warning(
            f"skipped {skipped.count:,} {listing} whose id is missing or cannot name a target "
            f"(for example {', '.join(skipped.sample[:3])})."
        )
    selection = {
        "source": "--where",
        "listing": listing,
        "filters": dict(filters),
        **skipped.as_params(),
        "http_requests": http_requests(reads),
    }
    if len(selected) > cap:
        service.refuse(workspace, action, len(selected), incident, f"over the cap of {cap}", reads)
        raise GuardRefused(
            f"the {listing} listing matches more than {cap:,} targets (the cap); nothing was sent.",
            hint="Narrow --where, or raise the cap deliberately with --max-targets N.",
        )
    return selected, selection


def _preview(state: CliState, plan: ActionPlan) -> None:
    # A key is derived from the run id, which a real run draws when it starts: the keys shown
    # are those of a run with this id (and none when the profile sends no key header).
    run = "RUN-DRYRUN"
    header = plan.loaded.profile.idempotency_header
    requests = [(r, key if header else None) for r, key in plan.preview(run, count=3)]
    sent = plan.to_send
    data = {
        "dry_run": True,
        "action": plan.action.name,
        "targets": len(sent),
        "protected": len(plan.protected),
        "sample": list(sent[:5]),
        "idempotency_header": header,
        "idempotency_keys_for_run": run if header else None,
        "requests": [
            {"method": r.method, "path": r.path, "query": dict(r.query), "json": r.json,
             "idempotency_key": key}
            for r, key in requests
        ],
    }  # fmt: skip
    if plan.expiry is not None:
        data["expiry"] = {
            "expires_after_seconds": plan.expiry.seconds,
            "revert_action": plan.expiry.revert_action,
            "revert_params": plan.expiry.revert_params,  # None: what it is just before
        }
    if state.display.json_mode:
        state.display.json(data)
        return
    display = state.display
    held = f" ({len(plan.protected):,} protected, held back)" if plan.protected else ""
    display.result(f"dry run: {plan.action.name} on {len(sent):,} targets{held}; nothing sent.")
    display.result("sample: " + ", ".join(sent[:5]))
    base = plan.loaded.profile.base_url
    for request, key in requests:
        body = "" if request.json is None else f" {json.dumps(request.json)}"
        query = f"?{urlencode(request.query)}" if request.query else ""
        shown = f"  [{header}: {key}]" if key else ""
        display.result(f"  {request.method} {base}{request.path}{query}{body}{shown}")
    if header:
        display.info(
            f"{header} values are those of a run named {run}; a real run's own id sets them."
        )
    if plan.expiry is not None:
        from ircli.report.words import duration

        given = plan.expiry.revert_params
        back = json.dumps(given) if given else "what it is just before the change (read then)"
        display.result(
            f"expires {duration(plan.expiry.seconds)} after the change: then "
            f"{plan.expiry.revert_action} sets back {back}."
        )


def _confirm(state: CliState, workspace: Workspace, plan: ActionPlan, yes: bool) -> None:
    confirm(state, workspace, plan.action.name, plan.to_send, plan.incident, yes=yes)


def confirm(
    state: CliState,
    workspace: Workspace,
    action: str,
    targets: Sequence[str],
    incident: str | None,
    *,
    yes: bool,
    doing: str | None = None,
) -> None:
    """Ask before ``action`` is sent to ``targets`` (unless ``yes``); a refusal — no answer
    possible, or not "y" — is a ``run.refused`` record and exit 3, nothing sent. ``doing``
    names the act in the question (default: the action and the target count)."""
    from ircli.executor import service

    if yes:
        return
    what = doing or f"{action} on {len(targets):,} targets"
    sample = ", ".join(targets[:5]) + (" …" if len(targets) > 5 else "")
    shown = f"{what} ({sample})" if sample else what
    if not state.environment.interactive():
        service.refuse(
            workspace, action, len(targets), incident, "confirmation required, not interactive"
        )
        raise GuardRefused(
            f"{what} needs confirmation; nothing was sent.",
            hint="Pass --yes to confirm non-interactively.",
        )
    state.display.err.print(f"{shown}? [y/N] ", end="", markup=False)
    answer = state.environment.stdin.readline().strip().lower()
    if answer not in ("y", "yes"):
        service.refuse(workspace, action, len(targets), incident, "not confirmed")
        raise GuardRefused("not confirmed; nothing was sent.")


def _command(group: typer.Typer, name: str, action: str, help_text: str, *examples: str) -> None:
    """Register a standard ad-hoc command ``group name`` for ``action``."""

    def command(
        ctx: typer.Context,
        ids: Ids = None,
        ids_file: IdsFile = None,
        column: Column = None,
        where: Where = None,
        profile: Profile = None,
        reason: Reason = None,
        incident: Incident = None,
        max_targets: MaxTargets = None,
        yes: Yes = False,
        dry_run: DryRun = False,
        batch: Batch = None,
        concurrency: Concurrency = None,
        rate: Rate = None,
        timeout: Timeout = None,
        max_pause: MaxPause = None,
        skip_preflight: SkipPreflight = False,
        override_protected: OverrideProtected = False,
    ) -> None:
        run_action(
            ctx, action, ids=ids, ids_file=ids_file, column=column, where=where,
            profile=profile, reason=reason, incident=incident, max_targets=max_targets,
            yes=yes, dry_run=dry_run, batch=batch, concurrency=concurrency, rate=rate,
            timeout=timeout, max_pause=max_pause, skip_preflight=skip_preflight,
            override_protected=override_protected,
        )  # fmt: skip

    command.__doc__ = help_text
    group.command(name, epilog=example(*examples))(command)


_command(
    streams, "suspend", "streams.suspend", "Suspend live streams.",
    "ircli streams suspend --where status=live --where min_reports=20 --reason 'bot flood' --yes",
)  # fmt: skip
_command(
    streams, "resume", "streams.resume", "Resume suspended streams.",
    "ircli streams resume --ids-file wrongly-suspended.txt --yes",
)  # fmt: skip
_command(
    accounts, "freeze", "accounts.freeze", "Freeze accounts (ends their live streams).",
    "ircli accounts freeze --ids-file bots.csv --column account --batch 500 --yes",
)  # fmt: skip
_command(
    accounts, "unfreeze", "accounts.unfreeze", "Unfreeze accounts.",
    "ircli accounts unfreeze --id acc_0000042 --reason 'false positive'",
)  # fmt: skip
_command(
    accounts, "reset-password", "accounts.reset_password", "Force password resets.",
    "ircli accounts reset-password --ids-file compromised.txt --incident INC-20261128-7QK2",
)  # fmt: skip
_command(
    sessions, "revoke", "sessions.revoke", "Revoke every session of the accounts.",
    "ircli sessions revoke --ids-file compromised.txt --yes",
)  # fmt: skip
_command(
    domains, "block", "domains.block", "Add link domains to the blocklist.",
    "ircli domains block --id evil.example --id spam.example --yes",
)  # fmt: skip


@flags.command(
    "set",
    epilog=example(
        "ircli flags set live_streaming --off --incident INC-20261128-7QK2 --yes",
        "ircli flags set live_streaming --on --rollout 10 --yes",
        "ircli flags set live_streaming --off --for 2h --yes",
    ),
)
def set_flag(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="FLAG", help="The flag (e.g. live_streaming).")],
    enabled: Annotated[
        bool | None, typer.Option("--on/--off", help="Turn the flag on or off.")
    ] = None,
    rollout: Annotated[
        int | None,
        typer.Option("--rollout", min=0, max=100, help="Percent of accounts it applies to."),
    ] = None,
    profile: Profile = None,
    reason: Reason = None,
    incident: Incident = None,
    yes: Yes = False,
    dry_run: DryRun = False,
    skip_preflight: SkipPreflight = False,
    lasting: Annotated[
        str | None,
        typer.Option(
            "--for",
            metavar="DURATION",
            help="Set it back after this long (e.g. 30m, 2h, 1d): to what it was just before, "
            "unless --revert-on/--revert-off/--revert-rollout say what.",
        ),
    ] = None,
    revert_enabled: Annotated[
        bool | None,
        typer.Option("--revert-on/--revert-off", help="With --for: turn it on or off then."),
    ] = None,
    revert_rollout: Annotated[
        int | None,
        typer.Option(
            "--revert-rollout",
            min=0,
            max=100,
            metavar="PERCENT",
            help="With --for: the rollout then.",
        ),
    ] = None,
) -> None:
    """Set a feature flag: flip the kill switch or ramp its rollout, for good or for a while."""
    params = _flag_params(enabled, rollout)
    if not params:
        raise InvalidInput("give --on, --off and/or --rollout PERCENT.")
    revert = _flag_params(revert_enabled, revert_rollout)
    if revert and lasting is None:
        raise InvalidInput("--revert-on, --revert-off and --revert-rollout go with --for DURATION.")
    expiry = None if lasting is None else _expiry(lasting, revert)
    run_action(
        ctx, "flags.set", ids=[name], ids_file=None, column=None, where=None, profile=profile,
        reason=reason, incident=incident, max_targets=None, yes=yes, dry_run=dry_run,
        batch=None, concurrency=None, rate=None, params=params, skip_preflight=skip_preflight,
        expiry=expiry,
    )  # fmt: skip


def _flag_params(enabled: bool | None, rollout: int | None) -> dict[str, Any]:
    pairs = (("enabled", enabled), ("rollout_percent", rollout))
    return {key: value for key, value in pairs if value is not None}


def _expiry(text: str, revert: dict[str, Any]) -> ExpiryRequest:
    """``--for`` (and the explicit values to set back, if any) as an expiry request."""
    from ircli.clock import parse_duration
    from ircli.executor.expiry import ExpiryRequest, expiry_problem

    seconds = parse_duration(text)
    if seconds is None:
        raise InvalidInput(f"--for {text!r}: expected a duration such as 30m, 2h or 1d.")
    problem = expiry_problem(seconds)
    if problem is not None:
        raise InvalidInput(f"--for {text!r}: {problem}")
    return ExpiryRequest(int(seconds), revert_params=revert or None)
