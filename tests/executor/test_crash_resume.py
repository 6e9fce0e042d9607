"""kill -9 at every crash point, and at random moments, then resume: exactly once, nothing lost.

Password resets are the action under test: the sandbox counts a second reset of an account
as a duplicate effect, so "exactly once" is checked by the platform itself.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ircli.audit.store import open_store
from ircli.executor.service import list_runs
from tests.executor.conftest import ROOT, Ircli, Platform, account_ids, write_ids


def latest_run(ircli: Ircli) -> str:
    """The newest run in the store."""
    runs = ircli.json("runs", "list")
    assert runs, "no run was recorded"
    return str(runs[0]["run"])


def resume_exactly_once(ircli: Ircli, platform: Platform, ids: list[str], run: str) -> None:
    """``runs resume RUN --yes`` succeeds and leaves every target done exactly once."""
    resumed = ircli("--json", "runs", "resume", run, "--yes")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    check_exactly_once(ircli, platform, ids, run)


def check_exactly_once(ircli: Ircli, platform: Platform, ids: list[str], run: str) -> None:
    shown = ircli.json("runs", "show", run)
    assert shown["status"] == "completed", shown
    done = shown["counts"]["done"] + shown["counts"]["already_done"]
    assert done == len(ids), shown["failures"][:5]
    assert platform.score()["duplicate_effects"] == 0
    for account in ids[:: max(1, len(ids) // 40)]:
        assert platform.get(f"/api/v1/accounts/{account}")["password_reset_required"]
    verify = ircli("audit", "verify")
    assert verify.returncode == 0, verify.stderr


@pytest.mark.parametrize(
    ("point", "batch"),
    [
        ("before-intent", None),
        ("after-intent", None),
        ("after-send", None),
        ("after-outcome", None),
        ("after-send", "50"),
    ],
)
def test_kill_at_a_crash_point_then_resume(
    ircli: Ircli, platform: Platform, tmp_path: Path, point: str, batch: str | None
) -> None:
    ids = account_ids(1200, start=100)
    argv = [
        "accounts",
        "reset-password",
        "--ids-file",
        str(write_ids(tmp_path / "i", ids)),
        "--yes",
        "--concurrency",
        "16",
        "--rate",
        "2000",  # about 0.6 s single-target: several outcome flushes before the end
    ]
    if batch:
        argv += ["--batch", batch]
    # Intents are written per 512 targets and outcomes flushed every 50 ms: fewer passes.
    hits = {"before-intent": "2", "after-intent": "2", "after-send": "300", "after-outcome": "3"}
    crash_at = f"{point}:{'5' if batch else hits[point]}"
    crashed = ircli(*argv, IRCLI_TEST_CRASH_AT=crash_at)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    run = latest_run(ircli)
    before = ircli.json("runs", "show", run)
    assert before["status"] == "crashed"  # no finish record, and no live process
    resume_exactly_once(ircli, platform, ids, run)


def record_count(ircli: Ircli) -> int:
    """How many records the store holds (it is created first, by this process)."""
    with open_store(str(ircli.db), operator="checker") as store:
        return store.count()


def wait_until_it_writes(
    ircli: Ircli, process: subprocess.Popen[str], *, past: int, deadline_s: float = 120.0
) -> None:
    """Until ``process`` has added a record after the first ``past`` ones, or has ended."""
    deadline = time.monotonic() + deadline_s
    while process.poll() is None and record_count(ircli) <= past:
        assert time.monotonic() < deadline, "the process wrote nothing in time"
        time.sleep(0.02)


@pytest.mark.slow
def test_random_kills_during_a_10000_target_run(
    ircli: Ircli, platform: Platform, tmp_path: Path
) -> None:
    ids = account_ids(10_000, start=1000)
    rng = random.Random(4242)
    argv = [
        "accounts",
        "reset-password",
        "--ids-file",
        str(write_ids(tmp_path / "i", ids)),
        "--yes",
        "--concurrency",
        "32",
        "--rate",
        "2500",
    ]
    kills = 0
    written = record_count(ircli)
    process = ircli.start(*argv)
    run: str | None = None
    for _ in range(80):
        if kills < 10:
            # A random moment once the process is at work: start-up takes longer on a busy
            # machine, and a kill before any work would test nothing.
            wait_until_it_writes(ircli, process, past=written)
            time.sleep(rng.uniform(0.0, 0.7))
        killed = kills < 10 and process.poll() is None
        if killed:
            process.send_signal(signal.SIGKILL)
        process.communicate(timeout=300)  # after ten kills: let it finish
        with open_store(str(ircli.db), operator="checker") as store:  # faster than a process
            runs = list_runs(store)
            written = store.count()
        if not runs:
            process = ircli.start(*argv)  # killed before the run was even recorded
            continue
        run = runs[0].spec.run
        kills += killed
        if runs[0].status == "completed":
            break
        process = ircli.start("runs", "resume", run, "--yes")
    else:
        process.kill()
        process.communicate()
        pytest.fail("the run did not complete")
    assert kills >= 10
    assert run is not None
    check_exactly_once(ircli, platform, ids, run)


def start_and_wait(
    ircli: Ircli, ids: list[str], tmp_path: Path, rate: int = 500
) -> subprocess.Popen[str]:
    """Start a password-reset run of ``ids`` (``rate`` per second); return once outcomes are
    on record."""
    ids_file = str(write_ids(tmp_path / "i", ids))
    process = ircli.start(
        "accounts", "reset-password", "--ids-file", ids_file, "--yes", "--rate", str(rate)
    )
    deadline = time.monotonic() + 120
    with open_store(str(ircli.db), operator="checker") as store:
        while not ((runs := list_runs(store)) and runs[0].results):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the run recorded no outcome in time"
            time.sleep(0.05)
    return process


@pytest.mark.parametrize(
    ("signum", "said"),
    [(signal.SIGINT, "stopping: finishing requests in flight"),
     (signal.SIGTERM, "stopping on SIGTERM: finishing requests in flight")],
)  # fmt: skip
def test_ctrl_c_or_sigterm_drains_records_and_prints_the_resume_command(
    ircli: Ircli, platform: Platform, tmp_path: Path, signum: signal.Signals, said: str
) -> None:
    ids = account_ids(3000, start=2000)
    process = start_and_wait(ircli, ids, tmp_path)
    process.send_signal(signum)
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert said in err
    run = latest_run(ircli)
    assert f"continue it with: ircli runs resume {run}" in err
    shown = ircli.json("runs", "show", run)
    assert shown["status"] == "interrupted"
    assert 0 < shown["counts"]["done"] < len(ids)
    assert shown["counts"]["unknown"] == 0  # every request that left has its outcome recorded
    resume_exactly_once(ircli, platform, ids, run)


def test_a_second_ctrl_c_aborts_and_still_leaves_the_run_interrupted(
    ircli: Ircli, platform: Platform, tmp_path: Path
) -> None:
    ids = account_ids(3000, start=6000)
    log = tmp_path / "stderr.txt"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "ircli", "accounts", "reset-password", "--ids-file",
             str(write_ids(tmp_path / "i", ids)), "--yes", "--rate", "500"],
            cwd=ROOT, env=ircli.env(), stdout=subprocess.DEVNULL, stderr=stderr, text=True,
        )  # fmt: skip
        wait_until_it_writes(ircli, process, past=3)
        platform.faults(latency="5s")  # the drain waits seconds for what is in flight
        process.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 60
        while "stopping:" not in log.read_text():  # the first one was heard: now the second
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the first Ctrl-C was not acknowledged"
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    err = log.read_text()
    assert process.returncode == 130, err
    assert "aborting: requests in flight are dropped" in err
    run = latest_run(ircli)
    assert f"continue it with: ircli runs resume {run}" in err
    assert ircli.json("runs", "show", run)["status"] == "interrupted"
    platform.faults()
    resume_exactly_once(ircli, platform, ids, run)


def test_resume_asks_first_and_refuses_without_an_answer(
    ircli: Ircli, platform: Platform, tmp_path: Path
) -> None:
    ids = account_ids(3000, start=2000)
    process = start_and_wait(ircli, ids, tmp_path)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=60)
    run = latest_run(ircli)
    sent = platform.score()["requests_total"]
    refused = ircli("runs", "resume", run)  # no terminal to ask on, no --yes
    assert refused.returncode == 3
    assert f"resume {run}: accounts.reset_password on the " in refused.stderr
    assert "needs confirmation; nothing was sent." in refused.stderr
    assert platform.score()["requests_total"] == sent
    kinds = [r["kind"] for r in ircli.json("audit", "log", "--run", run)]
    assert kinds[-1] == "run.finished"  # the refusal is recorded on its own, not on the run
    refusals = ircli.json("audit", "log", "--kind", "run.refused")
    assert refusals[-1]["params"]["reason"] == "confirmation required, not interactive"


def test_one_process_per_run_and_a_dead_one_is_taken_over(
    ircli: Ircli, platform: Platform, tmp_path: Path
) -> None:
    ids = account_ids(1500, start=2000)
    # 30 s at 50/s: still running while the checks below take their time on a busy machine.
    process = start_and_wait(ircli, ids, tmp_path, rate=50)
    run = latest_run(ircli)
    listed = {r["run"]: r for r in ircli.json("runs", "list")}
    assert listed[run]["status"] == "running"
    second = ircli("runs", "resume", run, "--yes")
    assert process.poll() is None, "the run ended before the second process tried"
    assert second.returncode == 3, second.stderr
    assert f"error: {run} is running in process {process.pid} on " in second.stderr
    refusals = ircli.json("audit", "log", "--kind", "run.refused")
    assert refusals[-1]["params"]["reason"].startswith(f"resume refused: {run} is running in")
    process.kill()  # the holder dies without a word: its lease goes with it
    process.communicate()
    assert {r["run"]: r for r in ircli.json("runs", "list")}[run]["status"] == "crashed"
    resume_exactly_once(ircli, platform, ids, run)
