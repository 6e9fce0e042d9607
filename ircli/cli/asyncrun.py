"""Running the async core from the CLI: uvloop when present, Ctrl-C as a drain request."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from ircli.cli.display import Display

__all__ = ["run_draining", "run_with_stop"]

DRAIN_MESSAGE = "stopping: finishing requests in flight (Ctrl-C again aborts)"

T = TypeVar("T")


def run_with_stop(
    main: Callable[[asyncio.Event], Coroutine[Any, Any, T]],
    on_first_interrupt: Callable[[], None],
) -> T:
    """Run ``main(stop)``; the first Ctrl-C sets ``stop`` (drain), the second aborts."""

    async def runner() -> T:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def interrupted() -> None:
            if stop.is_set():
                loop.remove_signal_handler(signal.SIGINT)
                signal.raise_signal(signal.SIGINT)
                return
            stop.set()
            on_first_interrupt()

        # Signal handlers only work on the main thread (not in some test runners).
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGINT, interrupted)
        try:
            return await main(stop)
        finally:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signal.SIGINT)

    try:
        import uvloop
    except ImportError:
        return asyncio.run(runner())
    return uvloop.run(runner())


def run_draining(main: Callable[[asyncio.Event], Coroutine[Any, Any, T]], display: Display) -> T:
    """``run_with_stop`` telling the operator what the first Ctrl-C does."""
    return run_with_stop(main, lambda: display.warning(DRAIN_MESSAGE))
