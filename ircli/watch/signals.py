"""Reading a signal: count a listing's items matching filters, through the profile."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ircli.clock import format_utc
from ircli.watch.model import Ago, Signal

if TYPE_CHECKING:
    from ircli.platform.client import PlatformClient
    from ircli.platform.model import Profile

__all__ = ["read_signal", "signal_filters"]


def signal_filters(signal: Signal, now: datetime) -> dict[str, str]:
    """The signal's filters as sent at ``now``: ``{ago: 1m}`` becomes the UTC time a minute
    before."""
    return {
        name: format_utc(now - timedelta(seconds=value.ago)) if isinstance(value, Ago) else value
        for name, value in signal.filters.items()
    }


async def read_signal(
    client: PlatformClient,
    profile: Profile,
    signal: Signal,
    headers: Mapping[str, str],
    now: datetime,
) -> tuple[int, bool]:
    """How many items match now, and whether counting stopped at ``max_items``."""
    from ircli.platform import iter_items

    count = 0
    items = iter_items(
        client.http, profile, signal.listing, signal_filters(signal, now), headers=headers
    )
    try:
        async for _item in items:
            count += 1
            if count >= signal.max_items:
                return count, True
    finally:
        await items.aclose()
    return count, False
