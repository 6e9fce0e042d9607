"""Durations as ircli reads them everywhere (``--for``, ``--expires``, playbook and profile
fields)."""

from __future__ import annotations

import pytest

from ircli.clock import parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("500ms", 0.5), ("10s", 10.0), ("90", 90.0), ("2m", 120.0), ("2h", 7200.0),
     ("1.5h", 5400.0), ("1d", 86400.0), (" 3 d ", 259200.0), (12, 12.0)],
)  # fmt: skip
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["2 hours", "h", "2w", "-1h", "", True, None])
def test_not_durations(text: object) -> None:
    assert parse_duration(text) is None
