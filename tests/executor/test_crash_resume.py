"""kill -9 at every crash point, and at random moments, then resume: exactly once, nothing lost.

Password resets are the action under test: the sandbox counts a second reset of an account
as a duplicate effect, so "exactly once" is checked by the platform itself.
"""

from __future__ import annotations

import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from ircli.audit.store import open_store
from ircli.executor.service import list_runs
from tests.executor.conftest import Ircli, Platform, account_ids, write_ids


def latest_run(ircli: Ircli) -> str:
    """The newest run in the store."""
    runs = ircli.json("runs", "list")
    assert runs, "no run was recorded"
    return str(runs[0]["run"])


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
    assert before["status"] == "running"  # no finish record: it crashed
    resumed = ircli("--json", "runs", "resume", run)
    assert resumed.returncode == 0, resumed.stderr
    check_exactly_once(ircli, platform, ids, run)


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
        process = ircli.start("runs", "resume", run)
    else:
        process.kill()
        process.communicate()
        pytest.fail("the run did not complete")
    assert kills >= 10
    assert run is not None
    check_exactly_once(ircli, platform, ids, run)


def test_ctrl_c_drains_records_and_prints_the_resume_command(
    ircli: Ircli, platform: Platform, tmp_path: Path
) -> None:
    ids = account_ids(3000, start=2000)
    process = ircli.start(
        "accounts",
        "reset-password",
        "--ids-file",
        str(write_ids(tmp_path / "i", ids)),
        "--yes",
        "--rate",
        "500",
    )
    with open_store(str(ircli.db), operator="checker") as store:
        for _ in range(100):  # wait until the run is under way
            time.sleep(0.1)
            runs = list_runs(store)
            if runs and runs[0].results:
                break
    process.send_signal(signal.SIGINT)
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    run = latest_run(ircli)
    assert f"continue it with: ircli runs resume {run}" in err
    shown = ircli.json("runs", "show", run)
    assert shown["status"] == "interrupted"
    assert 0 < shown["counts"]["done"] < len(ids)
    assert shown["counts"]["unknown"] == 0  # every request that left has its outcome recorded
    resumed = ircli("--json", "runs", "resume", run)
    assert resumed.returncode == 0, resumed.stderr
    check_exactly_once(ircli, platform, ids, run)
