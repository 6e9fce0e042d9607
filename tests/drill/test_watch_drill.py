"""``ircli drill PLAYBOOK --watch``: the watch starts the playbook, in its own process on the
real clock (a watch needs time to pass: the tests' pinned clock would freeze it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SMALL = ("--accounts", "3000", "--streams", "400", "--bots", "300", "--compromised", "20")


def ircli(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IRCLI_")}
    env.update(IRCLI_DB=str(tmp_path / "audit.db"), IRCLI_OPERATOR="tester")
    return subprocess.run(
        [sys.executable, "-m", "ircli", *argv],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )


def drill(tmp_path: Path, *argv: str) -> tuple[int, dict[str, Any], str]:
    done = ircli(tmp_path, "--json", "drill", "live-flood-containment", *SMALL, *argv)
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout), done.stderr


@pytest.mark.slow
def test_the_watch_detects_the_attack_after_it_starts_and_contains_it(tmp_path: Path) -> None:
    code, result, stderr = drill(tmp_path, "--watch", "--attack-start", "12", "--formats", "json")
    assert code == 0, stderr + json.dumps(result["criteria"])
    score = result["score"]
    assert score["attack_started_at_seconds"] == 12
    assert score["detected_at_seconds"] >= 12
    assert score["contained_at_seconds"] > score["detected_at_seconds"]
    assert score["collateral_accounts"] == 0
    labels = {c["label"]: c["passed"] for c in result["criteria"]}
    assert labels["detected, after the attack started"] is True
    incident = json.loads(ircli(tmp_path, "--json", "incident", "show", result["incident"]).stdout)
    assert incident["title"] == "Drill: live-flood (seed 7): Live-stream flood by young accounts"
    assert incident["status"] == "resolved"
    started = json.loads(ircli(tmp_path, "--json", "audit", "log", "--kind", "run.started").stdout)
    [playbook] = [r for r in started if r["run"] == result["run"]]
    assert playbook["params"]["automated"] is True
    assert playbook["params"]["trigger"]["watch"] == "live-flood"
    report = json.loads((tmp_path / "reports" / f"{result['incident']}.json").read_text())
    assert report["drill"]["passed"] is True


def test_a_watch_drill_that_detects_nothing_fails_under_an_incident_saying_so(
    tmp_path: Path,
) -> None:
    code, result, _stderr = drill(
        tmp_path, "--watch", "--attack-start", "2", "--detect-within", "4", "--bot-rate", "0",
        "--formats", "json",
    )  # fmt: skip
    assert code == 1
    assert result["passed"] is False
    assert result["score"]["detected_at_seconds"] is None
    failed = [c["label"] for c in result["criteria"] if not c["passed"]]
    assert "detected, after the attack started" in failed
    incident = json.loads(ircli(tmp_path, "--json", "incident", "show", result["incident"]).stdout)
    assert incident["title"] == "Drill: live-flood (seed 7): not detected"
    notes = " ".join(e["message"] for e in incident["timeline"])
    assert "no rule fired within 6 s" in notes


def test_watch_with_a_playbook_no_watch_file_answers_is_refused(tmp_path: Path) -> None:
    done = ircli(tmp_path, "drill", "account-takeover-single", "--watch")
    assert done.returncode == 2
    assert done.stderr.startswith(
        "error: no shipped watch file responds with the playbook account-takeover-single.yaml"
    )
    assert not (tmp_path / "audit.db").exists(), "refused before anything is opened"


@pytest.mark.slow
def test_without_watch_a_timed_drill_starts_the_playbook_when_the_attack_does(
    tmp_path: Path,
) -> None:
    code, result, stderr = drill(tmp_path, "--attack-start", "6", "--formats", "json")
    assert code == 0, stderr + json.dumps(result["criteria"])
    score = result["score"]
    assert score["malicious_streams_total"] > 0, "the playbook met the attack"
    assert score["contained_at_seconds"] > 6
    started = json.loads(ircli(tmp_path, "--json", "audit", "log", "--kind", "run.started").stdout)
    [playbook] = [r for r in started if r["run"] == result["run"]]
    opened = json.loads(ircli(tmp_path, "--json", "incident", "show", result["incident"]).stdout)
    waited = _seconds(playbook["ts"]) - _seconds(opened["opened_at"])
    assert waited >= 6 - 1, "the playbook started once the attack had"


def _seconds(stamp: str) -> float:
    from ircli.clock import stored_time

    return stored_time(stamp).timestamp()
