"""When things happen in the world on their own: the swarm's streams, and a timed world's life.

``Swarm`` says how many attacker streams are due by a moment and when the k-th one starts: at
``bot_rate`` from the world's start in the default world (its attack began before), or, in a
timed world, nothing until ``attack_start_seconds`` and then a rate ramping from 0 to
``bot_rate`` over ``attack_ramp_seconds``. ``Background`` draws a timed world's own events:
honest streams starting and ending, and user reports arriving on live streams (on malicious
ones at a rate that grows with them). All times are elapsed seconds or epoch seconds of the
injected clock; nothing here reads a clock or changes the world.
"""

from __future__ import annotations

import math
import random

from ircli.sandbox.world import WorldConfig

__all__ = [
    "CATCH_UP_SECONDS",
    "HONEST_END",
    "HONEST_REPORT",
    "HONEST_START",
    "MALICIOUS_REPORT",
    "MALICIOUS_REPORTS_MAX",
    "Background",
    "Swarm",
]

HONEST_START, HONEST_END, HONEST_REPORT, MALICIOUS_REPORT = range(4)
MALICIOUS_REPORTS_MAX = 50.0
"""Reports on malicious streams per second at most, however many are live."""
CATCH_UP_SECONDS = 120.0
"""After a longer spell without requests, only this last stretch of background events is drawn:
the work a request does to catch up stays bounded however long the sandbox was idle."""
_RECHECK = 1.0
"""At most this long between two looks at the rate of reports on malicious streams (it
changes with them); arrivals are memoryless, so drawing the next one again is exact."""


class Swarm:
    """How many attacker streams are due ``elapsed`` seconds after the start (``due``), and
    when the k-th one starts (``moment``)."""

    __slots__ = ("ramp", "rate", "start")

    def __init__(self, config: WorldConfig) -> None:
        self.rate = config.bot_rate
        self.start = config.attack_start_seconds
        self.ramp = config.attack_ramp_seconds

    def due(self, elapsed: float) -> int:
        """How many attacker streams are due by ``elapsed`` seconds after the world's start."""
        rate = self.rate
        if rate <= 0:
            return 0
        if self.start is None:
            return int(elapsed * rate)
        since = elapsed - self.start
        if since <= 0:
            return 0
        ramp = self.ramp
        if since < ramp:
            return int(rate * since * since / (2 * ramp))
        return int(rate * (ramp / 2 + since - ramp))

    def moment(self, tick: int) -> float:
        """The elapsed seconds at which the ``tick``-th attacker stream (from 1) is due."""
        rate = self.rate
        if self.start is None:
            return tick / rate
        ramp = self.ramp
        ramped = rate * ramp / 2  # streams due by the end of the ramp
        if tick <= ramped:
            return self.start + math.sqrt(2 * ramp * tick / rate)
        return self.start + ramp + (tick - ramped) / rate


class Background:
    """The next moment of each kind of background event of a timed world (Poisson arrivals)."""

    __slots__ = ("next", "per_stream", "rates", "report_due", "rng")

    def __init__(self, config: WorldConfig, start: float) -> None:
        self.rng = random.Random(config.seed * 7_919 + 2)
        churn = config.honest_churn_rate
        self.rates = (churn, churn, config.report_rate)
        self.per_stream = config.malicious_report_rate
        self.next = [start + self._gap(rate) for rate in self.rates]
        self.next.append(start)
        self.report_due = False  # whether the next malicious-report moment is a report

    def _gap(self, rate: float) -> float:
        return self.rng.expovariate(rate) if rate > 0 else math.inf

    def peek(self) -> tuple[float, int]:
        """The moment and kind of the next event."""
        kind = min(range(len(self.next)), key=self.next.__getitem__)
        return self.next[kind], kind

    def consume(self, kind: int, moment: float, malicious_live: int) -> bool:
        """The moment of ``kind`` came: draw the next one; whether this one is an event to
        play (for reports on malicious streams it may be only a look at their rate)."""
        if kind != MALICIOUS_REPORT:
            self.next[kind] = moment + self._gap(self.rates[kind])
            return True
        due = self.report_due
        gap = self._gap(min(MALICIOUS_REPORTS_MAX, malicious_live * self.per_stream))
        self.report_due = gap <= _RECHECK
        self.next[kind] = moment + min(gap, _RECHECK)
        return due

    def skip_before(self, horizon: float) -> None:
        """Forget events due before ``horizon``: the arrivals restart from there."""
        for kind, moment in enumerate(self.next):
            if moment < horizon:
                if kind == MALICIOUS_REPORT:
                    self.next[kind], self.report_due = horizon, False
                else:
                    self.next[kind] = horizon + self._gap(self.rates[kind])
