"""The swarm's rotation as it was before ``Rotation``: the reference the tests and
bench/sandbox.py compare it with."""

from __future__ import annotations

from ircli.sandbox.platform import Platform
from ircli.sandbox.world import WorldConfig


class WalkingPlatform(Platform):
    """On every start of a stream, walk the attackers from the pointer, checking each, until
    one may stream.

    With ``give_up`` (as the sandbox had it) the moments still due pass as soon as a walk finds
    nobody — it then skipped walking until something changed, but every request that ends a
    stream was such a change; without it every moment is walked, which is exact also while
    accounts age into the verification flag.
    """

    give_up = False

    def reset(self, config: WorldConfig, *, now: float) -> None:
        super().reset(config, now=now)
        self.pointer = 0

    def _spawn_until(self, now: float) -> None:
        attackers = self.world.attackers
        due = self.swarm.due(now - self.started_at)
        while self.spawn_ticks < due:
            self.spawn_ticks += 1
            moment = min(self.started_at + self.swarm.moment(self.spawn_ticks), now)
            for _ in attackers:
                account = attackers[self.pointer]
                self.pointer = (self.pointer + 1) % len(attackers)
                if self.can_stream(account, moment):
                    self._spawn(account, moment)
                    break
            else:
                if self.give_up:
                    self.spawn_ticks = due
                    return
