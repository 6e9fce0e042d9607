"""``ircli profile``: check, inspect and list platform profiles."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from ircli.cli.display import Column
from ircli.cli.helptext import CONTEXT_SETTINGS, example
from ircli.cli.state import CliState, state_of
from ircli.errors import ExitCode, InvalidInput, IrcliError

if TYPE_CHECKING:
    from pathlib import Path

    from ircli.platform.model import Profile

__all__ = ["app"]

app = typer.Typer(
    help="Check, inspect and list platform profiles (how ircli talks to an admin API).",
    epilog=example("ircli profile list", "ircli profile show sandbox"),
    rich_markup_mode=None,
    no_args_is_help=True,
    context_settings=CONTEXT_SETTINGS,
)


def _find(state: CliState, name_or_path: str) -> Path:
    from ircli.platform.catalog import profile_search_dirs, resolve_profile

    dirs = profile_search_dirs(state.environment.user_config_dir())
    return resolve_profile(name_or_path, dirs, cwd=state.environment.cwd)


@app.command(
    "validate",
    epilog=example("ircli profile validate profiles/mastodon.yaml profiles/keycloak.yaml"),
)
def validate(
    ctx: typer.Context,
    files: Annotated[
        list[str],
        typer.Argument(metavar="FILE...", help="Profile files (or names of known profiles)."),
    ],
) -> None:
    """Check profiles without contacting anything; exit 2 if one is invalid."""
    from ircli.platform.loader import load_profile

    state = state_of(ctx)
    reports: list[dict[str, Any]] = []
    for name in files:
        try:
            profile = load_profile(_find(state, name))
        except IrcliError as exc:
            reports.append({"file": name, "ok": False, "error": exc.message, "hint": exc.hint})
            continue
        reports.append(
            {
                "file": name,
                "ok": True,
                "name": profile.name,
                "actions": len(profile.actions),
                "listings": len(profile.listings),
            }
        )
    if state.display.json_mode:
        state.display.json(reports)
    else:
        for report in reports:
            if report["ok"]:
                state.display.result(
                    f"{report['file']}: ok ({report['actions']} actions, "
                    f"{report['listings']} listings)"
                )
            else:
                state.display.error(report["error"], report["hint"])
    if not all(report["ok"] for report in reports):
        raise typer.Exit(ExitCode.INVALID_INPUT)


@app.command(
    "show", epilog=example("ircli profile show sandbox", "ircli --json profile show ./my.yaml")
)
def show(
    ctx: typer.Context,
    name: Annotated[
        str | None,
        typer.Argument(
            metavar="NAME|PATH", help="A profile name or file (default: the profile setting)."
        ),
    ] = None,
) -> None:
    """Show a profile: base URL, auth source, limits, listings and actions (never a secret)."""
    from ircli.platform.loader import load_profile

    state = state_of(ctx)
    chosen = name or state.settings.profile
    if not chosen:
        raise InvalidInput(
            "no profile given.", hint="Name one, or set IRCLI_PROFILE or 'profile' in ircli.yaml."
        )
    profile = load_profile(_find(state, chosen))
    if state.display.json_mode:
        state.display.json(_as_dict(profile))
        return
    _print_profile(state, profile)


@app.command("schema", epilog=example("ircli profile schema > profile.schema.json"))
def schema(ctx: typer.Context) -> None:
    """Print the JSON Schema (draft 2020-12) of the profile format, for editors."""
    from ircli.platform.model import profile_schema

    state_of(ctx).display.json(profile_schema())


@app.command("list", epilog=example("ircli profile list"))
def list_profiles(ctx: typer.Context) -> None:
    """List the user's profiles (config dir profiles/) and the shipped ones."""
    from ircli.platform.catalog import available_profiles, profile_search_dirs

    state = state_of(ctx)
    entries = available_profiles(profile_search_dirs(state.environment.user_config_dir()))
    if state.display.json_mode:
        state.display.json(
            [
                {
                    "name": e.name,
                    "origin": e.origin,
                    "path": str(e.path),
                    "description": e.description,
                    "error": e.error,
                    "shadowed": e.shadowed,
                }
                for e in entries
            ]
        )
        return
    state.display.table(
        ("name", Column("origin", drop=1), Column("path", drop=2), "description"),
        (
            (
                e.name,
                e.origin + (" (shadowed)" if e.shadowed else ""),
                e.path,
                f"invalid: {e.error}" if e.error else e.description,
            )
            for e in entries
        ),
    )


