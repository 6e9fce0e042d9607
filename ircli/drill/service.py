"""Running a drill: a drill incident, a sandbox, the playbook through the normal runner, a score.

Nothing here is special to the engine: the playbook runs exactly as ``ircli run`` would run
it, against the ``sandbox`` profile pointed at the drill's sandbox through the workspace's
environment mapping (``IRCLI_SANDBOX_URL``/``IRCLI_SANDBOX_TOKEN``; ``os.environ`` is never
touched). The verdict is the criteria evaluated on ``GET /_sandbox/score`` plus whether the
audit chain verifies; it is written to the incident's timeline, so the report carries it.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from ircli.audit.records import NewRecord
from ircli.clock import format_utc, stored_time
from ircli.drill.criteria import CriterionResult, evaluate_criteria
from ircli.drill.model import DrillConfig, DrillResult
from ircli.errors import IrcliError, OperationFailed
from ircli.executor.events import EventSink, ignore

if TYPE_CHECKING:
    from ircli.audit.records import Anchor
    from ircli.executor.service import Workspace
    from ircli.playbook.model import Playbook
    from ircli.sandbox import WorldConfig

__all__ = [
    "DRILL_SEVERITY",
    "PlaybookRunner",
    "RunSummary",
    "check_config",
    "drill_note",
    "drill_title",
    "fetch_score",
    "judge",
    "run_drill",
    "sandbox",
    "world_config",
]

DRILL_SEVERITY = "P2"
_PROVISIONAL_URL = "http://127.0.0.1:8700"


class RunSummary(Protocol):
    """What the drill reads from the runner's ``PlaybookOutcome``."""

    @property
    def run(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def steps(self) -> Sequence[object]: ...
    @property
    def head(self) -> Anchor | None: ...


class PlaybookRunner(Protocol):
    """``ircli.playbook.runner.run_playbook``'s signature (tests pass their own)."""

    def __call__(
        self,
        workspace: Workspace,
        playbook: Playbook,
        *,
        inputs: Mapping[str, str],
        profile_ref: str | None,
        incident: str | None,
        dry_run: bool = False,
        on_event: EventSink = ...,
        stop: asyncio.Event | None = None,
    ) -> Awaitable[RunSummary]: ...


def default_runner() -> PlaybookRunner:
    """The normal playbook runner (imported lazily: it pulls in the engine)."""
    from ircli.playbook.runner import run_playbook

    return run_playbook


def drill_title(config: DrillConfig) -> str:
    """``Drill: live-flood (seed 7)``."""
    return f"Drill: {config.scenario} (seed {config.seed})"


def world_config(config: DrillConfig) -> WorldConfig:
    """The sandbox world of the drill: the scenario's defaults unless sizes are given."""
    from ircli.sandbox import WorldConfig

    size = config.world
    given: dict[str, Any] = {
        "honest_accounts": size.accounts,
        "honest_streams": size.streams,
        "bot_accounts": size.bots,
        "compromised_accounts": size.compromised,
        "bot_rate": size.bot_rate,
        "attack_start_seconds": size.attack_start,
    }
    world = WorldConfig(
        scenario=config.scenario,
        seed=config.seed,
        **{name: value for name, value in given.items() if value is not None},
    )
    world.validate()
    return world


def check_config(workspace: Workspace, config: DrillConfig) -> Playbook:
    """Everything checkable before an incident is opened: world, faults, profile, playbook."""
    from ircli.executor.service import load_platform
    from ircli.playbook.loader import load_playbook

    if config.url is None:
        from ircli.sandbox import parse_faults

        world_config(config)
        if config.faults:
            parse_faults(config.faults)
    elif config.faults:
        from ircli.errors import InvalidInput

        raise InvalidInput(
            "--faults applies to the in-process sandbox only; "
            "set faults on a running one with PUT /_sandbox/faults."
        )
    elif config.world.attack_start is not None:
        from ircli.errors import InvalidInput

        raise InvalidInput(
            "--attack-start applies to the in-process sandbox only; start a running one with "
            "`ircli sandbox serve --attack-start` or POST /_sandbox/reset."
        )
    provisional = replace(workspace, env=_sandbox_env(workspace, config.url or _PROVISIONAL_URL))
    loaded = load_platform(provisional, config.profile)
    playbook = load_playbook(config.playbook, profile=loaded.profile)
    if config.watch is not None:
        from ircli.drill.watching import check_watch

        check_watch(config, loaded.profile)
    return playbook


async def run_drill(
    workspace: Workspace,
    config: DrillConfig,
    *,
    runner: PlaybookRunner | None = None,
    on_event: EventSink = ignore,
    stop: asyncio.Event | None = None,
    on_incident: Callable[[str], None] | None = None,
    playbook: Playbook | None = None,
    on_message: Callable[[str, str], None] | None = None,
) -> DrillResult:
    """Run the drill end to end and return its result (the incident is left with the verdict).

    ``on_incident(incident_id)`` is called once the drill incident is open (for progress),
    ``on_message(level, text)`` with what a watch drill's watch says;
    ``playbook`` is what ``check_config`` returned, when the caller checked already.
    Errors before the incident is opened leave nothing behind; errors after it are noted on
    the incident's timeline and raised.
    """
    from ircli.incident.service import IncidentService

    if playbook is None:
        playbook = check_config(workspace, config)
    if config.watch is not None:
        from ircli.drill.watching import run_watch_drill

        return await run_watch_drill(
            workspace, config, playbook, stop=stop, on_incident=on_incident, on_message=on_message
        )
    run = runner or default_runner()
    incidents = IncidentService(workspace.store)
    incident = incidents.open(drill_title(config), severity=DRILL_SEVERITY)
    if on_incident is not None:
        on_incident(incident.id)
    incidents.add_note(incident.id, drill_note(config, f"playbook {playbook.name}"))
    try:
        with sandbox(workspace, config) as (url, env):
            drill_space = replace(workspace, env=env)
            if config.world.attack_start is not None:
                await _until_the_attack(drill_space, config.profile, stop)
            outcome = await run(
                drill_space,
                playbook,
                inputs=config.inputs,
                profile_ref=config.profile,
                incident=incident.id,
                on_event=on_event,
                stop=stop,
            )
            score = await fetch_score(drill_space, config.profile)
    except IrcliError as exc:
        incidents.add_note(incident.id, f"Drill aborted: {exc.message}")
        raise
    return judge(
        workspace,
        incident.id,
        run=outcome.run,
        run_status=outcome.status,
        steps=len(outcome.steps),
        score=score,
        config=config,
        url=url,
    )


def drill_note(config: DrillConfig, what: str) -> str:
    """The timeline note that says it is a drill: what ran, against what world."""
    where = config.url or "an in-process sandbox"
    faults = f", faults {config.faults}" if config.faults else ""
    start = config.world.attack_start
    timed = "" if start is None else f", the attack starting {start:g} s after the start"
    return (
        f"This is a drill, not a real incident: {what} against {where} "
        f"(scenario {config.scenario}, seed {config.seed}{faults}{timed}). "
        "No real platform is touched."
    )


def judge(
    workspace: Workspace,
    incident: str,
    *,
    run: str | None,
    run_status: str,
    steps: int,
    score: Mapping[str, Any],
    config: DrillConfig,
    url: str,
) -> DrillResult:
    """Verify the chain, evaluate the criteria on ``score``, record the verdict on the
    incident (resolved when every criterion held) and return the result."""
    from ircli.incident.service import IncidentService

    incidents = IncidentService(workspace.store)
    verification = workspace.store.verify()
    results = tuple(evaluate_criteria(config.criteria, score, audit_ok=verification.ok))
    passed = all(r.passed for r in results)
    workspace.store.append(_scored(incident, run or "", run_status, score, results))
    incidents.add_note(incident, _verdict(results, run_status, passed))
    if passed and incidents.get(incident).status not in ("resolved", "closed"):
        incidents.set_status(incident, "resolved")
    return DrillResult(
        incident=incident,
        run=run,
        run_status=run_status,
        score=score,
        criteria=results,
        verification=verification,
        head=workspace.store.head(),
        sandbox_url=url,
        steps=steps,
    )


async def _until_the_attack(
    workspace: Workspace, profile_ref: str, stop: asyncio.Event | None
) -> None:
    """Without a watch, a timed drill's playbook starts when the attack does (as if someone
    started it that very moment): before, there is nothing for it to find."""
    score = await fetch_score(workspace, profile_ref)
    start, now = score.get("attack_started_at_seconds"), score.get("elapsed_seconds")
    if isinstance(start, int | float) and isinstance(now, int | float) and start > now:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for((stop or asyncio.Event()).wait(), timeout=start - now)


def _sandbox_env(workspace: Workspace, url: str, token: str | None = None) -> dict[str, str]:
    env = {**workspace.env, "IRCLI_SANDBOX_URL": url}
    if token is not None:
        env["IRCLI_SANDBOX_TOKEN"] = token
    return env


@contextlib.contextmanager
def sandbox(workspace: Workspace, config: DrillConfig) -> Iterator[tuple[str, dict[str, str]]]:
    """The sandbox URL and the environment that points the profile at it."""
    if config.url is not None:
        yield config.url, _sandbox_env(workspace, config.url)
        return
    from ircli.sandbox import parse_faults, run_server

    # A fresh token per drill: nothing else on this machine can act on the drill's world.
    token = secrets.token_urlsafe(24)
    workspace.redactor.add_secret(token)
    faults = parse_faults(config.faults) if config.faults else None
    # The sandbox keeps time by the store's clock, so signals such as account age and the
    # playbook's ``now`` agree (tests pin both).
    clock = workspace.store.clock
    with run_server(world_config(config), token=token, faults=faults, clock=clock) as server:
        yield server.url, _sandbox_env(workspace, server.url, token)


async def fetch_score(workspace: Workspace, profile_ref: str) -> dict[str, Any]:
    """``GET /_sandbox/score`` through the profile's base URL and credentials."""
    from ircli.executor.service import load_platform, platform_client
    from ircli.platform.client import TransportFailure
    from ircli.platform.render import PreparedRequest
    from ircli.platform.secrets import auth_headers

    profile = load_platform(workspace, profile_ref).profile
    headers = auth_headers(profile, workspace.env, workspace.redactor)
    async with platform_client(profile, headers, workspace.env, concurrency=1) as client:
        try:
            reply = await client.send(
                PreparedRequest("GET", "/_sandbox/score", {}), kind="probe"
            )  # outside any run: counted nowhere (not the platform's API)
        except TransportFailure as exc:
            raise OperationFailed(
                f"cannot read the drill score from {profile.base_url}: {exc.detail}."
            ) from None
    if reply.status != 200 or not isinstance(reply.body, dict):
        scope = " (the token needs the admin scope)" if reply.status in (401, 403) else ""
        raise OperationFailed(
            f"the sandbox at {profile.base_url} answered {reply.status} "
            f"to GET /_sandbox/score{scope}."
        )
    return dict(reply.body)


def _scored(
    incident: str,
    run: str,
    run_status: str,
    score: Mapping[str, Any],
    results: Sequence[CriterionResult],
) -> NewRecord:
    """The ``drill.scored`` record: the score, each criterion, and the malicious live streams
    over time (the ground truth the report's containment curve is drawn from)."""
    from ircli.audit.chain import audit_safe

    started_at = score.get("started_at")
    malicious_live: list[list[Any]] = []
    if isinstance(started_at, str):  # a sandbox older than this ircli has no series
        started = stored_time(started_at)
        malicious_live = [
            [format_utc(started + timedelta(seconds=float(seconds))), int(count)]
            for seconds, count in score.get("malicious_live_series") or ()
        ]
    return NewRecord(
        kind="drill.scored",
        incident=incident,
        params={
            "summary": "drill scored",
            "run": run,
            "run_status": run_status,
            "passed": all(r.passed for r in results),
            "criteria": [
                {
                    "label": r.label,
                    "expression": r.expression,
                    "passed": r.passed,
                    "values": audit_safe(dict(r.values)),
                    "error": r.error,
                }
                for r in results
            ],
            "score": audit_safe({k: v for k, v in score.items() if k != "malicious_live_series"}),
            "malicious_live": malicious_live,
        },
    )


def _verdict(results: Sequence[CriterionResult], run_status: str, passed: bool) -> str:
    """One timeline sentence per outcome, with the values the failed criteria read."""
    held = [r.label for r in results if r.passed]
    failed = [
        f"{r.label} ({r.error or ', '.join(f'{k}={v}' for k, v in r.values.items())})"
        for r in results
        if not r.passed
    ]
    text = (
        f"Drill {'passed' if passed else 'FAILED'}: {len(held)} of {len(results)} criteria held "
        f"(playbook run {run_status})."
    )
    if failed:
        text += f" Failed: {'; '.join(failed)}."
    if held:
        text += f" Held: {', '.join(held)}."
    return text
