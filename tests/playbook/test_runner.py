"""The playbook runner end to end: dry run, run, conditions, canary, caps, waits."""

from __future__ import annotations

from pathlib import Path

from tests.executor.conftest import Ircli, Platform

PLAYBOOK = """\
playbook: 1
name: runner-test
profile: sandbox
inputs:
  min_reports: {type: integer, default: 40}
steps:
  - id: start
    note: {kind: detection, message: "test started by ${run.operator}"}
  - id: reported
    query:
      listing: streams
      filters: {status: live, min_reports: "${inputs.min_reports}"}
  - id: never
    when: steps.reported.count > 1000000
    action: flags.set
    targets: [live_streaming]
    params: {rollout_percent: 0}
  - id: suspend
    action: streams.suspend
    targets: {from: steps.reported.ids}
    max_targets: 1000
    canary: {first: 3, check: failure_ratio == 0, on_fail: abort}
  - id: gone
    wait:
      query: {listing: streams, filters: {status: live, min_reports: "${inputs.min_reports}"}}
      until: count == 0
      every: 1s
      timeout: 10s
  - id: done
    status: {status: mitigated, message: "suspended ${steps.suspend.succeeded} streams"}
"""


def write(tmp_path: Path, text: str = PLAYBOOK) -> Path:
    path = tmp_path / "runner-test.yaml"
    path.write_text(text)
    return path


def test_dry_run_sends_nothing_then_the_run_matches_the_plan(
    ircli: Ircli, platform: Platform, tmp_path: Path
) -> None:
    playbook = write(tmp_path)
    incident = ircli.json("incident", "open", "Runner test", "-s", "P3")["id"]
    before = platform.score()
    plan = ircli.json("run", str(playbook), "--dry-run", "--incident", incident)
    assert plan["status"] == "completed"
    assert platform.score()["malicious_streams_suspended"] == before["malicious_streams_suspended"]
    statuses = {step["id"]: step["status"] for step in plan["steps"]}
    assert statuses == {
        "start": "planned",
        "reported": "done",
        "never": "skipped",
        "suspend": "planned",
        "gone": "skipped",
        "done": "skipped",
    }
    planned = next(step for step in plan["steps"] if step["id"] == "suspend")
    assert planned["targets"] > 3

    result = ircli.json("run", str(playbook), "--yes", "--incident", incident)
    assert result["status"] == "completed", result
    assert result["plan_hash"] == plan["plan_hash"]  # the same targets as planned
    remaining = platform.get("/api/v1/streams?status=live&min_reports=40&limit=10")
    assert remaining["items"] == []
    shown = ircli.json("incident", "show", incident)
    assert shown["status"] == "mitigated"
    messages = [entry["message"] for entry in shown["timeline"]]
    assert "test started by tester" in messages
    assert f"suspended {planned['targets']} streams" in messages
    runs = ircli.json("runs", "list")
    assert {r["run"] for r in runs if r["kind"] == "action"} == {
        f"{result['run']}.suspend.canary",
        f"{result['run']}.suspend",
    }
    playbook_runs = {r["run"]: r for r in runs if r["kind"] == "playbook"}
    assert playbook_runs[result["run"]]["status"] == "completed"
    assert playbook_runs[plan["run"]]["dry_run"] is True
    assert ircli("audit", "verify").returncode == 0


def test_a_step_cap_refuses_before_sending(
    ircli: Ircli, platform: Platform, tmp_path: Path
) -> None:
    before = platform.score()["malicious_streams_suspended"]
    capped = write(tmp_path, PLAYBOOK.replace("max_targets: 1000", "max_targets: 2"))
    result = ircli("--json", "run", str(capped), "--yes")
    assert result.returncode == 3
    assert "over its max_targets of 2" in result.stdout
    assert platform.score()["malicious_streams_suspended"] == before


def test_unconfirmed_run_is_refused(ircli: Ircli, tmp_path: Path) -> None:
    result = ircli("run", str(write(tmp_path)))
    assert result.returncode == 3
    assert "needs confirmation; nothing was sent." in result.stderr


def test_bad_input_is_invalid(ircli: Ircli, tmp_path: Path) -> None:
    result = ircli("run", str(write(tmp_path)), "--yes", "--input", "min_reprots=3")
    assert result.returncode == 2
    assert "min_reprots" in result.stderr


def test_a_saved_plan_is_applied_exactly_once(
    ircli: Ircli, platform: Platform, tmp_path: Path
) -> None:
    playbook = write(tmp_path)
    plan_file = tmp_path / "plan.json"
    plan = ircli.json("run", str(playbook), "--dry-run", "--plan-out", str(plan_file))
    applied = ircli.json("run", str(playbook), "--plan", str(plan_file))
    assert applied["status"] == "completed", applied
    assert applied["plan_hash"] == plan["plan_hash"]
    again = ircli("run", str(playbook), "--plan", str(plan_file))
    assert again.returncode == 3
    assert f"was already applied by {applied['run']}" in again.stderr


