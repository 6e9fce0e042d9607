"""``ircli watch`` as its own process against the real sandbox over loopback.

The world here starts mid-flood (a third of the bots are about to start their streams), so a
rule counting new streams of young accounts fires on its first samples: these tests are about
what a firing does — the incident, the webhook, the plan and its approval, the automatic run
and its records — not about timing (the drill benchmark measures that).
"""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from ircli.audit.records import RecordFilter
from ircli.audit.store import open_store
from ircli.errors import OperationFailed
from ircli.sandbox import RunningServer, WorldConfig, run_server
from ircli.watch.service import WatchSession
from tests.conftest import CliRunner
from tests.executor.conftest import Ircli

TOKEN = "watch-test-token"
WORLD = WorldConfig(
    seed=5,
    honest_accounts=6_000,
    honest_streams=800,
    bot_accounts=400,
    compromised_accounts=10,
    bot_rate=40.0,
    initial_bot_live_fraction=0.3,
    max_batch=100,
)

PLAYBOOK = """\
playbook: 1
name: young-streams
profile: sandbox
dsa:
  decision_ground: DECISION_GROUND_INCOMPATIBLE_CONTENT
  incompatible_content_ground: "Terms of service: no automated accounts."
  incompatible_content_explanation: "Part of a coordinated flood by automated accounts."
  incompatible_content_illegal: "No"
  category: STATEMENT_CATEGORY_SCAMS_AND_FRAUD
  decision_facts: "Selected by a watch rule over new live streams of young accounts."
  source_type: SOURCE_VOLUNTARY
  automated_detection: "Yes"
steps:
  - id: flood
    query:
      listing: streams
      filters: {status: live, min_moderation_score: "0.6"}
      where: age_days(account_created_at) < 3
  - id: suspend
    action: streams.suspend
    targets: {from: steps.flood.ids}
    batch: 100
    on_error: continue
"""

WATCH = """\
watch: 1
name: test-flood
profile: sandbox
signals:
  young:
    listing: streams
    filters: {{status: live, created_after: {{ago: 10m}}, account_created_after: {{ago: 7d}}}}
    every: 1s
rules:
  flood:
    title: Flood of young streams
    severity: P2
    when:
      - {{signal: young, above: 20}}
    notify: [oncall]
    respond:
      playbook: ./young-streams.yaml
      approval: {approval}
      guardrails: {{max_targets_per_step: 5000, max_failure_ratio: 0.2, canary_percent: 10}}
"""


def wait_for(check: Any, what: str, deadline: float = 120.0) -> Any:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningServer]:
    with run_server(WORLD, token=TOKEN) as running:
        yield running


@pytest.fixture
def platform(sandbox: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=sandbox.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
    ) as control:
        control.post("/_sandbox/reset", json={"seed": 5}).raise_for_status()
        # Until every bot has started its stream, the flood moves under a plan: approving a
        # plan that has drifted is refused (tested apart), so these tests wait for it to settle.
        to_start = WORLD.bot_accounts - int(WORLD.bot_accounts * WORLD.initial_bot_live_fraction)
        wait_for(
            lambda: control.get("/_sandbox/score").json()["attacker_streams_started"] >= to_start,
            "every bot's stream",
        )
        yield control


class Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        Hook.received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        return


@pytest.fixture
def webhook() -> Iterator[str]:
    Hook.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def files(tmp_path: Path, approval: str, threshold: int = 20) -> Path:
    (tmp_path / "young-streams.yaml").write_text(PLAYBOOK, encoding="utf-8")
    path = tmp_path / "watch.yaml"
    text = WATCH.format(approval=approval).replace("above: 20", f"above: {threshold}")
    path.write_text(text, encoding="utf-8")
    return path


def ircli_for(tmp_path: Path, sandbox: RunningServer, webhook: str) -> Ircli:
    return Ircli(
        tmp_path / "audit.db",
        sandbox.url,
        {"IRCLI_SANDBOX_TOKEN": TOKEN, "IRCLI_WEBHOOK_ONCALL": webhook},
    )


def records(ircli: Ircli, kind: str) -> list[dict[str, Any]]:
    return list(ircli.json("audit", "log", "--kind", kind))


def plans(ircli: Ircli) -> list[str]:
    """The plan runs the watch waits (or waited) on for approval, in order."""
    if not ircli.db.exists():  # the watch has not created its store yet
        return []
    return [
        str(r["params"]["plan_run"])
        for r in records(ircli, "watch.decision")
        if r["params"]["decision"] == "awaiting_approval"
    ]


