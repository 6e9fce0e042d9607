"""``ircli runs resume`` of a whole playbook run: killed anywhere, resumed until done, the
containment holds, nothing is done twice, every note appears once."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ircli.audit.records import RecordFilter
from ircli.audit.store import open_store
from ircli.drill import default_criteria, evaluate_criteria
from ircli.sandbox import RunningServer, WorldConfig, run_server

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = ROOT / "playbooks" / "live-flood-containment.yaml"
WORLD = WorldConfig(
    seed=7, honest_accounts=3000, honest_streams=400, bot_accounts=300, compromised_accounts=20
)


@pytest.fixture
def sandbox() -> Iterator[RunningServer]:
    with run_server(WORLD) as running:
        yield running


class Responder:
    """``ircli`` processes against one store and the sandbox."""

    def __init__(self, tmp_path: Path, url: str) -> None:
        self.db = tmp_path / "audit.db"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("IRCLI_", "XDG_"))},
            "HOME": str(tmp_path),
            "IRCLI_DB": str(self.db),
            "IRCLI_OPERATOR": "oncall",
            "IRCLI_SANDBOX_URL": url,
        }

    def start(self, *argv: str, **env: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "ircli", *argv], cwd=ROOT, env={**self.env, **env},
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
            text=True,
        )  # fmt: skip

    def __call__(self, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ircli", *argv], cwd=ROOT, env={**self.env, **env},
            capture_output=True, stdin=subprocess.DEVNULL, text=True, timeout=600,
        )  # fmt: skip

    def json(self, *argv: str) -> Any:
        done = self("--json", *argv)
        assert done.stdout, done.stderr
        return json.loads(done.stdout)

    def playbook_run(self) -> str | None:
        if not self.db.exists():
            return None
        with open_store(str(self.db), operator="checker") as store:
            for record in store.records(RecordFilter(kinds=("run.started",))):
                if "playbook" in record.params:
                    return record.run
        return None


def open_incident(responder: Responder) -> str:
    opened = responder("incident", "open", "Live flood", "-s", "P1")
    assert opened.returncode == 0, opened.stderr
    return opened.stdout.strip()


def check_contained(responder: Responder, sandbox: RunningServer, run: str, incident: str) -> None:
    """The containment drill's criteria hold, nothing twice, each note of the run once."""
    verify = responder("audit", "verify")
    assert verify.returncode == 0, verify.stderr
    token = {"Authorization": "Bearer sandbox-dev-token"}
    with httpx.Client(base_url=sandbox.url, headers=token, timeout=30) as http:
        score = http.get("/_sandbox/score").json()
    failed = [r.label for r in evaluate_criteria(default_criteria(), score, audit_ok=True)
              if not r.passed]  # fmt: skip
    assert failed == [], score
    assert score["duplicate_effects"] == 0
    with open_store(str(responder.db), operator="checker") as store:
        notes = Counter(
            (r.step, r.params["message"])
            for r in store.records(RecordFilter(incident=incident, kinds=("timeline.note",)))
            if r.run == run
        )
        statuses = Counter(
            r.params["status"]
            for r in store.records(RecordFilter(incident=incident, kinds=("incident.status",)))
        )
    assert notes, "the playbook's notes are on the incident's timeline"
    assert max(notes.values()) == 1, notes
    assert statuses["mitigated"] == 1
    shown = responder.json("runs", "show", run)
    assert shown["status"] == "completed"


def test_a_playbook_run_killed_in_a_step_is_resumed_as_one(
    sandbox: RunningServer, tmp_path: Path
) -> None:
    responder = Responder(tmp_path, sandbox.url)
    incident = open_incident(responder)
    killed = responder("run", "live-flood-containment", "--incident", incident, "--yes",
                       IRCLI_TEST_CRASH_AT="after-outcome:4")  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    run = responder.playbook_run()
    assert run is not None
    listed = {r["run"]: r for r in responder.json("runs", "list")}
    assert listed[run]["status"] == "crashed"
    assert listed[run]["kind"] == "playbook"
    assert listed[run]["stopped_in"] is not None
    shown = responder("runs", "show", run)
    assert f"stopped in step {listed[run]['stopped_in']}; continue with: " in shown.stdout

    resumed = responder("runs", "resume", run, "--yes")
    assert resumed.returncode == 0, resumed.stderr
    check_contained(responder, sandbox, run, incident)
    with open_store(str(responder.db), operator="checker") as store:
        # Finished steps were not run again: one step.started per step (and per include).
        starts = store.records(RecordFilter(run=run, kinds=("step.started",)))
        started = Counter(record.step for record in starts)
    assert max(started.values()) == 1, started


