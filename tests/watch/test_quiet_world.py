"""The shipped watch file over a quiet world for 120 s: its rule must not fire.

The sandbox's world is the full default one with its attack far in the future: honest
streams start and end, users report, new users stream now and then — an ordinary evening.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ircli.sandbox import RunningServer, WorldConfig, run_server
from tests.executor.conftest import Ircli

TOKEN = "quiet-world-token"


@pytest.fixture(scope="module")
def quiet() -> Iterator[RunningServer]:
    with run_server(WorldConfig(seed=7, attack_start_seconds=3_600.0), token=TOKEN) as running:
        yield running


@pytest.mark.slow
def test_the_shipped_rule_does_not_fire_in_a_quiet_world_for_120_seconds(
    tmp_path: Path, quiet: RunningServer
) -> None:
    ircli = Ircli(tmp_path / "audit.db", quiet.url, {"IRCLI_SANDBOX_TOKEN": TOKEN})
    result = ircli("--json", "watch", "live-flood", "--duration", "120s")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["fired"] == []
    assert summary["failed_polls"] == 0
    # Every 2 s and 5 s for 120 s: 84 polls on an idle machine; a busy one may skip some.
    assert summary["polls"] >= 40, summary
    assert json.loads(ircli("--json", "incident", "list").stdout) == []
    [stopped] = json.loads(ircli("--json", "audit", "log", "--kind", "watch.stopped").stdout)
    assert stopped["params"]["fired"] == 0
