"""Crash points: a test aid to prove the write-ahead journal survives ``kill -9`` anywhere.

``IRCLI_TEST_CRASH_AT=after-send:25`` makes the process SIGKILL itself the 25th time it
passes the ``after-send`` point. Points: ``before-intent`` (an intent is about to be
written), ``after-intent`` (committed, nothing sent yet), ``after-send`` (a response came
back, its outcome not yet recorded), ``after-outcome`` (outcomes committed). Unset, the hook
does nothing.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Mapping

from ircli.errors import InvalidInput

__all__ = ["POINTS", "CrashHook", "crash_hook_from_env", "no_crash"]

POINTS = ("before-intent", "after-intent", "after-send", "after-outcome")
VARIABLE = "IRCLI_TEST_CRASH_AT"

CrashHook = Callable[[str], None]


def no_crash(_point: str) -> None:
    """The default hook."""


def crash_hook_from_env(env: Mapping[str, str]) -> CrashHook:
    """The hook ``IRCLI_TEST_CRASH_AT`` asks for, or ``no_crash``."""
    spec = env.get(VARIABLE)
    if not spec:
        return no_crash
    point, _, count_text = spec.partition(":")
    if point not in POINTS or not count_text.isdigit() or int(count_text) < 1:
        raise InvalidInput(f"{VARIABLE}={spec!r}: expected POINT:N with POINT one of {POINTS}.")
    remaining = {"hits": int(count_text)}

    def hook(reached: str) -> None:
        if reached != point:
            return
        remaining["hits"] -= 1
        if remaining["hits"] == 0:
            os.kill(os.getpid(), signal.SIGKILL)

    return hook
