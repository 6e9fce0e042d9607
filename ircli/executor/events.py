"""Engine events, in the past tense; the CLI subscribes to draw progress."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ircli.executor.journal import TargetResult

__all__ = [
    "BreakerClosed",
    "BreakerOpened",
    "Event",
    "EventSink",
    "RetryScheduled",
    "RunPaused",
    "StoreFailing",
    "StoreRecovered",
    "TargetsSettled",
    "ignore",
]


@dataclass(frozen=True)
class TargetsSettled:
    """Targets reached a final outcome (or gave up retrying), all the same one."""

    targets: tuple[str, ...]
    result: TargetResult


@dataclass(frozen=True)
class RetryScheduled:
    """Targets will be tried again after ``delay`` seconds."""

    count: int
    delay: float
    reason: str


@dataclass(frozen=True)
class BreakerOpened:
    """The platform looks down: work is paused until a probe succeeds."""

    failures: int
    url: str = ""
    """The request that failed last."""
    cause: str = ""
    """Its failure: ``HTTP 503``, ``connect: cannot connect to …``."""
    probe_in: float = 0.0
    """Seconds until the first health probe."""


@dataclass(frozen=True)
class BreakerClosed:
    """A probe succeeded: work resumes."""


@dataclass(frozen=True)
class RunPaused:
    """The run stopped taking work and must be resumed later."""

    reason: str


@dataclass(frozen=True)
class CheckUnreadable:
    """A check read before resending could not be used (its target stays unknown)."""

    reason: str


@dataclass(frozen=True)
class StoreFailing:
    """The audit store refused a write: nothing new is sent until a retry succeeds."""

    store: str
    cause: str
    retry_in: float


@dataclass(frozen=True)
class StoreRecovered:
    """The audit store takes writes again: the run goes on."""

    store: str


Event = (
    TargetsSettled
    | RetryScheduled
    | BreakerOpened
    | BreakerClosed
    | RunPaused
    | CheckUnreadable
    | StoreFailing
    | StoreRecovered
)
EventSink = Callable[[Event], None]


def ignore(_event: Event) -> None:
    """The default sink."""
