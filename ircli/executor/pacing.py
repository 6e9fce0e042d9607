"""Pacing primitives: token bucket, backoff with full jitter, Retry-After, retry budget."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = ["RetryBudget", "TokenBucket", "backoff_delay", "parse_retry_after"]


class TokenBucket:
    """An async token bucket: ``rate`` tokens per second, at most ``burst`` stored.

    It adapts to the platform, AIMD-style: ``slow_down`` (a 429, a ``Retry-After``) halves
    the rate requests actually went out at (the configured rate may be far above what the
    client reaches; never below ``FLOOR`` of the fastest rate measured nor ``FLOOR_RATE``),
    empties the bucket and holds every acquirer until the platform's wait is over, so the run
    slows as one and nobody bursts when the hold ends; then the rate climbs back by
    ``RECOVERY`` of the cut rate per second, up to the configured rate.
    """

    RECOVERY = 0.05
    """Rate regained per second after a cut, as a fraction of the rate the cut left."""
    CUT_WINDOW = 0.25
    """Seconds after a cut during which further 429s (the requests in flight then) cut no more."""
    FLOOR = 1 / 8
    """A cut never takes the rate below this share of the fastest rate measured in the run,
    nor below ``FLOOR_RATE`` (unless the configured rate is lower): sporadic 429s (one
    endpoint's quota, a busy node) must not starve a run to a trickle; their holds still
    apply."""
    FLOOR_RATE = 20.0
    WINDOW = 1.0
    """Seconds per window of the sending-rate measure (the busier of the last two counts)."""
    SAMPLE = 0.1
    """The shortest span a rate is measured over."""

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.ceiling = rate
        self.rate = rate
        self._fixed_burst = burst
        self._tokens = self.burst
        self._monotonic = monotonic
        self._updated = monotonic()
        self._lock = asyncio.Lock()
        self._hold_until = 0.0
        self._cut_at: float | None = None
        self._climb = 0.0
        self.cuts = 0
        self._window_start: float | None = None
        """When the current window began: the first acquire, or the end of the last hold."""
        self._window_sent = 0.0
        self._previous_rate: float | None = None
        self._last_sent = 0.0
        self._peak = 0.0
        """The fastest full window's sending rate so far."""

    @property
    def burst(self) -> float:
        """Tokens the bucket holds at most (by default a twentieth of a second's worth)."""
        if self._fixed_burst is not None:
            return self._fixed_burst
        return max(1.0, self.rate / 20)

    def _refill(self) -> None:
        now = self._monotonic()
        elapsed = max(0.0, now - self._updated)
        if self.rate < self.ceiling:
            self.rate = min(self.ceiling, self.rate + elapsed * self._climb)
        self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
        self._updated = now

    async def acquire(self, tokens: float = 1.0) -> None:
        """Wait until ``tokens`` are available and take them (FIFO under the lock)."""
        async with self._lock:
            hold = self._hold_until - self._monotonic()
            if hold > 0:
                await asyncio.sleep(hold)
            self._refill()
            if self._tokens < tokens:
                await asyncio.sleep((tokens - self._tokens) / self.rate)
                self._refill()
            self._tokens -= tokens
            self._count(tokens)

    def _count(self, tokens: float) -> None:
        now = self._last_sent = self._updated
        if self._window_start is None:
            self._window_start = now
        elif now - self._window_start >= self.WINDOW:
            self._previous_rate = self._window_sent / (now - self._window_start)
            self._peak = max(self._peak, self._previous_rate)
            self._window_start, self._window_sent = now, 0.0
        self._window_sent += tokens

    def _measured_rate(self, now: float) -> float | None:
        """The rate requests recently went out at, or ``None`` when there is nothing recent
        to measure (idle, or just after a hold)."""
        if self._window_start is None or now - self._last_sent > self.WINDOW:
            return None
        span = now - self._window_start
        measured = [self._previous_rate] if self._previous_rate is not None else []
        if self._window_sent:
            # Over at least SAMPLE seconds: a burst right after a hold is not a rate.
            measured.append(self._window_sent / max(span, self.SAMPLE))
        return max(measured) if measured else None

    def slow_down(self, wait: float | None = None) -> None:
        """The platform pushed back: halve the rate (once per ``CUT_WINDOW``), empty the
        bucket, and hold every acquire for ``wait`` seconds."""
        self._refill()
        now = self._monotonic()
        if self._cut_at is None or now - self._cut_at >= self.CUT_WINDOW:
            measured = self._measured_rate(now)
            if measured is not None:
                self._peak = max(self._peak, measured)
            sending = self.rate if measured is None else min(self.rate, measured)
            floor = min(self.ceiling, max(self.FLOOR_RATE, self._peak * self.FLOOR))
            self.rate = max(floor, sending / 2)
            self._climb = max(1.0, self.rate * self.RECOVERY)
            self._cut_at = now
            self.cuts += 1
        self._tokens = 0.0
        if wait:
            self._hold_until = max(self._hold_until, now + wait)
            self._updated = max(self._updated, self._hold_until)
        if self._window_start is None or self._window_start < self._updated:
            # Measure afresh once sending resumes: a hold is not a slow platform.
            self._window_start, self._window_sent = self._updated, 0.0
            self._previous_rate = None


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
    return rng.uniform(0.0, min(cap, base * (2 ** min(attempt, 30))))


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP-date."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    reference = now or datetime.now(UTC)
    return max(0.0, (moment - reference).total_seconds())


class RetryBudget:
    """Retries may add at most ``ratio`` of first attempts, plus ``floor``, to a run."""

    def __init__(self, ratio: float, floor: int = 20) -> None:
        self.ratio = ratio
        self.floor = floor
        self.first_attempts = 0
        self.retries = 0

    def record_first_attempt(self, count: int = 1) -> None:
        self.first_attempts += count

    def try_spend(self, count: int = 1) -> bool:
        """Take ``count`` retries from the budget if they fit."""
        allowed = self.floor + self.ratio * self.first_attempts
        if self.retries + count > allowed:
            return False
        self.retries += count
        return True
