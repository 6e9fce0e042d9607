"""A real store that refuses writes mid-run, against the loopback sandbox: its write lock held
past the busy timeout by another connection, and a small filesystem filled to the last byte
(a tmpfs the test mounts, where it may: as root; tests/executor/test_store_outage.py injects the
same failures at the write call everywhere)."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ircli.audit.engines import BUSY_TIMEOUT_MS
from ircli.audit.store import open_store
from ircli.executor.journal import load_run
from tests.executor.conftest import ROOT, Ircli, Platform, account_ids, write_ids
from tests.executor.test_crash_resume import record_count, wait_until_it_writes


def _all_recorded(ircli: Ircli, run: str, count: int) -> None:
    with open_store(str(ircli.db), operator="checker") as store:
        state = load_run(store, run)
        assert len(state.settled()) == count
        assert state.status == "completed"
        assert store.verify().ok


def _run_id(stderr: str, stdout: str) -> str:
    found = re.search(r"RUN-\d{8}-[0-9A-Z]+", stdout + stderr)
    assert found, stdout + stderr
    return found[0]


@pytest.mark.slow
def test_the_write_lock_held_past_the_busy_timeout_mid_run(
    ircli: Ircli, platform: Platform, tmp_path: Path
) -> None:
    ids = write_ids(tmp_path / "ids.txt", account_ids(3000))
    assert ircli("incident", "open", "Lock drill", "-s", "P3").returncode == 0
    before = record_count(ircli)
    process = ircli.start("--json", "accounts", "freeze", "--ids-file", str(ids), "--yes",
                          "--rate", "200")  # fmt: skip
    wait_until_it_writes(ircli, process, past=before + 3)
    assert process.poll() is None, "the run ended before the lock was taken"
    locker = sqlite3.connect(ircli.db, timeout=60, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")  # another writer holds the lock …
    time.sleep(BUSY_TIMEOUT_MS / 1000 + 3)  # … past the run's busy timeout
    locker.execute("COMMIT")
    locker.close()
    stdout, stderr = process.communicate(timeout=600)

    assert process.returncode == 0, stderr
    assert "refused a write (" in stderr
    assert "locked" in stderr
    assert "takes writes again" in stderr
    _all_recorded(ircli, _run_id(stderr, stdout), 3000)
    assert platform.score()["duplicate_effects"] == 0


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs (root only; skipped otherwise, the injected failure covering it)."""
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem needs root; test_store_outage.py injects it")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)],
                             capture_output=True, text=True)  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(directory: Path) -> Path:
    """Write zeros into ``directory`` until the filesystem is full; the filler file."""
    filler = directory / "filler"
    chunk = b"\0" * 65536
    with filler.open("wb") as handle:
        with contextlib.suppress(OSError):
            while True:
                handle.write(chunk)
                handle.flush()
        with contextlib.suppress(OSError):
            os.fsync(handle.fileno())
    probe = directory / "probe"
    with pytest.raises(OSError, match="No space left") as full:
        probe.write_bytes(chunk * 4)
    assert full.value.errno == errno.ENOSPC
    probe.unlink(missing_ok=True)
    return filler


def on_small_disk(platform: Platform, disk: Path, tmp_path: Path) -> tuple[Ircli, Path, int]:
    """ircli with its store on ``disk`` (created), 2,000 account ids, the store's records."""
    ircli = Ircli(disk / "audit.db", platform.url, {})
    ids = write_ids(tmp_path / "ids.txt", account_ids(2000))
    assert ircli("incident", "open", "Full disk drill", "-s", "P3").returncode == 0
    return ircli, ids, record_count(ircli)


def test_a_full_disk_for_a_moment_mid_run_loses_no_outcome(
    platform: Platform, small_disk: Path, tmp_path: Path
) -> None:
    ircli, ids, before = on_small_disk(platform, small_disk, tmp_path)
    log = tmp_path / "stderr.txt"
    with log.open("w") as stderr_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "ircli", "--json", "accounts", "freeze", "--ids-file",
             str(ids), "--yes", "--rate", "200"],
            cwd=ROOT, env=ircli.env(), stdout=subprocess.PIPE, stderr=stderr_file, text=True,
        )  # fmt: skip
        wait_until_it_writes(ircli, process, past=before + 3)
        filler = fill(small_disk)
        deadline = time.monotonic() + 120
        while "refused a write" not in log.read_text() and process.poll() is None:
            assert time.monotonic() < deadline, "the run never met the full disk"
            time.sleep(0.05)
        filler.unlink()  # room again: the run goes on
        stdout, _ = process.communicate(timeout=600)
    stderr = log.read_text()

    assert process.returncode == 0, stderr
    assert "full" in stderr  # SQLite: "database or disk is full"
    assert "takes writes again" in stderr
    _all_recorded(ircli, _run_id(stderr, stdout), 2000)
    assert platform.score()["duplicate_effects"] == 0


def test_a_disk_full_past_max_pause_stops_the_run_and_resume_finishes_it(
    platform: Platform, small_disk: Path, tmp_path: Path
) -> None:
    ircli, ids, before = on_small_disk(platform, small_disk, tmp_path)
    process = ircli.start("accounts", "freeze", "--ids-file", str(ids), "--yes",
                          "--rate", "200", "--max-pause", "2")  # fmt: skip
    wait_until_it_writes(ircli, process, past=before + 3)
    filler = fill(small_disk)
    stdout, stderr = process.communicate(timeout=600)
    filler.unlink()

    assert process.returncode == 1, stderr
    run = _run_id(stderr, stdout)
    (line,) = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert f"the audit store sqlite:///{ircli.db} refused writes for" in line
    assert "full" in line
    assert f"run {run} stopped" in line
    assert f"hint: When the store takes writes again: ircli runs resume {run}" in stderr

    resumed = ircli("runs", "resume", run, "--yes")
    assert resumed.returncode == 0, resumed.stderr
    _all_recorded(ircli, run, 2000)
    score = platform.score()
    assert score["duplicate_effects"] == 0
