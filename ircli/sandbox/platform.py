"""The simulated platform: state changes, the bot swarm over time, flags and the blocklist.

Everything is synchronous and single-threaded (the ASGI app calls it between awaits), takes the
current time as an argument, and keeps the counters the score is made of up to date as it goes.
"""

from __future__ import annotations

import math
import random
from array import array
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from ircli.sandbox.rotation import Rotation
from ircli.sandbox.schedule import (
    CATCH_UP_SECONDS,
    HONEST_END,
    HONEST_REPORT,
    HONEST_START,
    Background,
    Swarm,
)
from ircli.sandbox.world import (
    BOT,
    COMPROMISED,
    DAY,
    ENDED,
    HONEST,
    LIVE,
    REPORT_REASONS,
    SUSPENDED,
    World,
    WorldConfig,
    add_honest_stream,
    add_malicious_stream,
    generate_world,
)

__all__ = [
    "FLAG_LIVE",
    "FLAG_VERIFICATION",
    "ActionResult",
    "Platform",
    "account_index",
    "parse_index",
    "stream_index",
]

FLAG_LIVE = "live_streaming"
SERIES_STEP = 0.5
SERIES_MAX = 20_000
FLAG_VERIFICATION = "new_account_verification"
VERIFICATION_AGE = 7 * DAY

STATUS_NAMES = ("live", "suspended", "ended")
# why a stream is not live
REASON_NAMES = (None, "operator", "account_frozen", "kill_switch", "attacker_locked_out")
R_NONE, R_OPERATOR, R_FROZEN, R_KILL_SWITCH, R_LOCKED_OUT = range(5)


