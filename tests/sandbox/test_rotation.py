"""The swarm's rotation: the same streams as the walk it replaces, at a cost that does not grow
with idle time or with the number of blocked attackers."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ircli.sandbox.platform import FLAG_LIVE, FLAG_VERIFICATION, VERIFICATION_AGE, Platform
from ircli.sandbox.world import BOT, COMPROMISED, LIVE, SUSPENDED, WorldConfig
from tests.sandbox.conftest import SMALL
from tests.sandbox.walking import WalkingPlatform

T0 = 1_796_000_000.0
TINY = WorldConfig(
    seed=3,
    honest_accounts=600,
    honest_streams=80,
    bot_accounts=60,
    compromised_accounts=6,
    bot_rate=4.0,
)


def _streams(platform: Platform) -> tuple[list[int], list[float], list[int]]:
    world = platform.world
    return list(world.s_account), list(world.s_created), list(world.s_status)


def _ready_by_walking(platform: Platform, now: float) -> list[int]:
    return [a for a in platform.world.attackers if platform.can_stream(a, now)]


def _live(platform: Platform, malicious: bool) -> list[int]:
    world = platform.world
    return [
        s
        for s in range(world.stream_count)
        if world.s_status[s] == LIVE and world.s_malicious[s] == malicious
    ]


# One step of a random history: (what, which, seconds to wait first).
_STEPS = st.lists(
    st.tuples(
        st.sampled_from(
            ["suspend", "resume", "freeze", "unfreeze", "secure", "live", "verify", "wait"]
        ),
        st.integers(0, 10_000),
        st.floats(0, 12),
    ),
    max_size=25,
)


def _apply(platform: Platform, step: tuple[str, int, float], now: float) -> float:
    """Play one step on ``platform`` at ``now`` + the wait; return the new now."""
    what, which, wait = step
    now += wait
    platform.advance(now)
    world = platform.world
    attacker = world.attackers[which % len(world.attackers)]
    stream = which % world.stream_count
    if what == "suspend":
        platform.suspend_stream(stream, now)
    elif what == "resume":
        platform.resume_stream(stream, now)
    elif what == "freeze":
        platform.freeze_account(attacker, now)
    elif what == "unfreeze":
        platform.unfreeze_account(attacker, now)
    elif what == "secure":
        platform.reset_password(attacker, now)
        platform.revoke_sessions(attacker, now)
    elif what == "live":
        platform.set_flag(FLAG_LIVE, None, which % 101, now)
    elif what == "verify":
        platform.set_flag(FLAG_VERIFICATION, which % 2 == 0, which % 101, now)
    return now


def _ageing(platform: Platform) -> None:
    """Make a third of the attackers turn 7 days old during the first minute, and start with
    the verification flag on: they may stream part-way through a history."""
    world = platform.world
    for rank, account in enumerate(world.attackers[::3]):
        world.acc_created[account] = T0 - VERIFICATION_AGE + 1 + rank % 60
    platform.set_flag(FLAG_VERIFICATION, True, 100, T0)


@settings(max_examples=60, deadline=None)
@given(steps=_STEPS)
def test_the_rotation_starts_the_same_streams_as_walking_the_attackers(
    steps: list[tuple[str, int, float]],
) -> None:
    fast, walking = Platform(TINY, now=T0), WalkingPlatform(TINY, now=T0)
    _ageing(fast)
    _ageing(walking)
    now = T0
    for step in steps:
        _apply(walking, step, now)
        now = _apply(fast, step, now)
        assert _streams(fast) == _streams(walking)
        assert fast.rotation.ready_accounts(now) == _ready_by_walking(fast, now)


def test_an_account_waiting_for_its_age_starts_its_stream_when_it_is_old_enough() -> None:
    platform = Platform(TINY, now=T0)
    world = platform.world
    bots = [a for a in world.attackers if world.kind[a] == BOT]
    for account in world.attackers:
        platform.freeze_account(account, T0)
    platform.set_flag(FLAG_VERIFICATION, True, 100, T0)
    waiting = bots[0]
    world.acc_created[waiting] = T0 + 30 - VERIFICATION_AGE  # 7 days old at T0 + 30 s
    platform.unfreeze_account(waiting, T0)
    platform.advance(T0 + 29.9)
    assert platform.spawned == 0
    platform.advance(T0 + 31)
    assert platform.spawned == 1
    assert world.s_account[-1] == waiting
    assert world.s_created[-1] == T0 + 30  # the first moment of the swarm at or after it


def test_the_same_seed_starts_the_same_streams_as_before() -> None:
    """A history played on the walking rotation this replaced gave this digest."""
    platform = Platform(SMALL, now=T0)
    world = platform.world

    def at(seconds: float) -> float:
        platform.advance(T0 + seconds)
        return T0 + seconds

    now = at(3)
    for stream in _live(platform, True)[:40]:
        platform.suspend_stream(stream, now)
    now = at(10)
    bots = [a for a in world.attackers if world.kind[a] == BOT]
    for account in bots[:30]:
        platform.freeze_account(account, now)
    for account in [a for a in world.attackers if world.kind[a] == COMPROMISED][:5]:
        platform.reset_password(account, now)
        platform.revoke_sessions(account, now)
    platform.set_flag(FLAG_VERIFICATION, True, 100, at(20))
    platform.set_flag(FLAG_LIVE, None, 50, at(40))
    now = at(60)
    for account in bots[:10]:
        platform.unfreeze_account(account, now)
    for stream in [s for s in range(world.stream_count) if world.s_status[s] == SUSPENDED][:15]:
        platform.resume_stream(stream, now)
    platform.set_flag(FLAG_VERIFICATION, False, None, now)
    platform.set_flag(FLAG_LIVE, None, 100, now)
    now = at(200)
    live = _live(platform, True)
    for stream in live[::7]:
        platform.suspend_stream(stream, now)
    now = at(230)
    for stream in live[1::7]:
        platform.suspend_stream(stream, now)
    at(300)
    text = repr(
        (
            list(world.s_account),
            list(world.s_created),
            list(world.s_status),
            list(platform.s_reason),
        )
    )
    assert (platform.spawned, world.stream_count, platform.mal_live) == (349, 964, 295)
    assert hashlib.sha256(text.encode()).hexdigest() == (
        "d84978ec1cf4ffd72eb50b85e5cf03bcdd22c66e9661ae2742c1ed92389b2ec8"
    )


@pytest.mark.parametrize("bots", [300, 3_000])
def test_after_ten_idle_minutes_a_request_that_ends_a_stream_checks_one_account_at_most(
    bots: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once every attacker is live, each request that ends a stream used to walk them all."""
    config = dataclasses.replace(SMALL, bot_accounts=bots, honest_accounts=10 * bots)
    platform = Platform(config, now=T0)
    platform.advance(T0 + 600)
    assert platform.rotation.ready_accounts(T0 + 600) == []  # every attacker is streaming
    checks = 0
    stream_from = Platform._stream_from

    def counted(self: Platform, account: int) -> float | None:
        nonlocal checks
        checks += 1
        return stream_from(self, account)

    monkeypatch.setattr(Platform, "_stream_from", counted)
    malicious = _live(platform, True)[:20]
    spawned = platform.spawned
    now = T0 + 600
    for stream in _live(platform, False)[:20] + malicious:
        now += 0.5  # more attacker streams are due each time
        platform.advance(now)
        before = checks
        platform.suspend_stream(stream, now)
        platform.advance(now + 0.25)
        assert checks - before <= 1  # the account whose stream ended, nobody else
    assert platform.spawned - spawned == len(malicious)  # their accounts came back, in turn
