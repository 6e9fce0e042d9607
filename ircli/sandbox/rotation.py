"""Which attacker starts the next stream: the next one in the rotation that may stream.

The swarm takes its accounts in a fixed seeded order (``World.attackers``). Walking that order
until an account may stream costs O(attackers) once none can, which is the usual state after
a while (every bot live, frozen or blocked) — and a walk on every request made an idle sandbox
slow. ``Rotation`` instead keeps, up to date on each event that changes an attacker, the
positions of the attackers that may stream now (a bit set: the next one after the pointer is
two big-integer operations) and a heap of those that wait only to be old enough for the
verification flag (accounts only get older). Picking the next account, or finding there is
none until a given time, no longer depends on how many attackers are blocked.
"""

from __future__ import annotations

import heapq
from array import array
from collections.abc import Callable, Sequence

__all__ = ["Rotation"]

_BLOCKED, _READY, _WAITING = 0, 1, 2


class Rotation:
    """The attackers' rotation, with who may stream now and who will once old enough.

    The platform tells it, for one account, *since when* it may stream (``update``): ``None``
    while it cannot at all (frozen, locked out, outside the live flag, streaming already),
    else the time from which it may (``-inf`` for now).
    """

    __slots__ = ("_ready", "_since", "_state", "_waiting", "accounts", "pointer", "position")

    def __init__(self, accounts: Sequence[int]) -> None:
        self.accounts = list(accounts)
        self.position = {account: index for index, account in enumerate(self.accounts)}
        self.pointer = 0
        self._ready = 0  # bit p set: the attacker at position p may stream now
        self._state = bytearray(len(self.accounts))
        self._since = array("d", bytes(8 * len(self.accounts)))  # of the waiting ones
        self._waiting: list[tuple[float, int]] = []

    def rebuild(self, since_of: Callable[[int], float | None], now: float) -> None:
        """Recompute every attacker (after a flag change, or for a new world): O(attackers)."""
        bits = bytearray((len(self.accounts) + 7) // 8)
        state = self._state
        waiting: list[tuple[float, int]] = []
        for position, account in enumerate(self.accounts):
            since = since_of(account)
            if since is None:
                state[position] = _BLOCKED
            elif since <= now:
                state[position] = _READY
                bits[position >> 3] |= 1 << (position & 7)
            else:
                state[position] = _WAITING
                self._since[position] = since
                waiting.append((since, position))
        heapq.heapify(waiting)
        self._ready = int.from_bytes(bits, "little")
        self._waiting = waiting

    def update(self, account: int, since: float | None, now: float) -> None:
        """Place ``account`` (ignored unless it is an attacker) by when it may stream."""
        position = self.position.get(account)
        if position is None:
            return
        state = self._state
        if since is not None and since <= now:
            if state[position] != _READY:
                state[position] = _READY
                self._ready |= 1 << position
            return
        if state[position] == _READY:
            self._ready ^= 1 << position  # clears it: the bit is set
        if since is None:
            state[position] = _BLOCKED
        else:
            state[position] = _WAITING
            self._since[position] = since
            heapq.heappush(self._waiting, (since, position))

    def block(self, account: int) -> None:
        """``account`` cannot stream (it just went live): the cheap form of ``update``."""
        position = self.position.get(account)
        if position is not None and self._state[position] != _BLOCKED:
            if self._state[position] == _READY:
                self._ready ^= 1 << position
            self._state[position] = _BLOCKED

    def take(self, moment: float) -> int | None:
        """The account that starts a stream at ``moment``: the first one from the pointer on
        (wrapping around) that may stream then; the pointer moves past it. ``None`` if none."""
        self._release(moment)
        ready = self._ready
        if not ready:
            return None
        above = ready >> self.pointer
        if above:
            position = self.pointer + (above & -above).bit_length() - 1
        else:
            position = (ready & -ready).bit_length() - 1
        self.pointer = (position + 1) % len(self.accounts)
        return self.accounts[position]

    def next_release(self) -> float | None:
        """The earliest time an attacker waiting to be old enough may stream (``None``: none)."""
        return self._waiting[0][0] if self._waiting else None

    def ready_accounts(self, now: float) -> list[int]:
        """The accounts that may stream at ``now``, in rotation order (for tests)."""
        self._release(now)
        ready = self._ready
        return [self.accounts[p] for p in range(len(self.accounts)) if ready >> p & 1]

    def _release(self, moment: float) -> None:
        waiting = self._waiting
        state = self._state
        while waiting and waiting[0][0] <= moment:
            since, position = heapq.heappop(waiting)
            # an entry left behind when the account moved since is skipped
            if state[position] == _WAITING and self._since[position] == since:
                state[position] = _READY
                self._ready |= 1 << position