def test_a_pre_approved_response_runs_at_once_automated_and_guarded(
    tmp_path: Path, sandbox: RunningServer, platform: httpx.Client, webhook: str
) -> None:
    ircli = ircli_for(tmp_path, sandbox, webhook)
    watch = files(tmp_path, "pre-approved")
    result = ircli("--json", "watch", str(watch), "--once", "--duration", "10m")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["status_reason"] == "the response is over"
    [fired] = summary["fired"]
    [response] = summary["responses"]
    assert response["state"] == "completed", response
    assert response["incident"] == fired["incident"]
    # The incident: detected when the rule first held, by the watch.
    incident = ircli.json("incident", "show", fired["incident"])
    assert incident["title"] == "Flood of young streams"
    assert incident["severity"] == "P2"
    assert incident["milestones"]["detected"] == fired["detected_at"]
    [opened] = records(ircli, "incident.opened")
    assert opened["params"]["detected_by"]["rule"] == "flood"
    assert opened["params"]["detected_by"]["automated"] is True
    notes = [e["message"] for e in incident["timeline"] if e["kind"] == "detection"]
    assert any(
        n.startswith("Detected by ircli watch test-flood, rule flood: young > 20: ") for n in notes
    )
    # The evidence, the webhook, the decisions: all automated.
    [evidence] = records(ircli, "watch.fired")
    assert evidence["params"]["automated"] is True
    assert evidence["params"]["conditions"][0]["holds"] is True
    assert evidence["params"]["conditions"][0]["value"] > 20
    assert evidence["operator"] == "watch:tester"
    assert [h["rule"] for h in Hook.received] == ["flood"]
    assert Hook.received[0]["incident"] == fired["incident"]
    decisions = [r["params"]["decision"] for r in records(ircli, "watch.decision")]
    assert decisions == ["run_pre_approved", "run_finished"]
    # The playbook run: automated, its trigger named, its steps guarded (a canary ran first).
    started = [r for r in records(ircli, "run.started") if r["run"] == response["run"]]
    assert started[0]["params"]["automated"] is True
    assert started[0]["params"]["trigger"]["rule"] == "flood"
    assert started[0]["params"]["trigger"]["guardrails"]["canary_percent"] == 10
    runs = {r["run"] for r in records(ircli, "run.started")}
    assert f"{response['run']}.suspend.canary" in runs
    suspended = platform.get("/_sandbox/score").json()["malicious_streams_suspended"]
    assert suspended > 0
    # What the EU DSA statements say of an automatic decision.
    dsa = ircli("report", fired["incident"], "-f", "dsa", "-o", str(tmp_path / "s.jsonl"))
    assert dsa.returncode == 0, dsa.stderr
    statements = [json.loads(line) for line in (tmp_path / "s.jsonl").read_text().splitlines()]
    assert statements
    assert {s["automated_decision"] for s in statements} == {"AUTOMATED_DECISION_FULLY"}
    assert ircli("audit", "verify").returncode == 0


def test_a_webhook_that_holds_its_answer_never_holds_the_containment_back(
    tmp_path: Path, sandbox: RunningServer, platform: httpx.Client
) -> None:
    db = tmp_path / "audit.db"

    def run_started() -> bool:
        if not db.exists():
            return False
        with open_store(str(db), operator="hook", create=False) as store:
            return any(store.records(RecordFilter(kinds=("run.started",), limit=1)))

    class Slow(BaseHTTPRequestHandler):
        """Answers only once the playbook run has started: a watch that waited for its
        webhook before responding would see it time out instead."""

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            wait_for(run_started, "the playbook run, before the webhook answers", deadline=60)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        ircli = ircli_for(tmp_path, sandbox, f"http://127.0.0.1:{server.server_address[1]}/")
        watch = files(tmp_path, "pre-approved")
        result = ircli("--json", "watch", str(watch), "--once", "--duration", "10m")
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 0, result.stderr
    [response] = json.loads(result.stdout)["responses"]
    assert response["state"] == "completed", response
    [notified] = records(ircli, "watch.notified")
    assert (notified["params"]["status"], notified["params"]["detail"]) == ("done", "HTTP 204")
    first_run = min(r["seq"] for r in records(ircli, "run.started"))
    assert first_run < notified["seq"]


