"""``ircli drill --attack-start``: the option reaches the in-process sandbox's world."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import CliRunner
from tests.drill.test_drill_cli import SMALL, WEAK, incidents


def test_the_attack_start_reaches_the_sandbox_world(cli: CliRunner, tmp_path: Path) -> None:
    # Without --watch the playbook starts when the attack does: the drill waits the 2 s, but
    # the tests' pinned clock keeps the sandbox before the attack, so there is nothing yet.
    result = cli(
        "--json", "drill", WEAK, *SMALL, "--attack-start", "2",
        "--pass", "attack_started_at_seconds == 2 and malicious_streams_total == 0",
        "--formats", "json", "--report-dir", str(tmp_path),
    )  # fmt: skip
    assert result.exit_code == 0, result.stdout + result.stderr
    score = json.loads(result.stdout)["score"]
    assert score["attack_started_at_seconds"] == 2
    assert score["contained_at_seconds"] is None  # nothing to contain before the attack


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ("--url", "http://127.0.0.1:9", "--attack-start", "30"),
            "error: --attack-start applies to the in-process sandbox only; start a running one "
            "with `ircli sandbox serve --attack-start` or POST /_sandbox/reset.\n",
        ),
        (
            ("--attack-start", "1e9"),
            "error: the attack start must be between 0 and 604,800 seconds.\n",
        ),
    ],
)
def test_a_bad_attack_start_exits_2_before_anything_happens(
    cli: CliRunner, db_path: Path, argv: tuple[str, ...], message: str
) -> None:
    result = cli("drill", WEAK, *argv)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert result.stderr == message
    assert not db_path.exists() or incidents(cli) == []