@pytest.mark.parametrize(
    ("changed", "flag"), [("playbook", "--allow-changed"), ("profile", "--profile-changed")]
)
def test_a_changed_playbook_or_profile_is_not_resumed_unless_allowed(
    sandbox: RunningServer, tmp_path: Path, changed: str, flag: str
) -> None:
    playbook, profile = tmp_path / "containment.yaml", tmp_path / "platform.yaml"
    shutil.copy(PLAYBOOK, playbook)
    shutil.copy(ROOT / "profiles" / "sandbox.yaml", profile)
    responder = Responder(tmp_path, sandbox.url)
    incident = open_incident(responder)
    argv = ("run", str(playbook), "--profile", str(profile), "--incident", incident, "--yes")
    killed = responder(*argv, IRCLI_TEST_CRASH_AT="after-intent:3")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    run = responder.playbook_run()
    assert run is not None
    edited = playbook if changed == "playbook" else profile
    edited.write_text(edited.read_text() + "\n# edited after the run started\n")

    refused = responder("runs", "resume", run, "--yes")
    assert refused.returncode == 3, refused.stderr
    assert f"changed since {run} started" in refused.stderr
    assert flag in refused.stderr
    reasons = [r["params"]["reason"] for r in responder.json("audit", "log", "--run", run)
               if r["kind"] == "run.refused"]  # fmt: skip
    assert reasons == [f"resume refused: the {changed} changed since the run started"]

    allowed = responder("runs", "resume", run, "--yes", flag)
    assert allowed.returncode == 0, allowed.stderr
    (resumed,) = [r for r in responder.json("audit", "log", "--run", run)
                  if r["kind"] == "run.resumed"]  # fmt: skip
    assert resumed["params"][f"{changed}_sha256"] != ""
    check_contained(responder, sandbox, run, incident)
    again = responder("runs", "resume", run, "--yes")
    assert again.returncode == 2
    assert "is completed; there is nothing to resume" in again.stderr


@pytest.mark.slow
def test_killed_at_random_ten_times_and_resumed_until_done(
    sandbox: RunningServer, tmp_path: Path
) -> None:
    responder = Responder(tmp_path, sandbox.url)
    incident = open_incident(responder)
    rng = random.Random(11)
    # Waits of 10 s (settle): the run outlasts ten kills at 0.3–1.5 s intervals.
    process = responder.start("run", "live-flood-containment", "--incident", incident, "--yes",
                              "--input", "settle=10s")  # fmt: skip
    deadline = time.monotonic() + 120
    while (run := responder.playbook_run()) is None:  # the run must exist to be resumed
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the playbook run never started"
        time.sleep(0.05)
    kills = 0
    for _attempt in range(60):
        if kills < 10:
            time.sleep(rng.uniform(0.3, 1.5))  # a random point in the run: what is under test
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                kills += 1
        try:
            _out, err = process.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            pytest.fail("a resumed run hung")
        if process.returncode == 0:
            if kills >= 10:
                break
        elif process.returncode != -signal.SIGKILL:
            pytest.fail(f"the run failed (exit {process.returncode}): {err}")
        assert responder.json("runs", "show", run)["status"] != "completed", (
            f"the run completed after {kills} kills: too short to be killed ten times"
        )
        process = responder.start("runs", "resume", run, "--yes")
    assert kills >= 10
    check_contained(responder, sandbox, run, incident)


def test_step_run_ids_stay_distinct_when_long() -> None:
    from ircli.playbook.execution import step_run_id

    run = "RUN-20261201-ABCDEF." + "a_very_long_step_identifier_" * 2
    main, canary = step_run_id(run), step_run_id(f"{run}.canary")
    assert len(main) <= 64
    assert len(canary) <= 64
    assert main != canary
    assert step_run_id("RUN-20261201-ABCDEF.freeze") == "RUN-20261201-ABCDEF.freeze"
