"""A circuit breaker that pauses work while the platform is down.

::

    closed ──N failures in a row──▶ open ──health probe passes──▶ half-open
      ▲                               ▲                              │
      └────── trial request succeeds ─┼──────────────────────────────┘
                                      └──── trial request fails ─────┘

Workers ``await acquire()`` before each request: immediately when closed; while open they
wait; half-open lets exactly one trial request through. The engine runs the health probe.
"""

from __future__ import annotations

import asyncio
from typing import Literal

__all__ = ["CircuitBreaker"]

State = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    """Counts consecutive failures; see the module docstring for the states."""

    def __init__(self, threshold: int) -> None:
        self.threshold = max(1, threshold)
        self.state: State = "closed"
        self.consecutive_failures = 0
        self._trial_taken = False
        self._changed = asyncio.Event()

    @property
    def is_open(self) -> bool:
        """True unless closed (a half-open breaker still holds most work back)."""
        return self.state != "closed"

    def _set(self, state: State) -> None:
        self.state = state
        self._trial_taken = False
        self._changed.set()
        self._changed = asyncio.Event()

    async def acquire(self) -> None:
        """Wait until a request may be sent."""
        while True:
            if self.state == "closed":
                return
            if self.state == "half_open" and not self._trial_taken:
                self._trial_taken = True
                return
            await self._changed.wait()

    def record_success(self) -> None:
        """A request got a healthy answer: close."""
        self.consecutive_failures = 0
        if self.state != "closed":
            self._set("closed")

    def record_failure(self) -> bool:
        """Count a failure; returns True when this failure opened the breaker."""
        self.consecutive_failures += 1
        if self.state == "half_open" and self._trial_taken:
            self._set("open")
            return True
        if self.state == "closed" and self.consecutive_failures >= self.threshold:
            self._set("open")
            return True
        return False

    def probe_passed(self) -> None:
        """The health probe answered: let one trial request through."""
        if self.state == "open":
            self._set("half_open")

    def release(self) -> None:
        """Close without a success (the run is stopping: let waiting workers leave)."""
        self._set("closed")
