"""Rollback restores exactly what a run changed, in stages, with a check between them."""

from __future__ import annotations

from pathlib import Path

from ircli.executor.rollback import parse_stages
from tests.executor.conftest import Ircli, Platform, stream_ids, write_ids


def status(platform: Platform, stream: str) -> str:
    return str(platform.get(f"/api/v1/streams/{stream}")["status"])


def test_rollback_reverts_only_what_the_run_changed(
    ircli: Ircli, platform: Platform, tmp_path: Path
) -> None:
    ids = stream_ids(60, start=300)
    assert ircli("streams", "suspend", "--id", ids[0], "--yes").returncode == 0  # earlier run
    summary = ircli.json(
        "streams", "suspend", "--ids-file", str(write_ids(tmp_path / "i", ids)), "--yes"
    )
    assert summary["counts"] == {
        "done": 59,
        "already_done": 1,
        "retryable": 0,
        "failed": 0,
        "protected": 0,
        "unknown": 0,
        "untouched": 0,
    }
    refused = ircli("runs", "rollback", summary["run"])
    assert refused.returncode == 3
    result = ircli.json(
        "runs",
        "rollback",
        summary["run"],
        "--stages",
        "10,50,100",
        "--check",
        "failure_ratio < 0.5",
        "--yes",
    )
    assert result["status"] == "completed", result
    assert result["reverted"] == 59
    assert [stage["targets"] for stage in result["stages"]] == [6, 24, 29]
    assert status(platform, ids[0]) == "suspended"  # not this run's change: left alone
    assert {status(platform, s) for s in ids[1:]} == {"live"}
    assert ircli("audit", "verify").returncode == 0


def test_a_failing_check_stops_between_stages(
    ircli: Ircli, platform: Platform, tmp_path: Path
) -> None:
    ids = stream_ids(20, start=400)
    summary = ircli.json(
        "streams", "suspend", "--ids-file", str(write_ids(tmp_path / "i", ids)), "--yes"
    )
    result = ircli.json(
        "runs",
        "rollback",
        summary["run"],
        "--stages",
        "25,100",
        "--check",
        "succeeded > 100",
        "--yes",
    )
    assert result["status"] == "stopped"
    assert result["reverted"] == 5
    assert sum(status(platform, s) == "live" for s in ids) == 5


def test_stage_parsing() -> None:
    assert parse_stages("1,10,50") == [0.01, 0.1, 0.5, 1.0]
    assert parse_stages(None) == [1.0]
