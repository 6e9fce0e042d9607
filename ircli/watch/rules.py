"""Signals over time and the rules over them: pure state, no I/O, no clock of its own.

Each signal keeps a bounded window of samples (the baseline window divided by the poll
interval, plus two), so a watch running for days holds the same memory as one running for
minutes. The baseline is the median of the window's samples *before* the one being judged,
leaving out samples at which an ``above``, ``above_baseline`` or ``rate_above`` condition of
that signal held: a flood does not become its own baseline. A rule holds when every condition
holds on its signal's latest sample; it fires once it has held for ``for`` seconds, and fires
again only after it has been clear for ``cooldown`` seconds.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ircli.watch.model import Condition, Rule, Signal

__all__ = ["Evidence", "RuleState", "Sample", "SignalState", "Verdict"]

STALE_POLLS = 3
"""A signal whose last good sample is older than this many intervals is unknown."""
_RISING = ("above", "above_baseline", "rate_above")


@dataclass(frozen=True, slots=True)
class Sample:
    """One poll's value, at the moment the poll ended (epoch seconds)."""

    at: float
    value: int
    capped: bool = False


@dataclass(frozen=True, slots=True)
class Verdict:
    """A condition judged on one sample: whether it held, and what it compared."""

    holds: bool | None
    """``None``: not known (no sample yet, a stale signal, a baseline still warming up)."""
    value: float | None
    compared: float | None
    """The number the value was compared with (threshold, baseline × ratio, rate)."""


class SignalState:
    """A signal's recent samples, its baseline, and its conditions' latest verdicts."""

    def __init__(self, signal: Signal, conditions: Sequence[Condition]) -> None:
        self.signal = signal
        self.conditions = tuple(conditions)
        size = math.ceil(signal.baseline / signal.every) + 2
        self.window: deque[tuple[Sample, bool]] = deque(maxlen=size)
        """(sample, joins the baseline), oldest first."""
        self.verdicts: dict[int, Verdict] = {}
        """By ``id(condition)``: the verdict on the latest sample."""
        self.latest: Sample | None = None
        self.failures = 0
        self.last_error: str | None = None

    def baseline(self, now: float) -> float | None:
        """The median of the baseline window before ``now``; ``None`` while it has fewer than
        ``min_baseline_samples``."""
        start = now - self.signal.baseline
        values = [s.value for s, joins in self.window if joins and start <= s.at < now]
        if len(values) < self.signal.min_baseline_samples:
            return None
        return float(statistics.median(values))

    def rate(self, sample: Sample) -> float | None:
        """Growth per minute from the previous sample to ``sample``."""
        previous = self.latest
        if previous is None or sample.at <= previous.at:
            return None
        return (sample.value - previous.value) * 60.0 / (sample.at - previous.at)

    def add(self, sample: Sample) -> None:
        """Judge the conditions on ``sample``, then keep it."""
        baseline = self.baseline(sample.at)
        rate = self.rate(sample)
        rising = False
        for condition in self.conditions:
            verdict = judge(condition, sample.value, baseline, rate)
            self.verdicts[id(condition)] = verdict
            rising = rising or (bool(verdict.holds) and condition.kind in _RISING)
        self.window.append((sample, not rising))
        self.latest = sample
        self.failures = 0
        self.last_error = None

    def failed(self, error: str) -> None:
        """A poll failed (the platform, the network): the samples stay as they were."""
        self.failures += 1
        self.last_error = error

    def verdict(self, condition: Condition, now: float) -> Verdict:
        """The condition's verdict on the latest sample, unknown once that is stale."""
        latest = self.latest
        if latest is None or now - latest.at > STALE_POLLS * self.signal.every:
            return Verdict(None, None if latest is None else latest.value, None)
        return self.verdicts.get(id(condition), Verdict(None, latest.value, None))

    def recent(self, since: float) -> list[list[Any]]:
        """``[at, value]`` of the samples at or after ``since`` (the evidence of a firing)."""
        return [[s.at, s.value] for s, _joins in self.window if s.at >= since]


def judge(condition: Condition, value: int, baseline: float | None, rate: float | None) -> Verdict:
    """One condition on one value."""
    kind, threshold = condition.kind, condition.threshold
    if kind == "above":
        return Verdict(value > threshold, value, threshold)
    if kind == "below":
        return Verdict(value < threshold, value, threshold)
    if kind == "above_baseline":
        if baseline is None:
            return Verdict(None, value, None)
        return Verdict(value > threshold * baseline, value, threshold * baseline)
    if rate is None:
        return Verdict(None, value, None)
    return Verdict(rate > threshold, rate, threshold)


@dataclass(frozen=True)
class Evidence:
    """What a rule saw when it fired: each condition's verdict, each signal's recent samples."""

    rule: str
    held_since: float
    fired_at: float
    conditions: tuple[tuple[str, Verdict], ...]
    samples: Mapping[str, list[list[Any]]]
    baselines: Mapping[str, float | None]

    def values(self) -> dict[str, int | None]:
        """Each signal's value at firing."""
        return {name: (int(rows[-1][1]) if rows else None) for name, rows in self.samples.items()}


@dataclass
class RuleState:
    """Where a rule stands: quiet, holding since a moment, fired (and cooling down)."""

    rule: Rule
    held_since: float | None = None
    fired_at: float | None = None
    clear_since: float | None = None
    verdicts: list[tuple[str, Verdict]] = field(default_factory=list)

    @property
    def status(self) -> str:
        """``waiting`` (not every signal known), ``quiet``, ``holding``, ``fired``."""
        if self.fired_at is not None:
            return "fired"
        if self.held_since is not None:
            return "holding"
        if any(v.holds is None for _text, v in self.verdicts):
            return "waiting"
        return "quiet"

    def update(self, signals: Mapping[str, SignalState], now: float) -> Evidence | None:
        """Judge the rule at ``now``; the evidence when it fires at this moment."""
        self.verdicts = [(c.describe(), signals[c.signal].verdict(c, now)) for c in self.rule.when]
        holds = all(v.holds for _text, v in self.verdicts)
        if not holds:
            self.held_since = None
            if self.fired_at is not None:
                self.clear_since = self.clear_since if self.clear_since is not None else now
                if now - self.clear_since >= self.rule.cooldown:
                    self.fired_at = self.clear_since = None
            return None
        self.clear_since = None
        if self.held_since is None:
            self.held_since = now
        if self.fired_at is not None or now - self.held_since < self.rule.hold:
            return None
        self.fired_at = now
        return Evidence(
            rule=self.rule.name,
            held_since=self.held_since,
            fired_at=now,
            conditions=tuple(self.verdicts),
            samples={n: signals[n].recent(self.held_since) for n in self.rule.signals},
            baselines={n: signals[n].baseline(self.held_since) for n in self.rule.signals},
        )