def _auth_text(profile: Profile) -> str:
    from ircli.platform.secrets import secret_source

    auth = profile.auth
    if auth.kind == "none" or auth.secret is None:
        return "none"
    kind = {
        "bearer": "bearer token",
        "header": f"header {auth.header}",
        "basic": f"basic, user {auth.username}",
    }[auth.kind]
    return f"{kind}; secret from {secret_source(auth.secret)}"


def _limits_text(profile: Profile) -> str:
    limits = profile.limits
    return (
        f"concurrency {limits.concurrency}, rate {limits.rate:g}/s, timeout {limits.timeout:g}s, "
        f"retries {limits.retries}, retry budget {limits.retry_budget:g}, "
        f"max Retry-After {limits.max_retry_after:g}s"
    )


def _print_profile(state: CliState, profile: Profile) -> None:
    from ircli.platform.secrets import secret_source

    display = state.display
    display.result(f"{profile.name}: {profile.description}".rstrip(": "))
    display.result(f"file: {profile.source}")
    display.result(f"base_url: {profile.base_url}")
    for variable, value in profile.variables.items():
        display.result(f"variable {variable}: {value}")
    for variable, ref in profile.secrets.items():
        display.result(f"variable {variable}: a secret, from {secret_source(ref)}")
    display.result(f"auth: {_auth_text(profile)}")
    display.result(f"idempotency header: {profile.idempotency_header or 'none'}")
    display.result(f"limits: {_limits_text(profile)}")
    display.table(
        ("listing", Column("path", drop=1), "pagination", "filters"),
        (
            (lst.name, lst.path, lst.pagination.kind, ", ".join(lst.filters) or "-")
            for lst in profile.listings.values()
        ),
        title="Listings",
    )
    display.table(
        (
            "action",
            "method",
            Column("path", drop=3),
            Column("batch", drop=2),
            Column("idempotent", drop=1),
            Column("inverse", drop=4),
            "params",
        ),
        (
            (
                a.name,
                a.request.method,
                a.request.path,
                f"up to {a.batch.max_size}" if a.batch else "-",
                "yes" if a.idempotent else ("no, checked" if a.check else "no"),
                a.inverse or "-",
                ", ".join(a.params) or "-",
            )
            for a in profile.actions.values()
        ),
        title="Actions",
    )


def _as_dict(profile: Profile) -> dict[str, Any]:
    from ircli.platform.secrets import secret_source

    auth = profile.auth
    return {
        "name": profile.name,
        "description": profile.description,
        "file": profile.source,
        "base_url": profile.base_url,
        "variables": dict(profile.variables),
        "secret_variables": {name: secret_source(ref) for name, ref in profile.secrets.items()},
        "auth": {
            "type": auth.kind,
            "header": auth.header if auth.kind == "header" else None,
            "username": auth.username,
            "secret_source": secret_source(auth.secret) if auth.secret else None,
        },
        "idempotency_header": profile.idempotency_header,
        "limits": vars(profile.limits),
        "listings": {
            lst.name: {
                "path": lst.path,
                "pagination": lst.pagination.kind,
                "filters": list(lst.filters),
                "description": lst.description,
            }
            for lst in profile.listings.values()
        },
        "actions": {
            a.name: {
                "method": a.request.method,
                "path": a.request.path,
                "batch_max_size": a.batch.max_size if a.batch else None,
                "idempotent": a.idempotent,
                "check": a.check is not None,
                "inverse": a.inverse,
                "params": list(a.params),
                "target": a.target_kind or None,
                "description": a.description,
            }
            for a in profile.actions.values()
        },
    }
