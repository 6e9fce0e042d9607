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
    """An async token bucket: ``rate`` tokens per second, at most ``burst`` stored."""

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate / 20)
        self._tokens = self.burst
        self._monotonic = monotonic
        self._updated = monotonic()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    async def acquire(self, tokens: float = 1.0) -> None:
        """Wait until ``tokens`` are available and take them (FIFO under the lock)."""
        async with self._lock:
            self._refill()
            if self._tokens < tokens:
                await asyncio.sleep((tokens - self._tokens) / self.rate)
                self._refill()
            self._tokens -= tokens


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