def test_a_drifted_platform_refuses_the_plan(
    ircli: Ircli, platform: Platform, tmp_path: Path
) -> None:
    playbook = write(tmp_path)
    plan_file = tmp_path / "plan.json"
    plan = ircli.json("run", str(playbook), "--dry-run", "--plan-out", str(plan_file))
    sample = next(step for step in plan["steps"] if step["id"] == "suspend")["sample"]
    for stream in sample[:3]:  # someone suspended some planned targets meanwhile
        assert ircli("streams", "suspend", "--id", stream, "--yes").returncode == 0
    before = platform.score()["malicious_streams_suspended"]
    refused = ircli("run", str(playbook), "--plan", str(plan_file), "--max-drift", "0.01")
    assert refused.returncode == 3
    assert "the platform drifted since planning: step 'suspend'" in refused.stderr
    assert platform.score()["malicious_streams_suspended"] == before


def test_approvals_bound_to_the_plan(ircli: Ircli, platform: Platform, tmp_path: Path) -> None:
    playbook = write(
        tmp_path, PLAYBOOK.replace("steps:\n", "approvals: {count: 1, expires: 60m}\nsteps:\n", 1)
    )
    unplanned = ircli("run", str(playbook), "--yes")
    assert unplanned.returncode == 3
    assert "needs 1 approval(s) of its plan; nothing was sent." in unplanned.stderr
    plan_file = tmp_path / "plan.json"
    plan = ircli.json("run", str(playbook), "--dry-run", "--plan-out", str(plan_file))
    waiting = ircli.json("runs", "show", plan["run"])
    assert (waiting["approvals_needed"], waiting["approved_by"]) == (1, [])
    self_approval = ircli("runs", "approve", plan["run"])
    assert self_approval.returncode == 3
    assert "cannot approve it; another operator must" in self_approval.stderr
    not_yet = ircli("run", str(playbook), "--plan", str(plan_file))
    assert not_yet.returncode == 3
    assert "waits for 1 approval(s) by other operators (valid now: none)" in not_yet.stderr
    expired = ircli("runs", "approve", plan["run"], "--expires", "1ms", IRCLI_OPERATOR="lee")
    assert expired.returncode == 0, expired.stderr
    assert ircli("run", str(playbook), "--plan", str(plan_file)).returncode == 3
    granted = ircli.json("runs", "approve", plan["run"], IRCLI_OPERATOR="lee")
    assert granted["plan_hash"] == plan["plan_hash"]
    applied = ircli.json("run", str(playbook), "--plan", str(plan_file))
    assert applied["status"] == "completed", applied
    approvals = ircli.json("audit", "log", "--kind", "approval.granted")
    assert [a["operator"] for a in approvals] == ["lee", "lee"]


def test_on_error_rollback_undoes_the_run(ircli: Ircli, platform: Platform, tmp_path: Path) -> None:
    text = PLAYBOOK.replace(
        "    max_targets: 1000\n",
        "    max_targets: 1000\n    on_error: rollback\n",
    ).replace(
        "  - id: done\n",
        "  - id: impossible\n    action: streams.suspend\n    targets: [str_9999998, str_9999999]\n"
        "    max_failure_ratio: 0.1\n    on_error: rollback\n  - id: done\n",
    )
    before = platform.get("/api/v1/streams?status=live&min_reports=40&limit=1000")["items"]
    result = ircli.json("run", str(write(tmp_path, text)), "--yes")
    assert result["status"] == "rolled_back", result
    assert "rolled back" in result["status_reason"]
    after = platform.get("/api/v1/streams?status=live&min_reports=40&limit=1000")["items"]
    assert {s["id"] for s in after} == {s["id"] for s in before}


def test_notify_posts_to_the_configured_webhook(ircli: Ircli, tmp_path: Path) -> None:
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received: list[dict[str, object]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        config = tmp_path / "xdg" / "ircli"
        config.mkdir(parents=True)
        url = f"http://127.0.0.1:{server.server_port}/hook/s3cr3t-token"
        (config / "ircli.yaml").write_text(f"webhooks:\n  oncall: {url}\n")
        text = PLAYBOOK.split("steps:\n")[0] + (
            "steps:\n  - id: tell\n    notify: {webhook: oncall, "
            'message: "run ${run.id} by ${run.operator}"}\n'
        )
        result = ircli(
            "--json",
            "run",
            str(write(tmp_path, text)),
            "--yes",
            XDG_CONFIG_HOME=str(tmp_path / "xdg"),
        )
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "completed", result.stderr
    assert received == [
        {"text": f"run {outcome['run']} by tester", "run": outcome["run"], "incident": None}
    ]
    assert outcome["steps"][0]["summary"] == "notify oncall: HTTP 204"
    assert "s3cr3t-token" not in ircli.db.read_bytes().decode("latin-1")


def test_an_unusable_id_from_an_input_is_refused_naming_it(
    ircli: Ircli, platform: Platform, tmp_path: Path
) -> None:
    """`..` from a playbook input would act on the parent resource: refused, nothing sent."""
    text = (
        "playbook: 1\nname: from-input\nprofile: sandbox\n"
        "inputs:\n  ids: {type: list}\n"
        "steps:\n  - id: freeze\n    action: accounts.freeze\n"
        "    targets: {from: inputs.ids}\n"
    )
    before = platform.score()["requests"]
    result = ircli("run", str(write(tmp_path, text)), "--yes", "--input", "ids=acc_1,..")
    assert result.returncode == 2, result.stderr
    assert "freeze targets: id 2: '..' is not a usable id." in result.stderr
    assert platform.score()["requests"] == before
