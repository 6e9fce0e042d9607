"""``ircli watch``: poll the signals, judge the rules, and respond when one fires.

One task per signal polls it every ``every`` seconds (a late poll skips the ticks it missed,
it never bursts). After each sample the rules over that signal are judged
(``ircli.watch.rules``); a rule that fires gets a response task (``ircli.watch.respond``):
an incident detected when the rule first held, the webhooks, and the linked playbook —
planned and waiting for a person's approval, or run at once when pre-approved. While it runs
the watch also reverts the flag changes whose time is up (``ircli.executor.reverts``).

Every record the watch writes says ``automated: true``. The watch stops on the stop event
(Ctrl-C), after ``duration``, or — for drills — once its first response is over.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ircli.audit.records import NewRecord
from ircli.clock import format_epoch
from ircli.errors import IrcliError, OperationFailed
from ircli.platform.sent import counting, http_requests
from ircli.watch.rules import RuleState, Sample, SignalState
from ircli.watch.signals import read_signal

if TYPE_CHECKING:
    from ircli.executor.service import LoadedProfile, Workspace
    from ircli.watch.loader import LoadedWatch
    from ircli.watch.respond import Response

__all__ = [
    "HOUSEKEEPING_SECONDS",
    "Message",
    "WatchSession",
    "WatchSummary",
    "new_watch_id",
    "storable",
]

HOUSEKEEPING_SECONDS = 10.0
"""How often the flag changes whose time is up are looked for."""
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

Message = Callable[[str, str], None]
"""``(level, text)``: info, warning or error — what the watch tells the person watching."""


def new_watch_id(now: datetime) -> str:
    """``WATCH-YYYYMMDD-XXXXXX``: the session's id (the ``run`` of its records)."""
    return f"WATCH-{now:%Y%m%d}-" + "".join(secrets.choice(_ALPHABET) for _ in range(6))


@dataclass
class WatchSummary:
    """How a watch session ended."""

    session: str
    status_reason: str
    polls: int
    failed_polls: int
    fired: list[dict[str, Any]] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    reverted: list[str] = field(default_factory=list)
    http_requests: dict[str, int] = field(default_factory=dict)


