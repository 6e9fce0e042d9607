"""Option shapes shared by several command modules."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated

import typer

from ircli.clock import parse_time
from ircli.errors import InvalidInput

__all__ = [
    "MaxPause",
    "OverrideProtected",
    "SkipPreflight",
    "check_override",
    "parse_optional_time",
    "parse_pairs",
]

SkipPreflight = Annotated[
    bool,
    typer.Option(
        "--skip-preflight",
        help="Do not make the one read that checks the platform and the token first.",
    ),
]
MaxPause = Annotated[
    float | None,
    typer.Option(
        "--max-pause",
        min=1.0,
        metavar="SECONDS",
        help="Stop the run (for 'runs resume') when the platform stays down, or the audit "
        "store refuses writes, longer [60].",
    ),
]

OverrideProtected = Annotated[
    bool,
    typer.Option(
        "--override-protected",
        help="Act on protected accounts too, for this run only: needs --reason; recorded "
        "with your name.",
    ),
]


def check_override(override: bool, reason: str | None) -> str | None:
    """The reason an ``--override-protected`` is recorded with (a person must give one);
    ``None`` without the override."""
    if not override:
        return None
    if reason is None or not reason.strip():
        raise InvalidInput(
            "--override-protected needs --reason: why protected accounts may be acted on "
            "(it is recorded with your name); nothing was sent."
        )
    return reason.strip()


def parse_optional_time(text: str | None, now: datetime, flag: str) -> datetime | None:
    """Parse an optional time option, naming the flag in the error."""
    return None if text is None else parse_time(text, now=now, what=f"{flag} time")


def parse_pairs(
    texts: Iterable[str],
    flag: str,
    *,
    shape: str = "NAME=VALUE",
    example: str | None = None,
    strip_values: bool = False,
) -> dict[str, str]:
    """``NAME=VALUE`` options (``--input``, ``--where``) as a mapping; names are stripped."""
    pairs: dict[str, str] = {}
    for text in texts:
        name, sep, value = text.partition("=")
        if not sep or not name.strip():
            shown = f"expected {shape}" + (f", e.g. {example}" if example else "")
            raise InvalidInput(f"{flag} {text!r}: {shown}.")
        pairs[name.strip()] = value.strip() if strip_values else value
    return pairs
