"""Running the async core from the CLI: uvloop when present; Ctrl-C and SIGTERM as a drain
request, a second one as an abort."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from ircli.cli.display import Display

__all__ = ["run_draining", "run_with_stop"]

DRAIN_MESSAGE = "stopping: finishing requests in flight (Ctrl-C again aborts)"
ABORT_MESSAGE = (
    "aborting: requests in flight are dropped (their targets are looked at or resent with "
    "the same keys on resume)"
)
_SIGNALS = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}

T = TypeVar("T")


def run_with_stop(
    main: Callable[[asyncio.Event], Coroutine[Any, Any, T]],
    on_first_interrupt: Callable[[str], None],
    on_abort: Callable[[], None] = lambda: None,
) -> T:
    """Run ``main(stop)``. The first Ctrl-C or SIGTERM sets ``stop`` (drain: nothing new is
    taken, requests in flight finish, the run is recorded ``interrupted``); a second cancels
    ``main`` (abort: the executor records what it knows and still ends the run
    ``interrupted``); a third kills the process as the signal would."""

    async def runner() -> T:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        received: list[str] = []

        def interrupted(signum: signal.Signals) -> None:
            received.append(_SIGNALS[signum])
            if len(received) == 1:
                stop.set()
                on_first_interrupt(received[0])
            elif len(received) == 2 and task is not None:
                on_abort()
                task.cancel()
            else:
                for known in _SIGNALS:
                    loop.remove_signal_handler(known)
                signal.raise_signal(signum)

        # Signal handlers only work on the main thread (not in some test runners).
        with contextlib.suppress(NotImplementedError, RuntimeError):
            for known in _SIGNALS:
                loop.add_signal_handler(known, interrupted, known)
        try:
            return await main(stop)
        except asyncio.CancelledError:
            if len(received) >= 2:  # aborted before a run could sum itself up
                raise KeyboardInterrupt from None
            raise
        finally:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                for known in _SIGNALS:
                    loop.remove_signal_handler(known)

    try:
        import uvloop
    except ImportError:
        return asyncio.run(runner())
    return uvloop.run(runner())


def run_draining(main: Callable[[asyncio.Event], Coroutine[Any, Any, T]], display: Display) -> T:
    """``run_with_stop`` telling the operator what each signal does."""

    def first(name: str) -> None:
        if name == "Ctrl-C":
            display.warning(DRAIN_MESSAGE)
        else:
            display.warning(f"stopping on {name}: finishing requests in flight")

    return run_with_stop(main, first, lambda: display.warning(ABORT_MESSAGE))
