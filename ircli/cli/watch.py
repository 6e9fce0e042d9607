"""``ircli watch WATCHFILE``: poll signals, judge rules, open an incident and respond."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from ircli.cli.display import Display, safe
from ircli.cli.helptext import example
from ircli.cli.state import state_of
from ircli.errors import ExitCode

if TYPE_CHECKING:
    import asyncio

    from ircli.watch.loader import LoadedWatch
    from ircli.watch.service import WatchSession, WatchSummary

__all__ = ["EPILOG", "watch"]

EPILOG = example(
    "ircli watch live-flood --profile sandbox",
    "ircli --json watch watch/live-flood.yaml --profile sandbox --duration 10m",
    "ircli watch my-watch.yaml --profile sandbox --check",
)

WATCH_OPERATOR = "watch:{operator}"
"""Who the watch's records name: not the person, who may then approve its plans."""


def watch(
    ctx: typer.Context,
    watchfile: Annotated[
        str,
        typer.Argument(metavar="WATCHFILE", help="A watch file, or a shipped one's name."),
    ],
    profile: Annotated[
        str | None, typer.Option("--profile", metavar="NAME|PATH", help="Platform profile.")
    ] = None,
    duration: Annotated[
        str | None,
        typer.Option(
            "--duration", metavar="DURATION", help="Stop after this long (e.g. 8h); else Ctrl-C."
        ),
    ] = None,
    once: Annotated[
        bool,
        typer.Option("--once", help="Stop once the first rule that fired has been answered."),
    ] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Only check the watch file and its playbooks; exit.")
    ] = False,
) -> None:
    """Watch a platform's signals; when a rule fires, open an incident and respond.

    Polls each signal of WATCHFILE through the profile, shows them live with their baselines
    and each rule's state, and when a rule has held long enough: opens an incident detected
    when it first held, notifies the webhooks, and plans the linked playbook for a person to
    approve (ircli runs approve PLAN-RUN) — or runs it at once when the watch file
    pre-approves it within guardrails. Reverts expired flag changes while it runs. Every record
    it writes is marked automated.
    """
    from ircli.cli.asyncrun import run_draining
    from ircli.errors import InvalidInput
    from ircli.executor.service import load_platform
    from ircli.watch.loader import load_watch, resolve_watch

    state = state_of(ctx)
    seconds = None
    if duration is not None:
        from ircli.clock import parse_duration

        seconds = parse_duration(duration)
        if seconds is None or seconds <= 0:
            raise InvalidInput(f"--duration {duration!r} is not a duration such as 90s or 8h.")
    path = resolve_watch(watchfile, state.environment.cwd)
    from ircli.yamlfile import load_yaml_file

    written = load_yaml_file(path).data
    ref = profile or state.settings.profile
    if ref is None and isinstance(written, dict) and isinstance(written.get("profile"), str):
        ref = written["profile"]
    display = state.display
    if check:  # nothing opened, nothing contacted
        from ircli.cli.playbook import profile_to_check

        if ref is None:
            raise InvalidInput("no platform profile given; pass --profile NAME|PATH.")
        against = profile_to_check(state, ref, {})
        _checked(display, load_watch(path, profile=against, webhooks=None))
        return
    state.act_as(WATCH_OPERATOR.format(operator=state.settings.operator))
    workspace = state.workspace()
    loaded = load_platform(workspace, ref)
    from ircli.playbook.webhooks import KnownWebhooks

    known = KnownWebhooks(workspace.webhooks, workspace.env)
    spec = load_watch(path, profile=loaded.profile, webhooks=known)

    async def main(stop: asyncio.Event) -> WatchSummary:
        from ircli.watch.service import WatchSession

        session = WatchSession(
            workspace,
            loaded,
            spec,
            stop=stop,
            on_message=lambda level, text: _say(display, level, text),
        )
        async with _live(display, session):
            return await session.run(duration=seconds, until_responded=once)

    summary = run_draining(main, display)
    _show(display, summary)
    if any(r["state"] in ("failed", "refused", "expired") for r in summary.responses):
        raise typer.Exit(ExitCode.FAILED)
    if summary.status_reason == "stopped by the operator":
        raise typer.Exit(ExitCode.INTERRUPTED)


