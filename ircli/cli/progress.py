"""Live progress for a run (Rich), fed by engine events, and the summary that follows."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ircli.cli.display import Column, Display

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from ircli.executor.events import Event
    from ircli.executor.service import RunOutcome

__all__ = ["RunProgress", "outcome_json", "print_outcome", "redrawing", "resume_hint"]


@asynccontextmanager
async def redrawing(progress: Progress, draw: Callable[[bool], None]) -> AsyncIterator[None]:
    """Show ``progress`` while the block runs: ``draw(False)`` every 0.1 s, ``draw(True)``
    once at the end (also when the block fails or is cancelled)."""

    async def redraw() -> None:
        while True:
            draw(False)
            await asyncio.sleep(0.1)

    with progress:
        drawer = asyncio.create_task(redraw())
        try:
            yield
        finally:
            drawer.cancel()
            draw(True)


class RunProgress:
    """Counts events cheaply; a timer redraws the bar a few times per second."""

    def __init__(self, display: Display, action: str, total: int) -> None:
        self.display = display
        self.action = action
        self.total = total
        self.settled = 0
        self.failed = 0
        """Targets the platform refused for good."""
        self.unresolved = 0
        """Targets given up on for now (retries spent, or not sent): for ``runs resume``."""
        self.retries = 0
        """Retries scheduled so far (a target retried twice counts twice)."""
        self.messages: list[str] = []
        self._store_failing = False
        self._immediate = False
        """Whether messages are printed as they come (no live display to print them)."""

    def __call__(self, event: Event) -> None:
        from ircli.executor.events import (
            BreakerClosed,
            BreakerOpened,
            CheckUnreadable,
            RetryScheduled,
            RunPaused,
            StoreFailing,
            StoreRecovered,
            TargetsSettled,
        )

        if isinstance(event, TargetsSettled):
            self.settled += len(event.targets)
            if not event.result.outcome.final:
                self.unresolved += len(event.targets)
            elif not event.result.outcome.succeeded:
                self.failed += len(event.targets)
        elif isinstance(event, RetryScheduled):
            self.retries += event.count
        elif isinstance(event, BreakerOpened):
            self.messages.append(
                f"platform failing at {event.url} ({event.cause}; {event.failures} in a row): "
                f"requests paused, next health probe in {event.probe_in:g} s"
            )
        elif isinstance(event, BreakerClosed):
            self.messages.append("platform answering again: resuming")
        elif isinstance(event, RunPaused):
            self.messages.append(f"pausing the run: {event.reason}")
        elif isinstance(event, CheckUnreadable) and event.reason not in self.messages:
            self.messages.append(event.reason)
        elif isinstance(event, StoreFailing) and not self._store_failing:
            self._store_failing = True
            self.messages.append(
                f"the audit store {event.store} refused a write ({event.cause.rstrip('.')}): "
                "nothing new is sent until it takes writes again; retrying"
            )
        elif isinstance(event, StoreRecovered):
            self._store_failing = False
            self.messages.append(f"the audit store {event.store} takes writes again: resuming")
        if self._immediate:
            self._flush_messages()  # no live display: said at once, not after the run

    @asynccontextmanager
    async def shown(self) -> AsyncIterator[None]:
        """Draw a progress bar on stderr while the block runs (only on a terminal)."""
        if not self.display.err.is_terminal or self.display.json_mode:
            self._immediate = True
            try:
                yield
            finally:
                self._immediate = False
            self._flush_messages()
            return
        progress = Progress(
            *self._columns(self.display.err.width), console=self.display.err, transient=False
        )
        task = progress.add_task(
            self.action, total=self.total, failed=0, unresolved=0, retries=0, rate=""
        )
        loop = asyncio.get_running_loop()
        started = loop.time()

        def show(**more: Any) -> None:
            progress.update(
                task,
                completed=self.settled,
                failed=self.failed,
                unresolved=self.unresolved,
                retries=self.retries,
                **more,
            )
            self._flush_messages(progress)

        def draw(final: bool) -> None:
            if final:
                show()
            else:
                show(rate=f"{self.settled / max(loop.time() - started, 1e-6):,.0f}/s")

        async with redrawing(progress, draw):
            yield

    def _columns(self, width: int) -> list[ProgressColumn]:
        """The bar's columns for a terminal ``width`` wide: counts are never cut; the bar
        narrows, and percent, retries, rate and time left show only where they fit."""
        digits = len(f"{max(self.total, 1):,}") + 1
        counts = TextColumn("failed {task.fields[failed]}  left {task.fields[unresolved]}")
        # description, done/total, the counts, elapsed time; a space between columns
        core = len(self.action) + 2 * digits + 1 + len("failed   left ") + 2 * digits + 7 + 5
        extras: list[ProgressColumn] = [
            TaskProgressColumn(),
            TextColumn("retries {task.fields[retries]}"),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
        ]
        extra = 4 + len("retries ") + digits + len("100,000/s") + 7 + len(extras)
        wide = width - core >= 40 + extra
        bar = BarColumn(bar_width=40 if wide else max(5, min(40, width - core)))
        return [
            TextColumn("{task.description}"),
            bar,
            MofNCompleteColumn(),
            *(extras[:1] if wide else []),
            counts,
            *(extras[1:3] if wide else []),
            TimeElapsedColumn(),
            *(extras[3:] if wide else []),
        ]

    def _flush_messages(self, progress: Progress | None = None) -> None:
        while self.messages:
            message = self.messages.pop(0)
            if progress is not None:
                progress.console.print(message, markup=False)
            else:
                self.display.warning(message)


def outcome_json(outcome: RunOutcome) -> dict[str, Any]:
    """The ``--json`` summary of a run."""
    report = outcome.report
    elapsed = report.elapsed
    settled = len(report.results) - report.counts()["retryable"]
    return {
        "run": outcome.spec.run,
        "action": outcome.spec.action,
        "status": report.status,
        "status_reason": report.reason,
        "reason": outcome.spec.reason,
        "store_failed": report.store_failed,
        "targets": len(outcome.spec.targets),
        "counts": outcome.counts,
        "http_requests": outcome.http_requests,
        "retries": report.retries,
        "elapsed_seconds": round(elapsed, 3),
        "actions_per_second": round(settled / elapsed, 1) if elapsed > 0 else None,
        "audit_head": None
        if outcome.head is None
        else {"seq": outcome.head.seq, "hash": outcome.head.hash},
    }


def print_outcome(display: Display, data: dict[str, Any]) -> None:
    """The human summary table of ``outcome_json`` data."""
    counts = data["counts"]
    display.table(
        ("run", Column("action", drop=1), "status", "targets", "done",
         Column("already", drop=3), "failed", "left", Column("requests", drop=4),
         Column("retries", drop=5), Column("elapsed", drop=2), Column("rate", drop=6)),
        [(
            data["run"], data["action"], data["status"], data["targets"], counts["done"],
            counts["already_done"], counts["failed"],
            counts["retryable"] + counts["unknown"] + counts["untouched"],
            sum(data["http_requests"].values()), data["retries"],
            f"{data['elapsed_seconds']:.1f}s",
            f"{data['actions_per_second']:,.0f}/s" if data["actions_per_second"] else "-",
        )],
    )  # fmt: skip
    if counts["protected"]:
        display.result(f"protected: {counts['protected']:,} targets held back (not sent)")
    head = data["audit_head"]
    if head:
        display.result(f"audit head {head['seq']}:{head['hash']}")


def resume_hint(display: Display, data: dict[str, Any]) -> None:
    """On stderr, for a run that did not finish: how to continue it (also with ``--json``)."""
    if data["store_failed"]:
        display.error(
            f"{data['status_reason']} Targets sent without a recorded outcome are checked or "
            "resent with the same keys on resume.",
            f"When the store takes writes again: ircli runs resume {data['run']}",
        )
    elif data["status"] in ("interrupted", "paused", "incomplete"):
        display.warning(
            f"run {data['run']} is {data['status']}"
            + (f" ({data['status_reason']})" if data["status_reason"] else "")
            + f"; continue it with: ircli runs resume {data['run']}"
        )
