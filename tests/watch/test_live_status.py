"""The live status ``ircli watch`` draws on a terminal: signals, baselines, rules, responses —
with what the platform said made inert."""

from __future__ import annotations

import asyncio
import io
from types import SimpleNamespace
from typing import Any

from ircli.cli.display import Display
from ircli.cli.watch import _live


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def snapshot() -> dict[str, Any]:
    return {
        "signals": [
            {"name": "young_new_streams", "value": 61, "capped": False, "baseline": 1.0,
             "at": "2026-12-01T21:05:02.114000Z", "failures": 0, "error": None},
            {"name": "open_reports", "value": None, "capped": False, "baseline": None,
             "at": None, "failures": 3, "error": "the platform said \x1b[2J\u202ehello"},
        ],
        "rules": [
            {"name": "live-flood", "status": "holding", "held_since": "2026-12-01T21:05:02.1Z",
             "conditions": [{"condition": "young_new_streams > 25", "holds": True, "value": 61},
                            {"condition": "young_new_streams > 10× baseline", "holds": None,
                             "value": 61}]},
        ],
        "responses": [
            {"rule": "live-flood", "incident": "INC-20261201-K7QD", "state": "awaiting_approval",
             "plan_run": "RUN-20261201-2XKQ7M"},
        ],
    }  # fmt: skip


def test_the_live_status_shows_signals_rules_and_what_waits_for_a_person() -> None:
    terminal = Terminal()
    display = Display(io.StringIO(), terminal, json_mode=False)
    session: Any = SimpleNamespace(snapshot=snapshot, watch=SimpleNamespace(
        watch=SimpleNamespace(name="live-flood")))  # fmt: skip

    async def shown() -> None:
        async with _live(display, session):
            await asyncio.sleep(0.3)

    asyncio.run(shown())
    out = terminal.getvalue()
    assert "watch live-flood" in out
    assert "young_new_streams" in out
    assert "61" in out
    assert "warming up" in out  # no baseline yet
    assert "holding since 21:05:02" in out
    # 80 columns: one condition a line; the approval line below the tables wraps, never cut
    assert "✓ young_new_streams > 25" in out
    assert "? young_new_streams > 10× baseline" in out
    assert "ircli runs approve RUN-20261201-2XKQ7M)" in out  # whole, to copy
    # what the platform said is shown inert: its escape and bidi override as visible text
    assert "\\x1b[2J\\u202ehello" in out
    assert "\u202e" not in out


def test_off_a_terminal_nothing_is_drawn() -> None:
    stream = io.StringIO()
    display = Display(io.StringIO(), stream, json_mode=False)
    session: Any = SimpleNamespace(snapshot=snapshot)

    async def shown() -> None:
        async with _live(display, session):
            await asyncio.sleep(0.05)

    asyncio.run(shown())
    assert stream.getvalue() == ""
