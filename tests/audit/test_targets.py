"""The target index: written with its records or not at all, complete for grouped records,
exact for hostile ids, rebuilt by the migration, checked by ``audit verify`` (on SQLite and
PostgreSQL; a read-only copy on SQLite)."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import exc

from ircli.audit import store as store_module
from ircli.audit.records import NewRecord, RecordFilter
from ircli.audit.schema import HEAD_REVISION
from ircli.audit.store import AuditStore, open_store
from ircli.audit.targets import record_targets, target_entry
from ircli.errors import ExitCode, OperationFailed
from ircli.executor.journal import RunJournal, RunSpec, TargetResult
from ircli.platform.model import Outcome
from tests.audit.conftest import sqlite_only
from tests.audit.rawsql import execute, refused, rows, tamper
from tests.audit.test_damage import read_only
from tests.conftest import CliRunner, FixedClock

DONE = TargetResult(Outcome.DONE, 200, 1, 40)
GONE = TargetResult(Outcome.FAILED, 404, 2, 12, "HTTP 404: not_found")
HOSTILE = [
    "%", "_", "a%", "a_c", "abc", "a\\%", "'; DROP TABLE audit_targets; --", 'say "hi"',
    "ünïcødé 🚩", "\u202eevil", "x\x1b[31mred", "[bold]markup[/bold]", "=HYPERLINK(1)",
]  # fmt: skip


def run_batch(store: AuditStore, run: str, ids: list[str], *, failed: int = 0) -> RunJournal:
    """A run as the executor writes it: one intent for the batch, one outcome record whose
    groups hold the ids that ended alike (the last ``failed`` ids failed, settled first: the
    journal cuts records after 2,000 targets, never inside a group)."""
    spec = RunSpec(run=run, step="adhoc", action="accounts.freeze", targets=tuple(ids),
                   params={}, profile="sandbox", profile_sha256="0" * 64)  # fmt: skip
    journal = RunJournal(store, spec)
    journal.started()
    asyncio.run(journal.intend(ids, batch=True))
    cut = len(ids) - failed
    if failed:
        journal.add(ids[cut:], GONE)
    journal.add(ids[:cut], DONE)
    asyncio.run(journal.flush())
    return journal


def seqs(store: AuditStore, target: str, **where: Any) -> list[int]:
    return [r.seq for r in store.records(RecordFilter(target=target, **where))]


def index_rows(db: str) -> list[tuple[str, int]]:
    return sorted(map(tuple, rows(db, "SELECT target, seq FROM audit_targets")))


def test_every_target_of_a_2048_target_batch_is_found(store: AuditStore) -> None:
    ids = [f"acc_{i:07d}" for i in range(2048)]
    run_batch(store, "R-1", ids, failed=48)
    # run.started (1) lists the targets but is not indexed; the intent (2) and the outcome (3)
    # name them all.
    assert all(seqs(store, target) == [2, 3] for target in ids)
    [intent, outcome] = store.records(RecordFilter(target="acc_0002047"))
    assert (intent.kind, outcome.kind) == ("action.intent", "action.outcome")
    entry = target_entry(outcome, "acc_0002047")
    assert (entry.outcome, entry.status, entry.attempts, entry.error) == (
        "failed",
        404,
        2,
        "HTTP 404: not_found",
    )
    assert entry.targets_in_record == 2048
    assert target_entry(outcome, "acc_0000000").outcome == "done"
    assert seqs(store, "acc_0002048") == []


def test_a_one_target_record_is_found_by_its_target_column(store: AuditStore) -> None:
    run_batch(store, "R-1", ["acc_1"])
    store.append(NewRecord(kind="rollback.note", target="acc_1"))
    store.append(NewRecord(kind="run.started", run="R-2", params={"targets": ["acc_1"]}))
    assert seqs(store, "acc_1") == [2, 3, 4]
    [intent] = store.records(RecordFilter(target="acc_1", kinds=("action.intent",)))
    assert intent.target == "acc_1"  # a one-target intent also carries it in its column


def test_the_target_filter_combines_with_the_others(store: AuditStore, clock: FixedClock) -> None:
    run_batch(store, "R-1", ["a", "b"])
    clock.advance(60)
    run_batch(store, "R-2", ["b", "c"], failed=1)
    assert seqs(store, "b") == [2, 3, 5, 6]
    assert seqs(store, "b", run="R-2") == [5, 6]
    assert seqs(store, "b", kinds=("action.outcome",)) == [3, 6]
    assert seqs(store, "b", kinds=("action.",), limit=3) == [2, 3, 5]
    assert seqs(store, "b", since="2026-11-28T22:01:00.000000Z") == [5, 6]
    assert seqs(store, "b", after_seq=3) == [5, 6]
    assert seqs(store, "b", incident="INC-X") == []


def test_hostile_ids_are_matched_exactly(store: AuditStore) -> None:
    for target in HOSTILE:  # one record each, so that every id has its own seq
        params = {"action": "x", "targets": [target], "batch": False}
        store.append(NewRecord(kind="action.intent", run="R", target=target, params=params))
    for seq, target in enumerate(HOSTILE, start=1):
        assert seqs(store, target) == [seq], target
    for absent in ("a", "ab%", "a_", "", "%%", "abc ", "ABC", "\u202e"):
        assert seqs(store, absent) == [], absent


def test_a_failed_append_leaves_neither_record_nor_index_rows(
    store: AuditStore, db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = store_module.write_target_index

    def index_then_fail(connection: object, linked: object) -> None:
        real(connection, linked)  # type: ignore[arg-type]
        raise exc.OperationalError("INSERT", {}, sqlite3.OperationalError("disk I/O error"))

    monkeypatch.setattr(store_module, "write_target_index", index_then_fail)
    with pytest.raises(OperationFailed, match="disk I/O error"):
        run_batch(store, "R-1", ["a", "b"])
    assert store.count() == 0
    assert index_rows(db) == []
    monkeypatch.undo()
    run_batch(store, "R-1", ["a", "b"])
    assert index_rows(db) == [("a", 2), ("a", 3), ("b", 2), ("b", 3)]


def test_the_index_refuses_updates_and_deletes(store: AuditStore, db: str) -> None:
    run_batch(store, "R-1", ["a"])
    for statement in ("UPDATE audit_targets SET target = 'b'", "DELETE FROM audit_targets"):
        assert "audit_targets is append-only" in refused(db, statement)
    assert index_rows(db) == [("a", 2), ("a", 3)]


def test_record_targets_by_kind() -> None:
    groups = {"groups": [{"outcome": "done", "targets": ["a", "b"]},
                         {"outcome": "failed", "targets": ["b", 7, None, "c"]},
                         "not a group"]}  # fmt: skip
    assert record_targets("action.outcome", None, {}, groups) == ["a", "b", "c"]
    assert record_targets("action.outcome", "z", {}, {"results": [{"target": "a"}]}) == ["z", "a"]
    intent = {"targets": ["a", "a", {"x": 1}, "b"]}
    assert record_targets("action.intent", None, intent, {}) == ["a", "b"]
    assert record_targets("action.intent", None, {"targets": "a"}, {}) == []
    assert record_targets("run.started", None, {"targets": ["a"]}, groups) == []
    assert record_targets("timeline.note", "a", {}, {}) == ["a"]


def older_store(db: str, clock: FixedClock) -> list[tuple[str, int]]:
    """Write records, then take the store back to revision 0001 (no index) as docs/audit.md
    says to rebuild the index; returns the index rows it had."""
    with open_store(db, operator="alice", clock=clock) as opened:
        run_batch(opened, "R-1", [f"acc_{i:07d}" for i in range(2048)], failed=10)
        run_batch(opened, "R-2", ["acc_0000001", *HOSTILE])
        opened.append(NewRecord(kind="action.outcome", outcome={"groups": [{"targets": [1]}]}))
        opened.append(NewRecord(kind="action.outcome", outcome={"groups": "broken"}))
    indexed = index_rows(db)
    execute(db, "DROP TABLE audit_targets", "UPDATE alembic_version SET version_num = '0001'")
    if db.startswith("postgresql"):
        execute(db, "DROP FUNCTION audit_targets_append_only()")
    return indexed


def test_opening_a_revision_0001_store_backfills_the_index(db: str, clock: FixedClock) -> None:
    rows = older_store(db, clock)
    assert len(rows) == 2 * 2048 + 2 * (1 + len(HOSTILE))
    with open_store(db, operator="bob", clock=clock) as reopened:
        assert reopened.revision() == HEAD_REVISION
        assert index_rows(db) == rows
        assert seqs(reopened, "acc_0000001") == [2, 3, 5, 6]
        check = reopened.check_target_index()
        assert check is not None
        assert (check.ok, check.expected, check.indexed) == (True, len(rows), len(rows))
        reopened.append(NewRecord(kind="x", target="after"))
        assert seqs(reopened, "after") == [9]
    assert "audit_targets is append-only" in refused(db, "DELETE FROM audit_targets")


@sqlite_only
def test_a_read_only_revision_0001_store_is_searched_without_the_index(
    db_path: Path, clock: FixedClock, tmp_path: Path, cli: CliRunner
) -> None:
    older_store(str(db_path), clock)
    with read_only(db_path, tmp_path / "evidence") as copy:
        if os.access(copy, os.W_OK):
            pytest.skip("this user can write the read-only copy anyway (root without a mount)")
        with open_store(str(copy), operator="carol", clock=clock, create=False) as opened:
            assert (opened.read_only, opened.indexed, opened.revision()) == (True, False, "0001")
            assert seqs(opened, "acc_0000001") == [2, 3, 5, 6]
            assert seqs(opened, "acc_0000001", kinds=("action.outcome",), limit=1) == [3]
            assert seqs(opened, "%") == [5, 6]
            assert opened.check_target_index() is None
        logged = cli("--json", "--db", str(copy), "audit", "log", "--target", "acc_0002047")
        assert logged.exit_code == 0, logged.stderr
        assert [(e["seq"], e["outcome"]) for e in json.loads(logged.stdout)] == [
            (2, None), (3, "failed")
        ]  # fmt: skip
        verified = cli("--json", "--db", str(copy), "audit", "verify")
        assert verified.exit_code == 0, verified.stderr
        assert json.loads(verified.stdout)["target_index"] is None


@sqlite_only
def test_a_read_only_revision_0002_store_is_read_with_its_index(
    store: AuditStore, db_path: Path, clock: FixedClock, tmp_path: Path
) -> None:
    run_batch(store, "R-1", ["a", "b"])
    store.close()
    # As an ircli before revision 0003 left it (0003 changes nothing on SQLite).
    execute(str(db_path), "UPDATE alembic_version SET version_num = '0002'")
    with read_only(db_path, tmp_path / "evidence") as copy:
        if os.access(copy, os.W_OK):
            pytest.skip("this user can write the read-only copy anyway (root without a mount)")
        with open_store(str(copy), operator="carol", clock=clock, create=False) as opened:
            assert (opened.read_only, opened.indexed, opened.revision()) == (True, True, "0002")
            assert seqs(opened, "b") == [2, 3]


@pytest.mark.parametrize(
    "statement",
    ["DELETE FROM audit_targets WHERE target = 'b'",
     "INSERT INTO audit_targets VALUES ('forged', 2)",
     "UPDATE audit_targets SET seq = 4 WHERE target = 'a' AND seq = 2"],
)  # fmt: skip
def test_verify_tells_when_the_index_disagrees_with_the_records(
    store: AuditStore, db: str, cli: CliRunner, statement: str
) -> None:
    run_batch(store, "R-1", ["a", "b"])
    run_batch(store, "R-2", ["a"])
    assert cli("audit", "verify").exit_code == 0
    tamper(db, statement)
    verified = cli("audit", "verify")
    assert verified.exit_code == ExitCode.AUDIT_INTEGRITY
    assert "error: the target index disagrees with the records (" in verified.stderr
    assert "; the chain itself verifies (6/6 records valid)." in verified.stderr
    assert "rebuild it as docs/audit.md says" in verified.stderr
    as_json = json.loads(cli("--json", "audit", "verify").stdout)
    assert as_json["ok"] is True
    assert as_json["target_index"]["ok"] is False