def test_a_person_approves_the_plan_and_the_watch_applies_exactly_it(
    tmp_path: Path, sandbox: RunningServer, platform: httpx.Client, webhook: str
) -> None:
    ircli = ircli_for(tmp_path, sandbox, webhook)
    watch = files(tmp_path, "person")
    process = ircli.start("--json", "watch", str(watch), "--once", "--duration", "10m")
    try:
        [plan_run] = wait_for(lambda: plans(ircli), "the plan")
        assert platform.get("/_sandbox/score").json()["malicious_streams_suspended"] == 0
        own = ircli("runs", "approve", plan_run, IRCLI_OPERATOR="watch:tester")
        assert own.returncode == 3, "the watch's plan is not approved by the watch"
        approved = ircli("runs", "approve", plan_run, IRCLI_OPERATOR="dana")
        assert approved.returncode == 0, approved.stderr
        stdout, stderr = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    [response] = json.loads(stdout)["responses"]
    assert response["state"] == "completed"
    assert response["plan_run"] == plan_run
    started = [r for r in records(ircli, "run.started") if r["run"] == response["run"]]
    params = started[0]["params"]
    assert params["automated"] is False
    assert params["trigger"]["approved_by"] == ["dana"]
    assert params["applies_plan"]
    decisions = [r["params"]["decision"] for r in records(ircli, "watch.decision")]
    assert decisions == ["awaiting_approval", "approved", "run_finished"]
    assert platform.get("/_sandbox/score").json()["malicious_streams_suspended"] > 0


def test_a_platform_it_cannot_read_stops_the_watch_at_once(tmp_path: Path, webhook: str) -> None:
    ircli = Ircli(tmp_path / "audit.db", "http://127.0.0.1:9", {"IRCLI_WEBHOOK_ONCALL": webhook})
    watch = files(tmp_path, "person")
    result = ircli("watch", str(watch), "--duration", "10m")
    assert result.returncode == 1
    assert "error: cannot read signal young from http://127.0.0.1:9" in result.stderr
    assert "nothing was watched." in result.stderr
    assert "Traceback" not in result.stderr
    [stopped] = records(ircli, "watch.stopped")
    assert stopped["params"]["status_reason"].startswith("failed: cannot read signal young")
    assert records(ircli, "incident.opened") == []


def test_the_watch_sets_back_a_flag_change_whose_time_is_up(
    tmp_path: Path, sandbox: RunningServer, platform: httpx.Client, webhook: str
) -> None:
    ircli = ircli_for(tmp_path, sandbox, webhook)
    watch = files(tmp_path, "person", threshold=1_000_000)  # a rule that never fires
    change = ircli("flags", "set", "live_streaming", "--off", "--for", "1s", "--yes")
    assert change.returncode == 0, change.stderr
    flags = {f["name"]: f for f in platform.get("/api/v1/flags").json()["items"]}
    assert flags["live_streaming"]["enabled"] is False
    # Housekeeping runs every 10 s: 25 s gives it two chances, whatever the machine's load.
    result = ircli("--json", "watch", str(watch), "--duration", "25s")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["fired"] == []
    [revert] = summary["reverted_runs"]
    flags = {f["name"]: f for f in platform.get("/api/v1/flags").json()["items"]}
    assert flags["live_streaming"]["enabled"] is True
    started = [r for r in records(ircli, "run.started") if r["run"] == revert]
    assert started[0]["params"]["automated"] is True
    assert started[0]["operator"] == "watch:tester"


def test_ctrl_c_stops_the_watch_as_it_stops_a_run(
    tmp_path: Path, sandbox: RunningServer, platform: httpx.Client, webhook: str
) -> None:
    ircli = ircli_for(tmp_path, sandbox, webhook)
    watch = files(tmp_path, "person", threshold=1_000_000)  # a rule that never fires
    process = ircli.start("--json", "watch", str(watch))
    try:

        def polled() -> bool:
            # watching: its first record written (the store exists from then on), and its
            # polls reaching the platform (the score counts the API's requests only)
            if not ircli.db.exists() or not records(ircli, "watch.started"):
                return False
            return int(platform.get("/_sandbox/score").json()["requests_total"]) > 0

        wait_for(polled, "the watch's first poll")
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert json.loads(stdout)["status_reason"] == "stopped by the operator"
    [stopped] = records(ircli, "watch.stopped")
    assert stopped["params"]["status_reason"] == "stopped by the operator"