class WatchSession:
    """One ``ircli watch`` run over a loaded watch file."""

    def __init__(
        self,
        workspace: Workspace,
        loaded: LoadedProfile,
        watch: LoadedWatch,
        *,
        stop: asyncio.Event,
        on_message: Message = lambda level, text: None,
        pre_approve: bool = False,
        title_prefix: str = "",
    ) -> None:
        from ircli.watch.model import conditions_of

        self.workspace = workspace
        self.loaded = loaded
        self.watch = watch
        self.stop = stop
        self.say = on_message
        self.pre_approve = pre_approve
        """A drill's: every response runs at once, within the file's guardrails."""
        self.title_prefix = title_prefix
        spec = watch.watch
        by_signal = conditions_of(spec.rules)
        self.signals = {
            name: SignalState(signal, by_signal.get(name, ()))
            for name, signal in spec.signals.items()
        }
        self.rules = {name: RuleState(rule) for name, rule in spec.rules.items()}
        self.session = new_watch_id(workspace.store.clock())
        self.polls = 0
        self.failed_polls = 0
        self.responses: list[Response] = []
        self.fired: list[dict[str, Any]] = []
        self.reverted: list[str] = []
        self._tasks: list[asyncio.Task[Any]] = []
        self._blind: dict[str, float] = {}
        """The signals that stopped answering, since when (the store's clock)."""

    # -- records ---------------------------------------------------------------------------

    def record(self, kind: str, *, incident: str | None = None, **params: Any) -> None:
        """Append a watch record (``automated: true``) to the audit store; whole numbers
        are stored as integers, others as their decimal text (the audit hash takes no
        floats)."""
        self.workspace.store.append(
            NewRecord(
                kind=kind,
                incident=incident,
                run=self.session,
                params=storable({**params, "automated": True}),
            )
        )

    def now(self) -> float:
        """The store's clock, as epoch seconds (the sandbox of a drill keeps the same)."""
        return self.workspace.store.clock().timestamp()

    # -- the loop ----------------------------------------------------------------------------

    async def run(
        self,
        *,
        duration: float | None = None,
        until_responded: bool = False,
        fire_within: float | None = None,
    ) -> WatchSummary:
        """Watch until the stop event, ``duration`` seconds, or (``until_responded``) the
        end of the first response; with ``fire_within`` (a drill's), stop when no rule has
        fired that many seconds after the start. See the module text."""
        source = Path(self.watch.watch.source)
        sha = hashlib.sha256(source.read_bytes()).hexdigest() if source.is_file() else ""
        spec = self.watch.watch
        self.record(
            "watch.started",
            summary=f"watch {spec.name} started",
            watch={"name": spec.name, "source": spec.source, "sha256": sha},
            profile=self.loaded.ref,
            profile_sha256=self.loaded.sha256,
            signals=sorted(spec.signals),
            rules=sorted(spec.rules),
            pre_approved=self.pre_approve,
        )
        self.done = asyncio.Event()
        self.until_responded = until_responded
        with counting() as tally:
            try:
                reason = await self._watch(duration, fire_within)
            except IrcliError as exc:
                self._stopped(f"failed: {exc.message}", tally)
                raise
            return self._stopped(reason, tally)

    async def _watch(self, duration: float | None, fire_within: float | None) -> str:
        """The pollers and housekeeping until a stop; why it stopped."""
        pollers = [asyncio.create_task(self._poll(name)) for name in self.signals]
        keeper = asyncio.create_task(self._housekeeping())
        waits = [asyncio.create_task(self.stop.wait()), asyncio.create_task(self.done.wait())]
        workers = [*pollers, keeper]  # they loop for ever: one that ends has failed
        try:
            began = time.monotonic()
            await self._first_round(workers)
            finished: set[asyncio.Task[Any]] = set()
            if fire_within is not None:
                left = fire_within - (time.monotonic() - began)
                finished, _pending = await asyncio.wait(
                    [*waits, *workers], timeout=max(0.0, left), return_when=asyncio.FIRST_COMPLETED
                )
                _raise_if_ended(workers)
                if not finished and not self.responses:
                    return f"no rule fired within {fire_within:g} s"
            if not finished:
                rest = None if duration is None else duration - (time.monotonic() - began)
                finished, _pending = await asyncio.wait(
                    [*waits, *workers],
                    timeout=None if rest is None else max(0.0, rest),
                    return_when=asyncio.FIRST_COMPLETED,
                )
                _raise_if_ended(workers)
        finally:
            for task in (*pollers, keeper, *waits):
                task.cancel()
            await asyncio.gather(*pollers, keeper, *waits, return_exceptions=True)
            self.stop.set()  # responses still running drain: their runs stop resumable
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if not finished:
            return f"ran for {time.monotonic() - began:.0f} s"
        return "the response is over" if waits[1] in finished else "stopped by the operator"

    def _stopped(self, reason: str, tally: Mapping[str, int]) -> WatchSummary:
        summary = WatchSummary(
            session=self.session,
            status_reason=reason,
            polls=self.polls,
            failed_polls=self.failed_polls,
            fired=self.fired,
            responses=[r.as_dict() for r in self.responses],
            reverted=self.reverted,
            http_requests=http_requests(tally),
        )
        self.record(
            "watch.stopped",
            summary=f"watch {self.watch.watch.name} stopped: {reason}",
            status_reason=reason,
            polls=summary.polls,
            failed_polls=summary.failed_polls,
            fired=len(summary.fired),
            http_requests=summary.http_requests,
        )
        return summary

    async def _first_round(self, workers: list[asyncio.Task[Any]]) -> None:
        """Every signal read once — or the watch stops at once, naming the platform and why:
        a watch that cannot see must not look as if it watched."""
        while any(s.latest is None and not s.failures for s in self.signals.values()):
            if self.stop.is_set():
                return
            _raise_if_ended(workers)
            await asyncio.sleep(0.05)
        for name, state in self.signals.items():
            if state.latest is None:
                raise OperationFailed(
                    f"cannot read signal {name} from {self.loaded.profile.base_url}: "
                    f"{(state.last_error or 'no answer').rstrip('.')}; nothing was watched."
                )

    async def _poll(self, name: str) -> None:
        from ircli.executor.service import platform_client
        from ircli.platform.secrets import auth_headers

        state = self.signals[name]
        signal = state.signal
        profile = self.loaded.profile
        headers = auth_headers(profile, self.workspace.env, self.workspace.redactor)
        async with platform_client(profile, headers, self.workspace.env, concurrency=1) as client:
            began = time.monotonic()
            tick = 0
            while True:
                try:
                    value, capped = await read_signal(
                        client, profile, signal, headers, self.workspace.store.clock()
                    )
                except IrcliError as exc:
                    self.failed_polls += 1
                    state.failed(exc.message)
                    if state.latest is not None:  # else the first round says it, once
                        self._lost(name, exc.message, profile.base_url)
                else:
                    self.polls += 1
                    failures = state.failures
                    state.add(Sample(self.now(), value, capped))
                    if name in self._blind:
                        self._restored(name, failures)
                    self._judge(name)
                # the next tick not yet begun: a slow poll skips ticks, it never bursts
                tick = max(tick + 1, int((time.monotonic() - began) / signal.every) + 1)
                await asyncio.sleep(max(0.0, began + tick * signal.every - time.monotonic()))

    def _lost(self, name: str, error: str, url: str) -> None:
        """A signal that answered stopped answering: said at once and every 10th failure,
        and put on record once — a post-mortem must see when the watch could not see."""
        failures = self.signals[name].failures
        if failures == 1 or failures % 10 == 0:
            self.say("warning", f"signal {name}: {error}")
        if name not in self._blind:
            self._blind[name] = self.now()
            self.record(
                "watch.signal_lost",
                signal=name,
                url=url,
                error=error,
                summary=f"signal {name} could not be read from {url}: {error}",
            )

    def _restored(self, name: str, failures: int) -> None:
        blind = self.now() - self._blind.pop(name)
        self.say("info", f"signal {name}: read again after {blind:.0f} s")
        self.record(
            "watch.signal_restored",
            signal=name,
            failed_polls=failures,
            blind_seconds=round(blind),
            summary=f"signal {name} read again after {blind:.0f} s ({failures} failed polls)",
        )

    def _judge(self, signal: str) -> None:
        now = self.now()
        for state in self.rules.values():
            if signal not in state.rule.signals:
                continue
            evidence = state.update(self.signals, now)
            if evidence is not None:
                self._fire(state, evidence)

    def _fire(self, state: RuleState, evidence: Any) -> None:
        from ircli.watch.respond import Response

        response = Response(self, state.rule, evidence)
        self.responses.append(response)
        self._tasks = [task for task in self._tasks if not task.done()]
        self._tasks.append(asyncio.create_task(self._respond(response)))

    async def _respond(self, response: Response) -> None:
        try:
            await response.run()
        except IrcliError as exc:
            response.failed(exc.message)
            self.say("error", f"rule {response.rule.name}: {exc.message}")
        except Exception as exc:  # a bug: said, and the response marked failed, not lost
            why = f"internal error ({type(exc).__name__}: {exc})"
            response.failed(why)
            self.say("error", f"rule {response.rule.name}: {why}")
            raise
        finally:
            if self.until_responded and all(r.over for r in self.responses):
                self.done.set()

    async def _housekeeping(self) -> None:
        """Set back the flag changes whose time is up, as ``ircli runs due`` would."""
        from ircli.executor.reverts import ExpiryScan, revert_due

        scan = ExpiryScan()  # each round reads only the runs started since the last
        while True:
            await asyncio.sleep(HOUSEKEEPING_SECONDS)
            try:
                results = await revert_due(
                    self.workspace, self.workspace.store.clock(), stop=self.stop, scan=scan
                )
            except IrcliError as exc:
                self.say("error", f"expired flag changes: {exc.message}")
                continue
            for result in results:
                what = f"{result.expiry.target} (changed by {result.expiry.run})"
                if result.status == "reverted" and result.run is not None:
                    self.reverted.append(result.run)
                    self.say("info", f"set back {what}: run {result.run}")
                elif result.status == "failed":
                    self.say("error", f"could not set back {what}: {result.error}")

    # -- for the display ---------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Signals with their latest value and baseline, rules with their state."""
        now = self.now()
        return {
            "signals": [
                {
                    "name": name,
                    "value": None if s.latest is None else s.latest.value,
                    "capped": bool(s.latest and s.latest.capped),
                    "baseline": s.baseline(now + 1e-6),
                    "at": None if s.latest is None else format_epoch(s.latest.at),
                    "failures": s.failures,
                    "error": s.last_error,
                }
                for name, s in self.signals.items()
            ],
            "rules": [
                {
                    "name": name,
                    "status": r.status,
                    "held_since": None if r.held_since is None else format_epoch(r.held_since),
                    "conditions": [
                        {"condition": text, "holds": v.holds, "value": v.value}
                        for text, v in r.verdicts
                    ],
                }
                for name, r in self.rules.items()
            ],
            "responses": [r.as_dict() for r in self.responses],
        }


def storable(value: Any) -> Any:
    """``value`` for an audit record: whole floats as integers, then ``audit_safe``."""
    from ircli.audit.chain import audit_safe

    def whole(item: Any) -> Any:
        if isinstance(item, float) and item.is_integer() and abs(item) < 2**53:
            return int(item)
        if isinstance(item, dict):
            return {key: whole(v) for key, v in item.items()}
        if isinstance(item, list | tuple):
            return [whole(v) for v in item]
        return item

    return audit_safe(whole(value))


def _raise_if_ended(workers: list[asyncio.Task[Any]]) -> None:
    """A poller or the housekeeping loops until cancelled: one that ended failed. Its error
    stops the watch (exit 1, said) rather than leaving a signal unwatched in silence."""
    for task in workers:
        if task.done() and not task.cancelled():
            error = task.exception()
            if error is not None:
                raise error
            raise OperationFailed("a watch task ended on its own; the watch stops.")
