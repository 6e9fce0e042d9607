"""``ircli sandbox``: serve the simulated platform for drills, demos, tests and benchmarks."""

from __future__ import annotations

from typing import Annotated

import typer

from ircli.cli.helptext import CONTEXT_SETTINGS, example
from ircli.cli.state import state_of
from ircli.errors import InvalidInput

__all__ = ["app"]

TOKEN_VARIABLE = "IRCLI_SANDBOX_TOKEN"  # noqa: S105 - a variable name, not a secret

app = typer.Typer(
    help="Run the sandbox platform: a simulated admin API under a live-stream flood.",
    epilog=example("ircli sandbox serve --port 8700 --seed 7"),
    rich_markup_mode=None,
    context_settings=CONTEXT_SETTINGS,
    no_args_is_help=True,
)


@app.command(
    epilog=example(
        "ircli sandbox serve --port 8700 --seed 7", "ircli sandbox serve --attack-start 120"
    )
)
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to listen on (loopback by default).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0 picks a free one).")] = 8700,
    scenario: Annotated[str, typer.Option(help="Scenario to generate.")] = "live-flood",
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same world.")] = 7,
    token: Annotated[
        str | None,
        typer.Option(
            help=f"Bearer token with every scope (env {TOKEN_VARIABLE}; a documented "
            "development token otherwise).",
            show_default=False,
        ),
    ] = None,
    faults: Annotated[
        str,
        typer.Option(
            metavar="SPEC",
            help="Faults to inject, e.g. 5xx=0.05,429=0.02,latency=5ms,jitter=2ms,"
            "timeout=0.01,drop=0.005,rate=5000.",
        ),
    ] = "",
    accounts: Annotated[int, typer.Option(min=1, help="Honest accounts in the world.")] = 200_000,
    streams: Annotated[int, typer.Option(min=0, help="Honest live streams.")] = 30_000,
    bots: Annotated[int, typer.Option(min=1, help="Bot accounts of the swarm.")] = 17_000,
    compromised: Annotated[
        int, typer.Option(min=0, help="Honest accounts taken over by the attacker.")
    ] = 400,
    bot_rate: Annotated[
        float, typer.Option(min=0, help="New attacker streams per second while allowed.")
    ] = 20.0,
    max_batch: Annotated[int, typer.Option(min=1, help="Largest batch the API accepts.")] = 500,
    attack_start: Annotated[
        float | None,
        typer.Option(
            metavar="SECONDS",
            min=0,
            help="A timed attack: quiet (honest streams and reports only) until SECONDS after "
            "the start, then the swarm starts and ramps up. Without it the attack began 20 "
            "minutes before the start.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve the sandbox platform's admin API over HTTP until Ctrl-C."""
    from ircli.sandbox import DEFAULT_TOKEN, WorldConfig, create_app, parse_faults, serve_app

    state = state_of(ctx)
    display = state.display
    fault_config = parse_faults(faults)
    config = WorldConfig(
        scenario=scenario,
        seed=seed,
        honest_accounts=accounts,
        honest_streams=streams,
        bot_accounts=bots,
        compromised_accounts=compromised,
        bot_rate=bot_rate,
        max_batch=max_batch,
        attack_start_seconds=attack_start,
    )
    config.validate()
    environment = state.environment
    secret = token or environment.env.get(TOKEN_VARIABLE) or DEFAULT_TOKEN
    if token:
        source = "the --token option"
    elif environment.env.get(TOKEN_VARIABLE):
        source = TOKEN_VARIABLE
    else:
        source = "the development default (see docs/sandbox.md)"
    try:
        sandbox = create_app(config, token=secret, faults=fault_config, clock=environment.clock)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    world = sandbox.platform.world
    timing = "" if attack_start is None else f"; the attack starts after {attack_start:g} s"
    display.info(
        f"generated {scenario} (seed {seed}): {world.account_count:,} accounts, "
        f"{world.stream_count:,} live streams{timing}; token from {source}."
    )
    try:
        with serve_app(sandbox, host=host, port=port) as server:
            display.result(f"sandbox ready at {server.url} (Ctrl-C to stop)")
            environment.stdout.flush()
            _wait_forever()
    except KeyboardInterrupt:
        display.info("sandbox stopped.")


def _wait_forever() -> None:
    import threading

    stop = threading.Event()
    while not stop.wait(3600):
        pass