def test_a_platform_lost_mid_watch_is_said_and_put_on_record_and_found_again(
    tmp_path: Path, sandbox: RunningServer, platform: httpx.Client, webhook: str
) -> None:
    ircli = ircli_for(tmp_path, sandbox, webhook)
    watch = files(tmp_path, "person", threshold=1_000_000)  # a rule that never fires
    process = ircli.start("--json", "watch", str(watch), "--duration", "10m")
    try:
        wait_for(lambda: ircli.db.exists() and records(ircli, "watch.started"), "the watch")
        wait_for(lambda: platform.get("/_sandbox/score").json()["requests_total"], "a poll")
        platform.put("/_sandbox/faults", json={"5xx": 1}).raise_for_status()
        [lost] = wait_for(lambda: records(ircli, "watch.signal_lost"), "the loss on record")
        assert records(ircli, "watch.signal_restored") == []
        platform.put("/_sandbox/faults", json={}).raise_for_status()
        [restored] = wait_for(lambda: records(ircli, "watch.signal_restored"), "the recovery")
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        platform.put("/_sandbox/faults", json={})
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, stderr
    assert lost["params"]["signal"] == "young"
    assert lost["params"]["url"] == sandbox.url
    assert "503" in lost["params"]["error"]
    assert lost["params"]["automated"] is True
    assert restored["params"]["failed_polls"] >= 1
    assert restored["seq"] > lost["seq"]
    assert f"warning: signal young: {lost['params']['error']}" in stderr
    assert "signal young: read again after" in stderr
    assert json.loads(stdout)["failed_polls"] >= restored["params"]["failed_polls"]


def test_a_watch_task_that_fails_stops_the_watch_at_once_and_says_why(
    cli: CliRunner, db: str, tmp_path: Path, sandbox: RunningServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    # A poller that fails (here: the store refusing what judging a sample writes) must not
    # leave its signal unwatched in silence until --duration.
    judged: list[str] = []

    def failing(self: WatchSession, name: str) -> None:
        judged.append(name)
        if len(judged) == 3:
            raise OperationFailed("the audit store refused a write: database or disk is full.")

    monkeypatch.setattr(WatchSession, "_judge", failing)
    watch = files(tmp_path, "person", threshold=1_000_000)
    env = {"IRCLI_PROFILE": "sandbox", "IRCLI_SANDBOX_URL": sandbox.url,
           "IRCLI_SANDBOX_TOKEN": TOKEN, "IRCLI_WEBHOOK_ONCALL": "http://127.0.0.1:9/"}  # fmt: skip
    result = cli("--json", "watch", str(watch), "--duration", "2m", env=env)
    assert result.exit_code == 1, result.stderr
    assert "error: the audit store refused a write: database or disk is full." in result.stderr
    assert len(judged) == 3
    with open_store(db, operator="checker", create=False) as store:
        [stopped] = store.records(RecordFilter(kinds=("watch.stopped",)))
    assert stopped.params["status_reason"] == (
        "failed: the audit store refused a write: database or disk is full."
    )


def test_a_plan_the_platform_drifted_from_is_planned_again_for_a_new_approval(
    tmp_path: Path, sandbox: RunningServer, platform: httpx.Client, webhook: str
) -> None:
    ircli = ircli_for(tmp_path, sandbox, webhook)
    watch = files(tmp_path, "person")
    process = ircli.start("--json", "watch", str(watch), "--once", "--duration", "10m")
    try:
        [first] = wait_for(lambda: plans(ircli), "the first plan")
        # Someone else freezes the accounts behind every stream the plan would suspend: their
        # streams end, and frozen accounts start no new ones — the plan's targets are gone.
        owners: set[str] = set()
        query = {"status": "live", "min_moderation_score": "0.6", "limit": "1000"}
        while True:
            page = platform.get("/api/v1/streams", params=query).json()
            owners.update(s["account_id"] for s in page["items"])
            if not page["next_cursor"]:
                break
            query["cursor"] = page["next_cursor"]
        frozen = sorted(owners)
        for start in range(0, len(frozen), 100):
            platform.post(
                "/api/v1/accounts/batch/freeze", json={"ids": frozen[start : start + 100]}
            ).raise_for_status()
        assert ircli("runs", "approve", first, IRCLI_OPERATOR="dana").returncode == 0
        second = wait_for(lambda: plans(ircli)[1:], "a second plan")[0]
        assert second != first
        approved = ircli("runs", "approve", second, IRCLI_OPERATOR="dana")
        assert approved.returncode == 0, approved.stderr
        stdout, stderr = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert "the platform drifted since planning" in stderr
    decisions = [r["params"]["decision"] for r in records(ircli, "watch.decision")]
    assert decisions == [
        "awaiting_approval", "approved", "refused", "awaiting_approval", "approved", "run_finished",
    ]  # fmt: skip
    [response] = json.loads(stdout)["responses"]
    assert response["plan_run"] == second
    assert response["state"] == "completed"
