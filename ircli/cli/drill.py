"""``ircli drill``: a playbook against the sandbox; the score, the verdict and the reports."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ircli.cli.display import Column, Display, safe
from ircli.cli.helptext import example
from ircli.cli.options import parse_pairs
from ircli.cli.state import CliState, state_of
from ircli.errors import ExitCode, InvalidInput

if TYPE_CHECKING:
    import asyncio
    from collections.abc import AsyncIterator

    from rich.progress import Progress

    from ircli.drill import DrillResult
    from ircli.dsarules import Reasons

__all__ = ["EPILOG", "drill"]

EPILOG = example(
    "ircli drill live-flood-containment",
    "ircli drill playbooks/live-flood-containment.yaml --seed 11 --faults 5xx=0.02,429=0.02",
    "ircli drill my-playbook.yaml --pass 'malicious_live_streams == 0 and audit_ok'",
    "ircli drill live-flood-containment --watch --attack-start 30 --seed 42",
)

_EXTENSIONS = {
    "md": "md",
    "html": "html",
    "json": "json",
    "csv": "csv",
    "timesketch": "jsonl",
    "targets.csv": "targets.csv",
    "dsa": "dsa.jsonl",
}
# The score fields shown in the table, in reading order (the full score is in --json).
_SHOWN = (
    "elapsed_seconds",
    "malicious_live_streams",
    "malicious_streams_suspended",
    "malicious_streams_ended",
    "attacker_streams_started",
    "malicious_accounts_frozen",
    "compromised_accounts_reset",
    "compromised_accounts",
    "collateral_streams",
    "collateral_accounts",
    "collateral_password_resets",
    "honest_streams_ended_by_kill_switch",
    "exposure_viewer_seconds",
    "attack_started_at_seconds",
    "detected_at_seconds",
    "contained_at_seconds",
    "duplicate_effects",
    "requests_total",
)


def drill(
    ctx: typer.Context,
    playbook: Annotated[
        str,
        typer.Argument(
            metavar="PLAYBOOK", help="A playbook file, or the name of a shipped playbook."
        ),
    ],
    scenario: Annotated[str, typer.Option("--scenario", help="Sandbox scenario.")] = "live-flood",
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same world.")] = 7,
    faults: Annotated[
        str | None,
        typer.Option("--faults", metavar="SPEC", help="Inject faults (docs/sandbox.md#faults)."),
    ] = None,
    report_dir: Annotated[
        Path, typer.Option("--report-dir", metavar="DIR", help="Where the reports go.")
    ] = Path("reports"),
    formats: Annotated[
        str,
        typer.Option("--formats", metavar="LIST", help="Report formats, comma-separated."),
    ] = "md,html,json",
    pass_expr: Annotated[
        str | None,
        typer.Option(
            "--pass",
            metavar="EXPR",
            help="Replace the default criteria with one expression over the score "
            "fields and audit_ok.",
        ),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(
            "--url", metavar="URL", help="Use a running sandbox (token: IRCLI_SANDBOX_TOKEN)."
        ),
    ] = None,
    profile: Annotated[
        str, typer.Option("--profile", metavar="NAME|PATH", help="The sandbox's profile.")
    ] = "sandbox",
    inputs: Annotated[
        list[str] | None,
        typer.Option("--input", "-i", metavar="NAME=VALUE", help="A playbook input (repeatable)."),
    ] = None,
    accounts: Annotated[
        int | None, typer.Option("--accounts", min=1, help="Honest accounts in the world.")
    ] = None,
    streams: Annotated[
        int | None, typer.Option("--streams", min=0, help="Honest live streams.")
    ] = None,
    bots: Annotated[int | None, typer.Option("--bots", min=1, help="Bot accounts.")] = None,
    compromised: Annotated[
        int | None, typer.Option("--compromised", min=0, help="Compromised honest accounts.")
    ] = None,
    bot_rate: Annotated[
        float | None,
        typer.Option("--bot-rate", min=0, help="New attacker streams per second."),
    ] = None,
    attack_start: Annotated[
        float | None,
        typer.Option(
            "--attack-start",
            metavar="SECONDS",
            min=0,
            help="A timed attack: the sandbox is quiet until SECONDS after its start "
            "(30 with --watch).",
        ),
    ] = None,
    watch: Annotated[
        bool,
        typer.Option(
            "--watch",
            help="Let the shipped watch file that responds with PLAYBOOK start it, "
            "pre-approved, when its rule fires (docs/watch.md).",
        ),
    ] = False,
    watch_file: Annotated[
        Path | None,
        typer.Option("--watch-file", metavar="FILE", help="Like --watch, with this watch file."),
    ] = None,
    detect_within: Annotated[
        float,
        typer.Option(
            "--detect-within",
            metavar="SECONDS",
            min=1,
            help="A watch drill fails when nothing fired this long after the attack started.",
        ),
    ] = 120.0,
) -> None:
    """Run PLAYBOOK against the sandbox as a drill; exit 1 when its pass criteria fail.

    Opens a drill incident, starts the sandbox in-process (or uses --url), runs the playbook
    through the normal runner, prints the score with each criterion, resolves the incident
    when they all hold, and writes the incident's reports into --report-dir.
    """
    from ircli.drill import (
        DEFAULT_WATCH_ATTACK_START,
        DrillConfig,
        WorldSize,
        check_config,
        compile_criterion,
        default_criteria,
        run_drill,
    )
    from ircli.playbook.runner import resolve_playbook
    from ircli.report import check_format

    state = state_of(ctx)
    env = state.environment
    chosen = [f.strip() for f in formats.split(",") if f.strip()]
    for fmt in chosen:
        check_format(fmt)
    watched = watch or watch_file is not None
    criteria = (
        (compile_criterion(pass_expr),)
        if pass_expr is not None
        else default_criteria(watch=watched)
    )
    path = resolve_playbook(playbook, env.cwd)
    watch_path = _watch_path(state, path, watch_file, profile) if watched else None
    if watched and attack_start is None and url is None:
        attack_start = DEFAULT_WATCH_ATTACK_START
    config = DrillConfig(
        playbook=path,
        criteria=criteria,
        scenario=scenario,
        seed=seed,
        faults=faults,
        url=url,
        profile=profile,
        world=WorldSize(accounts, streams, bots, compromised, bot_rate, attack_start),
        inputs=parse_pairs(inputs or [], "--input"),
        watch=watch_path,
        detect_within=detect_within,
    )
    workspace = state.workspace()
    checked = check_config(workspace, config)  # bad options exit 2 before anything happens
    if "dsa" in chosen:
        _check_reasons(state, checked.dsa)
    progress = DrillProgress(state.display)

    async def main(stop: asyncio.Event) -> DrillResult:
        async with progress.shown():
            return await run_drill(
                workspace,
                config,
                on_event=progress,
                stop=stop,
                on_incident=progress.incident_opened,
                playbook=checked,
                on_message=progress.said,
            )

    from ircli.cli.asyncrun import run_draining

    result = run_draining(main, state.display)
    written = _write_reports(state, result.incident, chosen, report_dir)
    _show(state, result, written)
    if not result.passed:
        raise typer.Exit(ExitCode.FAILED)


def _watch_path(state: CliState, playbook: Path, given: Path | None, profile: str) -> Path:
    """``--watch-file``, or the shipped watch file linked to the playbook."""
    if given is not None:
        return given if given.is_absolute() else state.environment.cwd / given
    from ircli.cli.playbook import profile_to_check
    from ircli.drill.watching import linked_watch

    found = linked_watch(playbook, profile_to_check(state, profile, {}))
    if found is None:
        raise InvalidInput(
            f"no shipped watch file responds with the playbook {playbook.name}; "
            "name one with --watch-file."
        )
    return found


def _write_reports(
    state: CliState, incident: str, formats: list[str], directory: Path
) -> list[Path]:
    from ircli.cli.audit import write_private
    from ircli.cli.report import statements_text
    from ircli.report import build_report, render

    folder = directory if directory.is_absolute() else state.environment.cwd / directory
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InvalidInput(f"cannot create {directory}: {error.strerror}.") from None
    built = build_report(state.store(), incident, now=state.environment.clock())
    written: list[Path] = []
    for fmt in formats:
        target = folder / f"{incident}.{_EXTENSIONS[fmt]}"
        text = statements_text(state, incident, None) if fmt == "dsa" else render(built, fmt)
        write_private(target, [text])
        written.append(directory / target.name)
    return written


def _check_reasons(state: CliState, playbook: Reasons | None) -> None:
    """``--formats …,dsa`` needs the reasons of its statements from the playbook or
    ``ircli.yaml``: refused before anything runs when they are not there."""
    from ircli.cli.report import config_reasons
    from ircli.dsarules import Reasons, missing_reasons

    missing = missing_reasons(Reasons.merge(config_reasons(state), playbook))
    if missing:
        raise InvalidInput(
            f"--formats dsa: neither the playbook's dsa block nor ircli.yaml gives "
            f"{', '.join(missing)}; nothing was run.",
            hint="See docs/dsa.md for the reasons a statement needs.",
        )


def _show(state: CliState, result: DrillResult, reports: list[Path]) -> None:
    display = state.display
    head = None if result.head is None else {"seq": result.head.seq, "hash": result.head.hash}
    if display.json_mode:
        display.json(
            {
                "passed": result.passed,
                "incident": result.incident,
                "run": result.run,
                "run_status": result.run_status,
                "criteria": [
                    {
                        "label": c.label,
                        "expression": c.expression,
                        "passed": c.passed,
                        "values": dict(c.values),
                        "error": c.error,
                    }
                    for c in result.criteria
                ],
                "score": dict(result.score),
                "audit": {"ok": result.verification.ok, "head": head},
                "reports": [str(p) for p in reports],
            }
        )
        return
    score = result.score
    display.table(
        ("score", "value"),
        [(name, _value(score.get(name))) for name in _SHOWN if name in score],
        title=f"{score.get('scenario', 'sandbox')} score (seed {score.get('seed', '?')})",
    )
    display.table(
        ("", "criterion", Column("expression", drop=1), "values"),
        [
            (
                "✓ pass" if c.passed else "✗ FAIL",
                c.label,
                c.expression,
                c.error or ", ".join(f"{k}={_value(v)}" for k, v in c.values.items()),
            )
            for c in result.criteria
        ],
        title="pass criteria",
    )
    held = sum(1 for c in result.criteria if c.passed)
    verdict = "PASSED" if result.passed else "FAILED"
    display.result(
        f"drill {verdict}: {held} of {len(result.criteria)} criteria held "
        f"(incident {result.incident}, run {result.run or '-'} {result.run_status})",
        style="bold green" if result.passed else "bold red",
    )
    for path in reports:
        display.result(f"report: {path}")
    if head is not None:
        display.result(f"audit anchor: {head['seq']}:{head['hash']}")
    if not result.verification.ok:
        display.warning(f"the audit chain does not verify: {result.verification.reason}")


def _value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


class DrillProgress:
    """A live line on stderr while the drill runs: current step, actions settled, retries."""

    def __init__(self, display: Display) -> None:
        self.display = display
        self.settled = 0
        self.failed = 0
        self.retrying = 0
        self.step = "opening the drill incident"
        self.messages: list[str] = []

    def incident_opened(self, incident: str) -> None:
        """The drill incident exists: say so (the sandbox starts next)."""
        self.messages.append(f"opened drill incident {incident}")
        self.step = "starting the sandbox"

    def said(self, _level: str, text: str) -> None:
        """What a watch drill's watch says (a rule fired, a run finished)."""
        self.messages.append(text)
        self.step = "responding" if " fired: " in text else "watching"

    def __call__(self, event: object) -> None:
        from ircli.executor.events import (
            BreakerClosed,
            BreakerOpened,
            RetryScheduled,
            RunPaused,
            TargetsSettled,
        )

        step = getattr(event, "step", None)
        self.step = step if isinstance(step, str) and step else "running the playbook"
        if isinstance(event, TargetsSettled):
            self.settled += len(event.targets)
            if not event.result.outcome.succeeded:
                self.failed += len(event.targets)
        elif isinstance(event, RetryScheduled):
            self.retrying += event.count
        elif isinstance(event, BreakerOpened):
            self.messages.append(f"platform failing ({event.failures} in a row): paused")
        elif isinstance(event, BreakerClosed):
            self.messages.append("platform answering again: resuming")
        elif isinstance(event, RunPaused):
            self.messages.append(f"pausing the run: {event.reason}")

    def line(self, elapsed: float) -> str:
        """The progress line."""
        return (
            f"drill: {self.step} · {self.settled:,} settled · {self.failed:,} failed"
            f" · {self.retrying:,} retries · {elapsed:.1f}s"
        )

    @asynccontextmanager
    async def shown(self) -> AsyncIterator[None]:
        """A spinner line on stderr while the block runs (on a terminal; else a final line)."""
        import asyncio  # here, not at import: `ircli --help` does not need the event loop

        display = self.display
        loop = asyncio.get_running_loop()
        started = loop.time()
        if display.json_mode or not display.err.is_terminal:
            try:
                yield
            finally:
                self._flush(None)
                if not display.json_mode:
                    display.info(self.line(loop.time() - started))
            return
        from rich.progress import Progress, SpinnerColumn, TextColumn

        progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), console=display.err)
        task = progress.add_task(self.line(0.0), total=None)

        from ircli.cli.progress import redrawing

        def draw(_final: bool) -> None:
            self._flush(progress)
            progress.update(task, description=safe(self.line(loop.time() - started)))

        async with redrawing(progress, draw):
            yield

    def _flush(self, progress: Progress | None) -> None:
        while self.messages:
            message = self.messages.pop(0)
            if progress is not None:
                progress.console.print(safe(message), markup=False, highlight=False)
            else:
                self.display.info(message)
