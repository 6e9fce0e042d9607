"""A step's ``for:``: validated where it is written (running it: tests/executor/test_expiry.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ircli.playbook.loader import load_playbook
from ircli.playbook.model import ActionStep, playbook_schema
from tests.conftest import CliRunner
from tests.playbook.test_loader import refused, write

EXPIRING = """\
playbook: 1
name: pause-live
steps:
  - id: pause
    action: flags.set
    targets: [live_streaming]
    params: {enabled: false}
    for: 2h
"""


def test_an_expiring_step_validates(cli: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, EXPIRING)
    result = cli("playbook", "validate", str(path), "--profile", "sandbox")
    assert result.exit_code == 0, result.stderr
    [step] = load_playbook(path).steps
    assert isinstance(step, ActionStep)
    assert step.expires_after == 7200.0


def test_the_schema_takes_for_in_hours() -> None:
    import re

    written = playbook_schema()["$defs"]["ActionStep"]["properties"]["for"]
    [duration, none] = written["anyOf"]
    assert none == {"type": "null"}
    pattern = next(part["pattern"] for part in duration["anyOf"] if "pattern" in part)
    assert re.match(pattern, "2h")
    assert re.match(pattern, "1d")
    assert not re.match(pattern, "2 hours")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "for: 2h",
            "for: 2 hours",
            "pb.yaml:8:10: steps -> 0 -> for: expected a duration such as 10s, 500ms or 2m, got "
            "the string '2 hours'.",
        ),
        (
            "for: 2h",
            "for: 1.5s",
            "pb.yaml:8:10: steps -> 0 -> for: an expiry is whole seconds, from 1 s to 366 days "
            "(e.g. 30m, 2h or 1d).",
        ),
        (
            "for: 2h",
            "for: 400d",
            "pb.yaml:8:10: steps -> 0 -> for: an expiry is whole seconds, from 1 s to 366 days "
            "(e.g. 30m, 2h or 1d).",
        ),
        (
            "action: flags.set\n    targets: [live_streaming]\n    params: {enabled: false}",
            "action: streams.suspend\n    targets: [str_0000001]",
            "pb.yaml:7:10: steps -> 0 -> for: the action 'streams.suspend' cannot expire: for: is "
            "for flags.set, whose earlier state ircli reads and sets back.",
        ),
        (
            "for: 2h",
            "for: 2h\n    undo: {params: {rollout_percent: 100}}",
            "pb.yaml:9:20: steps -> 0 -> undo -> params: the undo of an expiring step must set "
            "enabled too: the step sets it, and the expiry is to set it back.",
        ),
    ],
)
def test_a_bad_for_is_refused_where_it_is_written(
    cli: CliRunner, tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert old in EXPIRING
    assert refused(cli, tmp_path, EXPIRING.replace(old, new)) == message
