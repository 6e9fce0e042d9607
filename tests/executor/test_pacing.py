"""Backoff, Retry-After parsing, the retry budget and the circuit breaker."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ircli.executor.breaker import CircuitBreaker
from ircli.executor.pacing import RetryBudget, TokenBucket, backoff_delay, parse_retry_after

NOW = datetime(2026, 11, 28, 22, 0, tzinfo=UTC)


def test_retry_after_both_forms() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Sat, 28 Nov 2026 22:00:30 GMT", NOW) == 30.0
    assert parse_retry_after("Sat, 28 Nov 2026 21:59:00 GMT", NOW) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


@given(st.integers(min_value=0, max_value=100), st.integers(min_value=0, max_value=2**32))
def test_full_jitter_stays_within_the_exponential_cap(attempt: int, seed: int) -> None:
    delay = backoff_delay(attempt, 0.05, 5.0, random.Random(seed))
    assert 0.0 <= delay <= min(5.0, 0.05 * 2**attempt)


def test_retry_budget_is_a_ratio_of_first_attempts_plus_a_floor() -> None:
    budget = RetryBudget(0.1, floor=2)
    budget.record_first_attempt(100)
    spent = sum(budget.try_spend() for _ in range(50))
    assert spent == 12
    assert not budget.try_spend()


def test_breaker_states() -> None:
    async def scenario() -> list[str]:
        breaker = CircuitBreaker(3)
        states = []
        assert [breaker.record_failure() for _ in range(3)] == [False, False, True]
        states.append(breaker.state)
        waiters = [asyncio.create_task(breaker.acquire()) for _ in range(3)]
        await asyncio.sleep(0)
        assert not any(w.done() for w in waiters)  # open: everybody waits
        breaker.probe_passed()
        await asyncio.sleep(0)
        states.append(breaker.state)
        assert sum(w.done() for w in waiters) == 1  # half-open: one trial request
        assert breaker.record_failure() is True  # the trial failed: open again
        states.append(breaker.state)
        breaker.probe_passed()
        await asyncio.sleep(0)
        breaker.record_success()  # the next trial succeeded
        await asyncio.wait_for(asyncio.gather(*waiters), 1)
        states.append(breaker.state)
        return states

    assert asyncio.run(scenario()) == ["open", "half_open", "open", "closed"]


def test_token_bucket_hands_out_a_burst_then_paces() -> None:
    ticks = {"now": 0.0}

    async def scenario() -> float:
        bucket = TokenBucket(1000.0, burst=5, monotonic=lambda: ticks["now"])
        for _ in range(5):
            await bucket.acquire()
        assert bucket._tokens == 0
        ticks["now"] += 0.002  # two tokens refill
        await bucket.acquire()
        await bucket.acquire()
        return bucket._tokens

    assert asyncio.run(scenario()) < 1e-9


def test_the_bucket_halves_on_push_back_holds_and_climbs_back() -> None:
    ticks = {"now": 0.0}
    slept: list[float] = []

    async def scenario() -> None:
        bucket = TokenBucket(1000.0, monotonic=lambda: ticks["now"])
        real_sleep = asyncio.sleep

        async def fake_sleep(seconds: float) -> None:
            slept.append(seconds)
            ticks["now"] += seconds
            await real_sleep(0)

        asyncio.sleep = fake_sleep  # type: ignore[assignment]
        try:
            bucket.slow_down(2.0)
            assert bucket.rate == 500.0
            bucket.slow_down(2.0)  # the requests in flight at the cut: no second cut
            assert bucket.rate == 500.0
            assert bucket.cuts == 1
            await bucket.acquire()  # held until the platform's wait is over
            assert slept[0] == 2.0
            assert ticks["now"] >= 2.0
            assert bucket._tokens < 1, "no burst when the hold ends"
            ticks["now"] += 10.0  # 10 s without push-back: +5% of 500 per second
            bucket._refill()
            assert bucket.rate == pytest.approx(750.0, abs=0.5)
            ticks["now"] += 100.0
            bucket._refill()
            assert bucket.rate == 1000.0, "never above the configured rate"
            ticks["now"] += 1.0
            bucket.slow_down(None)
            assert bucket.rate == 500.0
            assert bucket.cuts == 2
        finally:
            asyncio.sleep = real_sleep  # type: ignore[assignment]

    asyncio.run(scenario())


def test_a_cut_halves_the_rate_requests_went_out_at_not_the_set_rate() -> None:
    """Set to a million a second, sending a thousand: a 429 halves the thousand."""
    ticks = {"now": 0.0}

    async def scenario() -> float:
        bucket = TokenBucket(1_000_000.0, monotonic=lambda: ticks["now"])
        for _ in range(300):
            ticks["now"] += 0.001
            await bucket.acquire()
        bucket.slow_down(None)
        return bucket.rate

    assert asyncio.run(scenario()) == pytest.approx(500.0, rel=0.01)