@dataclass(frozen=True, slots=True)
class ActionResult:
    """The outcome of one action on one target, as the API reports it."""

    http_status: int
    result: str
    changed: bool
    extra: tuple[tuple[str, object], ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the target is now in the requested state."""
        return self.http_status < 400


NOT_FOUND = ActionResult(404, "not_found", False)
SUSPENDED_OK = ActionResult(200, "suspended", True)
ALREADY_SUSPENDED = ActionResult(200, "already_suspended", False)
RESUMED = ActionResult(200, "resumed", True)
ALREADY_LIVE = ActionResult(200, "already_live", False)
STREAM_ENDED = ActionResult(409, "stream_ended", False)
ACCOUNT_FROZEN = ActionResult(409, "account_frozen", False)
LIVE_DISABLED = ActionResult(409, "live_streaming_disabled", False)
FROZEN = ActionResult(200, "frozen", True)
ALREADY_FROZEN = ActionResult(200, "already_frozen", False)
UNFROZEN = ActionResult(200, "unfrozen", True)
ALREADY_ACTIVE = ActionResult(200, "already_active", False)
NO_SESSIONS = ActionResult(200, "no_sessions", False, (("sessions_revoked", 0),))


def parse_index(text: str, prefix: str, limit: int) -> int:
    """The row index behind a public id such as ``str_0000042``, or -1 if there is none."""
    if len(text) == 11 and text.startswith(prefix):
        digits = text[4:]
        if digits.isdigit() and digits.isascii():
            index = int(digits)
            if index < limit:
                return index
    return -1


def stream_index(world: World, text: str) -> int:
    """The index of stream ``text`` (``str_0000042``), or -1."""
    return parse_index(text, "str_", world.stream_count)


def account_index(world: World, text: str) -> int:
    """The index of account ``text`` (``acc_0000042``), or -1."""
    return parse_index(text, "acc_", world.account_count)


class Flag:
    """A feature flag: on for accounts whose bucket is below ``rollout_percent`` while enabled."""

    __slots__ = ("description", "enabled", "rollout_percent", "updated_at")

    def __init__(self, enabled: bool, rollout: int, description: str, now: float) -> None:
        self.enabled = enabled
        self.rollout_percent = rollout
        self.description = description
        self.updated_at = now

    def applies(self, bucket: int) -> bool:
        """Whether the flag is on for an account in ``bucket`` (0-99)."""
        return self.enabled and bucket < self.rollout_percent


def _draw(rng: random.Random, size: int, accept: Callable[[int], bool]) -> int:
    """An index below ``size`` drawn uniformly until one is accepted; -1 after 32 misses (the
    event is then skipped: a few tries keep each event's cost small and bounded)."""
    if size > 0:
        for _ in range(32):
            index = int(rng.random() * size)
            if accept(index):
                return index
    return -1


def bucket_of(account: int, seed: int) -> int:
    """The stable rollout bucket (0-99) of an account."""
    return (((account + seed * 1_000_003) * 0x9E3779B1) & 0xFFFFFFFF) % 100


class Platform:
    """The platform's state plus the ground truth and score counters."""

    def __init__(self, config: WorldConfig, *, now: float) -> None:
        self.reset(config, now=now)

    # -- lifecycle ---------------------------------------------------------------------------

    def reset(self, config: WorldConfig, *, now: float) -> None:
        """Generate a fresh world for ``config`` (re-seeds everything, clears counters)."""
        world = generate_world(config, now=now)
        self.world = world
        self.config = config
        self.started_at = now
        self.spawn_rng = random.Random(config.seed * 7_919 + 1)
        self.flags = {
            FLAG_LIVE: Flag(True, 100, "Live streaming (the kill switch).", now),
            FLAG_VERIFICATION: Flag(
                False, 0, "Extra verification before accounts under 7 days old can stream.", now
            ),
        }
        self.blocklist: dict[str, float] = {}
        self.s_reason = bytearray(world.stream_count)
        self.live_since = array("d", [now]) * world.stream_count
        self.acc_streams: dict[int, list[int]] = {}
        for stream, account in enumerate(world.s_account):
            self.acc_streams.setdefault(account, []).append(stream)
        self.password_resets: dict[int, int] = {}
        self.revoked: set[int] = set()
        self.locked_out: set[int] = set()
        self.collateral_streams: set[int] = set()
        self.collateral_accounts: set[int] = set()
        self.duplicate_effects = 0
        self.requests: Counter[str] = Counter()
        self.swarm = Swarm(config)
        self.spawn_ticks = 0
        self.spawned = 0
        self.rotation = Rotation(world.attackers)
        self.rotation.rebuild(self._stream_from, now)
        self.background = Background(config, now) if config.timed else None
        self.malicious_streams = [s for s in range(world.stream_count) if world.s_malicious[s]]
        self.contained_at: float | None = None
        self.killed_honest = 0
        mal = world.s_malicious
        self.mal_live = sum(mal)
        self.mal_live_series: list[list[float]] = [[0.0, self.mal_live]]
        """Malicious live streams over time: [seconds since the start, count], one point per
        ``SERIES_STEP`` seconds at most (the last count in it), ``SERIES_MAX`` points."""
        self.honest_live = world.stream_count - self.mal_live
        self.mal_suspended = 0
        self.bots_frozen = 0
        self.exposure_closed = 0.0
        self.exposure_viewers = 0
        self.exposure_weighted = 0.0
        for stream in range(world.stream_count):
            if mal[stream]:
                self.exposure_viewers += world.s_viewers[stream]
                self.exposure_weighted += world.s_viewers[stream] * now

    # -- time --------------------------------------------------------------------------------

    def advance(self, now: float) -> None:
        """Bring the world to ``now``: the streams the attackers start, and in a timed world
        the honest streams starting and ending and the reports arriving, in time order."""
        background = self.background
        if background is not None:
            background.skip_before(now - CATCH_UP_SECONDS)
            moment, kind = background.peek()
            while moment <= now:
                self._spawn_until(moment)
                if background.consume(kind, moment, self.mal_live):
                    self._background_event(kind, moment)
                moment, kind = background.peek()
        self._spawn_until(now)

    def _spawn_until(self, now: float) -> None:
        """Start the attacker streams due by ``now``, each by the next attacker in the
        rotation that may stream then; a moment when none may passes without a stream.
        The work is one step per stream started (or per attacker that becomes old enough),
        however long since the last call and however many attackers are blocked."""
        swarm = self.swarm
        started_at = self.started_at
        due = swarm.due(now - started_at)
        rotation = self.rotation
        while self.spawn_ticks < due:
            tick = self.spawn_ticks + 1
            moment = min(started_at + swarm.moment(tick), now)
            account = rotation.take(moment)
            if account is not None:
                self.spawn_ticks = tick
                self._spawn(account, moment)
                continue
            wake = rotation.next_release()
            if wake is None or wake > now:
                self.spawn_ticks = due  # nobody may stream before now: those moments pass
                return
            # the moments before the next attacker is old enough pass without a stream
            self.spawn_ticks = max(tick, min(due, swarm.due(wake - started_at)) - 1)

    def _stream_from(self, account: int) -> float | None:
        """Since when ``account`` may start a stream: ``None`` while it cannot (frozen, locked
        out, outside the live flag, streaming already), else a time (``-inf``: any time)."""
        world = self.world
        if world.acc_frozen[account] or account in self.locked_out:
            return None
        bucket = bucket_of(account, self.config.seed)
        if not self.flags[FLAG_LIVE].applies(bucket):
            return None
        status = world.s_status
        if any(status[s] == LIVE for s in self.acc_streams.get(account, ())):
            return None
        if self.flags[FLAG_VERIFICATION].applies(bucket):
            return world.acc_created[account] + VERIFICATION_AGE
        return -math.inf

    def can_stream(self, account: int, now: float) -> bool:
        """Whether ``account`` may start a stream now (flags, freezes, lock-outs, one at a time)."""
        since = self._stream_from(account)
        return since is not None and since <= now

    def _refresh(self, account: int, now: float) -> None:
        """Tell the rotation since when ``account`` may stream, after it changed (an account
        outside the rotation is ignored)."""
        self.rotation.update(account, self._stream_from(account), now)

    def _spawn(self, account: int, moment: float) -> None:
        world = self.world
        stream = add_malicious_stream(world, self.spawn_rng, account, moment, fresh=True)
        self._register(stream, account, moment)
        self.rotation.block(account)
        self.malicious_streams.append(stream)
        self.spawned += 1
        self.mal_live += 1
        self._note_malicious_live(moment)
        viewers = world.s_viewers[stream]
        self.exposure_viewers += viewers
        self.exposure_weighted += viewers * moment

    def _register(self, stream: int, account: int, moment: float) -> None:
        """The platform's side of a new live stream."""
        self.s_reason.append(R_NONE)
        self.live_since.append(moment)
        self.acc_streams.setdefault(account, []).append(stream)

    # -- a timed world's own life --------------------------------------------------------------

    def _background_event(self, kind: int, moment: float) -> None:
        """One event of a timed world's own life at ``moment`` (skipped if no target is drawn)."""
        assert self.background is not None
        rng = self.background.rng
        world = self.world
        if kind == HONEST_START:
            account = _draw(rng, world.account_count, lambda a: self._may_start(a, moment))
            if account >= 0:
                stream = add_honest_stream(world, rng, account, moment, fresh=True)
                self._register(stream, account, moment)
                self.honest_live += 1
            return
        if kind in (HONEST_END, HONEST_REPORT):
            stream = _draw(rng, world.stream_count, lambda s: self._honest_live_at(s, moment))
        else:
            pool = self.malicious_streams
            size = len(pool) if self.mal_live else 0
            index = _draw(rng, size, lambda i: self._live_at(pool[i], moment))
            stream = pool[index] if index >= 0 else -1
        if stream < 0:
            return
        if kind == HONEST_END:
            self._set_stream(stream, ENDED, moment, R_NONE)
            return
        reporter = _draw(rng, world.account_count, lambda a: world.kind[a] == HONEST)
        world.r_stream.append(stream)
        world.r_reporter.append(max(reporter, 0))
        world.r_created.append(moment)
        reasons = 3 if world.s_malicious[stream] else len(REPORT_REASONS)  # 3: the attack's
        world.r_reason.append(int(rng.random() * reasons))
        world.s_reports[stream] += 1
        world.acc_reports[world.s_account[stream]] += 1

    def _may_start(self, account: int, moment: float) -> bool:
        return self.world.kind[account] == HONEST and self.can_stream(account, moment)

    def _live_at(self, stream: int, moment: float) -> bool:
        world = self.world
        return world.s_status[stream] == LIVE and world.s_created[stream] <= moment

    def _honest_live_at(self, stream: int, moment: float) -> bool:
        return not self.world.s_malicious[stream] and self._live_at(stream, moment)

    # -- stream state ------------------------------------------------------------------------

    def _note_malicious_live(self, now: float) -> None:
        """Keep ``mal_live_series`` current: the point of this step, or a new one."""
        series = self.mal_live_series
        moment = (now - self.started_at) // SERIES_STEP * SERIES_STEP
        if len(series) > 1 and series[-1][0] >= moment:  # the first point keeps the start
            series[-1][1] = self.mal_live
        elif len(series) < SERIES_MAX:
            series.append([round(moment, 3), self.mal_live])

    def _set_stream(self, stream: int, new: int, now: float, reason: int) -> None:
        world = self.world
        old = world.s_status[stream]
        world.s_status[stream] = new
        self.s_reason[stream] = reason
        malicious = world.s_malicious[stream]
        viewers = world.s_viewers[stream]
        if old == LIVE:
            if malicious:
                self.mal_live -= 1
                since = self.live_since[stream]
                self.exposure_closed += viewers * (now - since)
                self.exposure_viewers -= viewers
                self.exposure_weighted -= viewers * since
                if self.mal_live == 0 and self.contained_at is None:
                    self.contained_at = now - self.started_at
                self._note_malicious_live(now)
                self._refresh(world.s_account[stream], now)
            else:
                self.honest_live -= 1
        elif new == LIVE:
            self.live_since[stream] = now
            if malicious:
                self.rotation.block(world.s_account[stream])
                self.mal_live += 1
                self.exposure_viewers += viewers
                self._note_malicious_live(now)
                self.exposure_weighted += viewers * now
            else:
                self.honest_live += 1
        if malicious:
            self.mal_suspended += (new == SUSPENDED) - (old == SUSPENDED)
        elif new != LIVE and reason in (R_OPERATOR, R_FROZEN):
            self.collateral_streams.add(stream)

    def suspend_stream(self, stream: int, now: float) -> ActionResult:
        """Suspend a live stream (idempotent: a suspended stream stays as it is)."""
        if stream < 0:
            return NOT_FOUND
        status = self.world.s_status[stream]
        if status == SUSPENDED:
            return ALREADY_SUSPENDED
        if status == ENDED:
            return STREAM_ENDED
        self._set_stream(stream, SUSPENDED, now, R_OPERATOR)
        return SUSPENDED_OK

    def resume_stream(self, stream: int, now: float) -> ActionResult:
        """Put a suspended stream back on air (the inverse of suspend)."""
        if stream < 0:
            return NOT_FOUND
        world = self.world
        status = world.s_status[stream]
        if status == LIVE:
            return ALREADY_LIVE
        if status == ENDED:
            return STREAM_ENDED
        account = world.s_account[stream]
        if world.acc_frozen[account]:
            return ACCOUNT_FROZEN
        if not self.flags[FLAG_LIVE].applies(bucket_of(account, self.config.seed)):
            return LIVE_DISABLED
        self._set_stream(stream, LIVE, now, R_NONE)
        return RESUMED

    def _end_live_streams(self, account: int, now: float, reason: int) -> None:
        status = self.world.s_status
        for stream in self.acc_streams.get(account, ()):
            if status[stream] == LIVE:
                self._set_stream(stream, ENDED, now, reason)

    # -- account state -----------------------------------------------------------------------

    def freeze_account(self, account: int, now: float) -> ActionResult:
        """Freeze an account; its live streams end (a frozen honest account is collateral)."""
        if account < 0:
            return NOT_FOUND
        world = self.world
        if world.acc_frozen[account]:
            return ALREADY_FROZEN
        world.acc_frozen[account] = 1
        if world.kind[account] == BOT:
            self.bots_frozen += 1
        else:
            self.collateral_accounts.add(account)
        self._end_live_streams(account, now, R_FROZEN)
        self.rotation.block(account)
        return FROZEN

    def unfreeze_account(self, account: int, now: float) -> ActionResult:
        """Unfreeze an account (the inverse of freeze); ended streams stay ended."""
        if account < 0:
            return NOT_FOUND
        world = self.world
        if not world.acc_frozen[account]:
            return ALREADY_ACTIVE
        world.acc_frozen[account] = 0
        if world.kind[account] == BOT:
            self.bots_frozen -= 1
        self._refresh(account, now)
        return UNFROZEN

    def reset_password(self, account: int, now: float) -> ActionResult:
        """Force a password reset: invalidates the password and sends a reset email every time.

        Not a set-state action: a second reset of the same account sends a second email and is
        counted in ``duplicate_effects``.
        """
        if account < 0:
            return NOT_FOUND
        sent = self.password_resets.get(account, 0) + 1
        self.password_resets[account] = sent
        if sent > 1:
            self.duplicate_effects += 1
        self._maybe_lock_out(account, now)
        return ActionResult(200, "password_reset", True, (("reset_emails_sent", sent),))

    def revoke_sessions(self, account: int, now: float) -> ActionResult:
        """Revoke every active session (idempotent: nothing to revoke changes nothing)."""
        if account < 0:
            return NOT_FOUND
        world = self.world
        active = world.acc_sessions[account]
        if not active:
            return NO_SESSIONS
        world.acc_sessions[account] = 0
        self.revoked.add(account)
        self._maybe_lock_out(account, now)
        return ActionResult(200, "sessions_revoked", True, (("sessions_revoked", active),))

    def _maybe_lock_out(self, account: int, now: float) -> None:
        """A compromised account whose password was reset and sessions revoked is safe again."""
        if (
            self.world.kind[account] == COMPROMISED
            and account in self.revoked
            and account in self.password_resets
            and account not in self.locked_out
        ):
            self.locked_out.add(account)
            self._end_live_streams(account, now, R_LOCKED_OUT)
            self.rotation.block(account)

    # -- flags and domains -------------------------------------------------------------------

    def set_flag(
        self, name: str, enabled: bool | None, rollout: int | None, now: float
    ) -> tuple[Flag, bool]:
        """Change a flag; turning live streaming down ends streams of accounts now outside it."""
        flag = self.flags[name]
        before = (flag.enabled, flag.rollout_percent)
        if enabled is not None:
            flag.enabled = enabled
        if rollout is not None:
            flag.rollout_percent = rollout
        changed = before != (flag.enabled, flag.rollout_percent)
        if not changed:
            return flag, False
        flag.updated_at = now
        if name == FLAG_LIVE:
            self._apply_kill_switch(now)
        self.rotation.rebuild(self._stream_from, now)  # rare: O(attackers) is fine
        return flag, True

    def _apply_kill_switch(self, now: float) -> None:
        world = self.world
        live_flag = self.flags[FLAG_LIVE]
        seed = self.config.seed
        status = world.s_status
        for stream in range(world.stream_count):
            if status[stream] != LIVE:
                continue
            if not live_flag.applies(bucket_of(world.s_account[stream], seed)):
                if not world.s_malicious[stream]:
                    self.killed_honest += 1
                self._set_stream(stream, ENDED, now, R_KILL_SWITCH)

    def block_domain(self, domain: str, now: float) -> bool:
        """Add ``domain`` to the link blocklist; whether that changed anything."""
        if domain in self.blocklist:
            return False
        self.blocklist[domain] = now
        return True

    def unblock_domain(self, domain: str) -> bool:
        """Remove ``domain`` from the link blocklist; whether that changed anything."""
        return self.blocklist.pop(domain, None) is not None
