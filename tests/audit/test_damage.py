"""A damaged store stops everything that writes (exit 4, the file named, nothing sent);
readers say "damaged", never "internal error"; a read-only copy can still be examined. Damaged
pages and read-only copies are SQLite's (``@sqlite_only``); the check of the chain's tail
before a run runs on PostgreSQL too."""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ircli.audit.records import NewRecord
from ircli.audit.store import AuditStore, open_store
from ircli.errors import ExitCode
from tests.audit.conftest import sqlite_only
from tests.audit.rawsql import tamper
from tests.conftest import CliRunner, FixedClock
from tests.executor.test_history import DONE, finish, settle, start


def fill(store: AuditStore, count: int = 3000) -> None:
    """``count`` records with some weight, so the file spans many pages."""
    for first in range(0, count, 500):
        store.append_many([
            NewRecord(kind="timeline.note", params={"message": f"note {i} " + "x" * 200})
            for i in range(first, min(first + 500, count))
        ])  # fmt: skip


def damage(path: Path) -> None:
    """Overwrite 4 KiB in the middle of the file, as a bad disk sector would."""
    size = path.stat().st_size
    middle = (size // 2) // 4096 * 4096
    noise = random.Random(7).randbytes(4096)
    with path.open("r+b") as handle:
        handle.seek(middle)
        handle.write(noise)
    try:
        verdict = sqlite3.connect(path).execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError:
        return  # so damaged that SQLite refuses to look
    assert verdict != [("ok",)], "the damage landed where SQLite cannot see it"


@pytest.fixture
def damaged(store: AuditStore, db_path: Path) -> Path:
    incident = store.append(NewRecord(kind="incident.opened", incident="INC-20261128-AAAA",
                                      params={"title": "Flood", "severity": "P1"}))  # fmt: skip
    assert incident.seq == 1
    fill(store)
    store.close()
    damage(db_path)
    return db_path


@sqlite_only
@pytest.mark.parametrize(
    "argv",
    [
        ("incident", "open", "Second flood", "-s", "P1"),
        ("timeline", "add", "INC-20261128-AAAA", "a note"),
        ("accounts", "freeze", "--id", "acc_0000001", "--profile", "sandbox", "--yes"),
        ("flags", "set", "live_streaming", "--off", "--profile", "sandbox", "--yes"),
        ("run", "live-flood-containment", "--profile", "sandbox", "--yes"),
    ],
)
def test_nothing_writes_or_acts_with_a_damaged_store(
    cli: CliRunner, damaged: Path, argv: tuple[str, ...]
) -> None:
    # The platform is unreachable: exit 4 (not 1) shows the store was checked first.
    result = cli(*argv, env={"IRCLI_SANDBOX_URL": "http://127.0.0.1:9"})
    assert result.exit_code == ExitCode.AUDIT_INTEGRITY, result.stderr
    assert result.stderr.startswith(f"error: the audit store sqlite:///{damaged} is damaged: ")
    assert "restore the store from a backup" in result.stderr
    assert "internal error" not in result.stderr


@sqlite_only
@pytest.mark.parametrize(
    "argv", [("incident", "list"), ("runs", "list"), ("audit", "log"), ("store", "info")]
)
def test_readers_say_damaged_never_internal_error(
    cli: CliRunner, damaged: Path, argv: tuple[str, ...]
) -> None:
    result = cli(*argv)
    assert "internal error" not in result.stderr
    assert result.exit_code in (ExitCode.OK, ExitCode.AUDIT_INTEGRITY), result.stderr
    if result.exit_code:  # it met the damaged page
        assert f"the audit store sqlite:///{damaged} is damaged" in result.stderr


@sqlite_only
def test_verify_reports_how_far_a_damaged_chain_holds(cli: CliRunner, damaged: Path) -> None:
    result = cli("audit", "verify")
    assert result.exit_code == ExitCode.AUDIT_INTEGRITY
    assert "is damaged" in result.stderr
    assert "records valid" in result.stderr
    assert "internal error" not in result.stderr


def test_a_broken_tail_stops_a_run_before_anything_is_sent(
    cli: CliRunner, store: AuditStore, db: str
) -> None:
    fill(store, 100)
    store.close()
    tamper(db, 'UPDATE audit_records SET params = \'{"message": "rewritten"}\' WHERE seq = 99')
    result = cli("accounts", "freeze", "--id", "acc_0000001", "--profile", "sandbox", "--yes",
                 env={"IRCLI_SANDBOX_URL": "http://127.0.0.1:9"})  # fmt: skip
    assert result.exit_code == ExitCode.AUDIT_INTEGRITY, result.stderr
    assert "fails its check: record 99: the content does not match its hash" in result.stderr


@pytest.fixture
def read_only_copy(store: AuditStore, db_path: Path, tmp_path: Path) -> Iterator[Path]:
    """A copy of a store holding an incident and a run, read-only (``read_only``)."""
    store.append(NewRecord(kind="incident.opened", incident="INC-20261128-AAAA",
                           params={"title": "Flood", "severity": "P1"}))  # fmt: skip
    journal = start(store, "RUN-20261128-AAAA", ["a", "b"])
    settle(journal, ("a", DONE), ("b", DONE))
    finish(store, journal, "completed")
    store.close()
    with read_only(db_path, tmp_path / "evidence") as copy:
        yield copy


@contextlib.contextmanager
def read_only(db_path: Path, folder: Path) -> Iterator[Path]:
    """A copy of the store file in ``folder``, on a read-only mount (as root) or in a
    read-only folder (otherwise)."""
    folder.mkdir()
    mounted = False
    if os.geteuid() == 0:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(folder)],
                              capture_output=True)  # fmt: skip
        mounted = done.returncode == 0
    copy = folder / "audit.db"
    shutil.copy(db_path, copy)
    if mounted:
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
    else:
        copy.chmod(0o444)
        folder.chmod(0o555)
    try:
        yield copy
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(folder)], check=False)
        else:
            folder.chmod(0o755)


@sqlite_only
def test_a_read_only_copy_can_be_verified_and_its_runs_shown(
    cli: CliRunner, read_only_copy: Path
) -> None:
    if os.access(read_only_copy, os.W_OK):
        pytest.skip("this user can write the read-only copy anyway (root without a mount)")
    verify = cli("--db", str(read_only_copy), "audit", "verify")
    assert verify.exit_code == 0, verify.stderr
    assert verify.stdout.endswith("records valid\n")
    shown = cli("--json", "--db", str(read_only_copy), "runs", "show", "RUN-20261128-AAAA")
    assert shown.exit_code == 0, shown.stderr
    assert cli("--db", str(read_only_copy), "incident", "list").exit_code == 0
    written = cli("--db", str(read_only_copy), "timeline", "add", "INC-20261128-AAAA", "x")
    assert written.exit_code == ExitCode.INVALID_INPUT
    assert "cannot open the audit store" in written.stderr
    assert sorted(p.name for p in read_only_copy.parent.iterdir()) == ["audit.db"]


def test_the_store_check_passes_on_a_healthy_store(store: AuditStore, clock: FixedClock) -> None:
    fill(store, 200)
    store.check()
    with open_store("sqlite:///:memory:", operator="a", clock=clock) as empty:
        empty.check()
