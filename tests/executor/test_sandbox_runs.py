"""Ad-hoc runs against the real sandbox over loopback, with faults, guards and secrets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.executor.conftest import TOKEN, Ircli, Platform, account_ids, stream_ids, write_ids


@pytest.mark.slow
def test_faults_storm_every_target_done_exactly_once(
    ircli: Ircli, platform: Platform, tmp_path: Path
) -> None:
    # 14% of answers fail: about 100 retries expected, well inside the budget of 140 (20% of
    # 600 first attempts + 20); at 17% the expectation (~123) sat too close to it.
    platform.faults(**{"5xx": 0.08, "429": 0.04, "timeout": 0.02, "timeout_delay": "1.5s",
                       "retry_after": 0})  # fmt: skip
    ids = write_ids(tmp_path / "ids.txt", account_ids(600))
    summary = ircli.json(
        "accounts", "reset-password", "--ids-file", str(ids), "--yes", "--timeout", "0.5",
        "--concurrency", "32",
    )  # fmt: skip
    assert summary["status"] == "completed", summary
    failures = ircli.json("runs", "show", summary["run"])["failures"]
    assert summary["counts"]["done"] + summary["counts"]["already_done"] == 600, failures
    platform.faults()
    score = platform.score()
    # A password reset is not set-state: a second effect would be counted here.
    assert score["duplicate_effects"] == 0
    sample = account_ids(600)[::25]
    assert all(platform.get(f"/api/v1/accounts/{a}")["password_reset_required"] for a in sample)
    # Within the retry budget: first attempts + 20% of them + a floor of 20.
    assert summary["http_requests"]["action"] <= 600 + 0.2 * 600 + 20
    assert summary["retries"] > 0
    verify = ircli("audit", "verify")
    assert verify.returncode == 0, verify.stderr


def test_batch_mode_with_faults(ircli: Ircli, platform: Platform, tmp_path: Path) -> None:
    platform.faults(**{"5xx": 0.2, "retry_after": 0})
    ids = write_ids(tmp_path / "ids.txt", stream_ids(1500))
    summary = ircli.json("streams", "suspend", "--ids-file", str(ids), "--batch", "100", "--yes")
    assert summary["status"] == "completed", summary
    assert summary["counts"]["done"] + summary["counts"]["already_done"] == 1500
    assert summary["http_requests"]["action"] < 60
    assert platform.score()["duplicate_effects"] == 0


def test_guards_refuse_before_any_request(ircli: Ircli, platform: Platform, tmp_path: Path) -> None:
    before = platform.score()["requests_total"]
    ids = write_ids(tmp_path / "ids.txt", stream_ids(50))
    capped = ircli("streams", "suspend", "--ids-file", str(ids), "--max-targets", "10", "--yes")
    assert capped.returncode == 3
    assert "50 targets exceed the cap of 10; nothing was sent." in capped.stderr
    unconfirmed = ircli("streams", "suspend", "--ids-file", str(ids))
    assert unconfirmed.returncode == 3
    assert "needs confirmation; nothing was sent." in unconfirmed.stderr
    dry = ircli("streams", "suspend", "--ids-file", str(ids), "--dry-run")
    assert dry.returncode == 0
    assert "POST " + platform.url + "/api/v1/streams/str_0000001/suspend" in dry.stdout
    assert "[Idempotency-Key: ircli-" in dry.stdout
    # Not one request reached the platform's API (the score counts /api/v1 only).
    assert platform.score()["requests_total"] == before
    refusals = ircli.json("audit", "log", "--kind", "run.refused")
    assert [r["params"]["reason"] for r in refusals] == [
        "over the cap of 10",
        "confirmation required, not interactive",
    ]


def test_where_selects_with_server_filters(ircli: Ircli, platform: Platform) -> None:
    before = platform.score()["requests_total"]
    summary = ircli.json(
        "streams", "suspend", "--where", "status=live", "--where", "min_reports=40",
        "--batch", "8", "--reason", "report flood", "--yes",
    )  # fmt: skip
    received = platform.score()["requests_total"] - before
    assert summary["status"] == "completed"
    assert summary["targets"] > 8
    remaining = platform.get("/api/v1/streams?status=live&min_reports=40&limit=10")
    assert remaining["items"] == []
    # runs show: the HTTP requests by kind, apart from the target attempts, and what chose
    # the targets; they add up to what the platform received.
    shown = ircli.json("runs", "show", summary["run"])
    sent = shown["http_requests"]
    assert sent["action"] == -(-summary["targets"] // 8)  # batches of 8
    assert sent["listing"] >= 1  # the --where selection
    assert sent["probe"] == 1  # the preflight read
    assert shown["target_attempts"] == summary["targets"]
    assert sum(sent.values()) == received
    assert shown["selection"]["filters"] == {"status": "live", "min_reports": "40"}
    assert shown["reason"] == "report flood"
    text = ircli("runs", "show", summary["run"]).stdout
    assert f"HTTP requests: {sum(sent.values()):,} (" in text
    assert f"target attempts: {summary['targets']:,}" in text


def test_an_ids_file_is_recorded_by_name_and_digest(
    ircli: Ircli, platform: Platform, tmp_path: Path
) -> None:
    import hashlib

    ids = write_ids(tmp_path / "ids.txt", stream_ids(3))
    summary = ircli.json("streams", "suspend", "--ids-file", str(ids), "--yes")
    shown = ircli.json("runs", "show", summary["run"])
    assert shown["selection"] == {
        "source": "--ids-file",
        "ids_file": str(ids),
        "sha256": hashlib.sha256(ids.read_bytes()).hexdigest(),
        "column": None,
    }


def test_where_over_the_cap_stops_reading_and_refuses(ircli: Ircli, platform: Platform) -> None:
    before = platform.score()["requests_total"]
    capped = ircli("accounts", "freeze", "--where", "status=active", "--max-targets", "5", "--yes")
    assert capped.returncode == 3, capped.stderr
    assert "the accounts listing matches more than 5 targets (the cap); nothing was sent." in (
        capped.stderr
    )
    # One page of the listing was enough to know (the sandbox's pages hold up to 1,000).
    assert platform.score()["requests_total"] - before <= 1
    [refusal] = ircli.json("audit", "log", "--kind", "run.refused")
    assert refusal["params"]["reason"] == "over the cap of 5"
    # The read that found it out is on record too.
    sent = refusal["params"]["http_requests"]
    assert sum(sent.values()) == platform.score()["requests_total"] - before == sent["listing"]


def test_circuit_breaker_pauses_and_resumes_by_itself(
    ircli: Ircli, platform: Platform, tmp_path: Path
) -> None:
    import threading
    import time

    platform.faults(**{"5xx": 1.0})
    ids = write_ids(tmp_path / "ids.txt", stream_ids(200))
    process = ircli.start("--json", "streams", "suspend", "--ids-file", str(ids), "--yes",
                          "--concurrency", "8")  # fmt: skip

    def recover() -> None:
        # Heal once the run has met more failures than open the breaker (20 in a row by
        # default), however long it took to start: not after a fixed time.
        deadline = time.monotonic() + 120
        while platform.score()["requests"].get("503", 0) < 30 and time.monotonic() < deadline:
            time.sleep(0.05)
        platform.faults()

    healer = threading.Thread(target=recover)
    healer.start()
    out, err = process.communicate(timeout=120)
    healer.join()
    summary = json.loads(out)
    assert summary["status"] == "completed", err
    assert "requests paused, next health probe in 1 s" in err
    assert "platform answering again: resuming" in err


def test_incident_timeline_gets_the_run(ircli: Ircli, platform: Platform) -> None:
    opened = ircli.json("incident", "open", "Flood", "-s", "P1")
    summary = ircli.json(
        "streams", "suspend", "--id", "str_0000005", "--incident", opened["id"], "--yes",
        "--reason", "bot stream",
    )  # fmt: skip
    timeline = ircli.json("timeline", "show", opened["id"])
    messages = [entry["message"] for entry in timeline]
    assert f"{summary['run']}: streams.suspend on 1 targets" in messages
    assert f"{summary['run']}: streams.suspend: 1 of 1 targets done" in messages
    shown = ircli.json("runs", "show", summary["run"])
    assert shown["reason"] == "bot stream"


def test_profile_secret_never_lands(ircli: Ircli, platform: Platform, tmp_path: Path) -> None:
    outputs = []
    for argv in (
        ("streams", "suspend", "--id", "str_0000007", "--yes"),
        ("--debug", "streams", "suspend", "--id", "str_0000008", "--yes", "--profile", "nope"),
        ("runs", "list"),
        ("audit", "export", "--format", "jsonl"),
        ("audit", "export", "--format", "csv"),
    ):
        result = ircli(*argv)
        outputs += [result.stdout, result.stderr]
    assert "str_0000007" in "".join(outputs)
    assert all(TOKEN not in text for text in outputs)
    for path in (ircli.db, Path(f"{ircli.db}-wal")):
        if path.exists():
            assert TOKEN.encode() not in path.read_bytes()
