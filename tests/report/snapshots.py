"""Snapshot comparison: ``UPDATE_SNAPSHOTS=1 pytest tests/report`` rewrites the expected files."""

from __future__ import annotations

import os
from pathlib import Path

SNAPSHOTS = Path(__file__).parent / "snapshots"


def assert_snapshot(name: str, actual: str) -> None:
    """``actual`` equals the stored snapshot ``name`` (or replaces it when updating)."""
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.write_text(actual, encoding="utf-8", newline="")
        return
    assert path.exists(), f"missing snapshot {path}; run with UPDATE_SNAPSHOTS=1"
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{name} changed; review the diff, then UPDATE_SNAPSHOTS=1"