def _checked(display: Display, loaded: LoadedWatch) -> None:
    spec = loaded.watch
    if display.json_mode:
        display.json(
            {
                "watch": spec.name,
                "signals": sorted(spec.signals),
                "rules": [
                    {
                        "name": name,
                        "playbook": None if rule.respond is None else rule.respond.playbook,
                        "approval": None if rule.respond is None else rule.respond.approval,
                    }
                    for name, rule in spec.rules.items()
                ],
            }
        )
        return
    display.result(
        f"{spec.source}: ok: watch {spec.name}, {len(spec.signals)} signal(s), "
        f"{len(spec.rules)} rule(s)"
    )


def _say(display: Display, level: str, text: str) -> None:
    if level == "info":
        display.info(text)
    elif level == "warning":
        display.warning(text)
    else:
        display.error(text)


def summary_data(summary: WatchSummary) -> dict[str, Any]:
    """The JSON form of a finished watch."""
    return {
        "session": summary.session,
        "status_reason": summary.status_reason,
        "polls": summary.polls,
        "failed_polls": summary.failed_polls,
        "fired": summary.fired,
        "responses": summary.responses,
        "reverted_runs": summary.reverted,
        "http_requests": summary.http_requests,
    }


def _show(display: Display, summary: WatchSummary) -> None:
    data = summary_data(summary)
    if display.json_mode:
        display.json(data)
        return
    display.result(
        f"watch {summary.session} stopped ({summary.status_reason}): {summary.polls:,} polls, "
        f"{summary.failed_polls:,} failed, {len(summary.fired)} rule(s) fired"
    )
    for response in summary.responses:
        display.result(
            f"rule {response['rule']}: incident {response['incident']}, {response['state']}"
            + (f", run {response['run']} {response['run_status']}" if response["run"] else "")
        )


class _live:
    """The live status on stderr (a terminal only): signals, baselines, rules, responses."""

    def __init__(self, display: Display, session: WatchSession) -> None:
        self.display = display
        self.session = session
        self.live: Any = None
        self.task: Any = None
        self.soft_wrap = True

    async def __aenter__(self) -> None:
        import asyncio

        if self.display.json_mode or not self.display.err.is_terminal:
            return
        from rich.live import Live

        # Soft wrapping makes Live cut its lines at the terminal's width: wrap them while it
        # runs (an approval command must stay whole), as the console had it afterwards.
        self.soft_wrap, self.display.err.soft_wrap = self.display.err.soft_wrap, False
        self.live = Live(self.render(), console=self.display.err, refresh_per_second=4)
        self.live.start()

        async def refresh() -> None:
            while True:
                await asyncio.sleep(0.25)
                self.live.update(self.render())

        self.task = asyncio.create_task(refresh())

    async def __aexit__(self, *_exc: object) -> None:
        if self.task is not None:
            self.task.cancel()
        if self.live is not None:
            self.live.update(self.render())
            self.live.stop()
            self.display.err.soft_wrap = self.soft_wrap

    def render(self) -> Any:
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        snapshot = self.session.snapshot()
        signals = Table(title=f"watch {self.session.watch.watch.name}", expand=False)
        for column in ("signal", "value", "baseline", "read at", "problem"):
            signals.add_column(column)
        for s in snapshot["signals"]:
            value = "…" if s["value"] is None else f"{s['value']:,}" + ("+" if s["capped"] else "")
            baseline = "warming up" if s["baseline"] is None else f"{s['baseline']:,.1f}"
            signals.add_row(
                s["name"], value, baseline, (s["at"] or "")[11:19], safe(s["error"] or "")
            )
        rules = Table(expand=False)
        for column in ("rule", "state", "conditions"):
            rules.add_column(column)
        for r in snapshot["rules"]:
            marks = {True: "✓", False: "·", None: "?"}
            conditions = "\n".join(f"{marks[c['holds']]} {c['condition']}" for c in r["conditions"])
            state = r["status"] + (f" since {r['held_since'][11:19]}" if r["held_since"] else "")
            rules.add_row(r["name"], state, conditions)
        parts: list[Any] = [signals, rules]
        for response in snapshot["responses"]:
            line = (
                f"rule {response['rule']} → incident {response['incident'] or '…'}: "
                f"{response['state']}"
            )
            if response["state"] == "awaiting_approval":
                line += f" (approve with: ircli runs approve {response['plan_run']})"
            parts.append(Text(line, overflow="fold"))  # wrapped, never cut: a command to copy
        return Group(*parts)
