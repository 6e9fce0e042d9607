"""The store's properties: migrations, filters, float-free content, exports (on SQLite and
PostgreSQL); a private file in WAL mode (SQLite)."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from ircli.audit.records import NewRecord, RecordFilter
from ircli.audit.schema import HEAD_REVISION
from ircli.audit.store import AuditStore, open_store
from tests.audit.conftest import sqlite_only
from tests.conftest import FixedClock


@sqlite_only
def test_file_is_private_and_in_wal_mode(store: AuditStore, db_path: Path) -> None:
    store.append(NewRecord(kind="test"))
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    wal = Path(f"{db_path}-wal")
    assert wal.exists()
    assert stat.S_IMODE(wal.stat().st_mode) == 0o600
    connection = sqlite3.connect(db_path)
    assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert connection.execute("SELECT version_num FROM alembic_version").fetchone() == (
        HEAD_REVISION,
    )
    connection.close()


def test_migration_head_matches_the_scripts() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", "ircli/audit/migrations")
    assert ScriptDirectory.from_config(config).get_heads() == [HEAD_REVISION]


def test_reopen_keeps_chain(db: str, clock: FixedClock) -> None:
    with open_store(db, operator="a", clock=clock) as first:
        first.append_many([NewRecord(kind="x", target=str(i)) for i in range(3)])
    with open_store(db, operator="b", clock=clock) as second:
        record = second.append(NewRecord(kind="y"))
        assert record.seq == 4
        assert second.verify().ok


def test_filters(store: AuditStore, clock: FixedClock) -> None:
    store.append(NewRecord(kind="incident.opened", incident="A"))
    clock.advance(60)
    store.append(NewRecord(kind="action.intent", incident="A", run="R1", target="s1"))
    store.append(NewRecord(kind="action.outcome", incident="A", run="R1", target="s1"))
    clock.advance(60)
    store.append(NewRecord(kind="timeline.note", incident="B"))

    def seqs(where: RecordFilter) -> list[int]:
        return [record.seq for record in store.records(where)]

    assert seqs(RecordFilter(incident="A")) == [1, 2, 3]
    assert seqs(RecordFilter(run="R1")) == [2, 3]
    assert seqs(RecordFilter(kinds=("action.",))) == [2, 3]
    assert seqs(RecordFilter(kinds=("timeline.note", "incident.opened"))) == [1, 4]
    assert seqs(RecordFilter(since="2026-11-28T22:01:00.000000Z")) == [2, 3, 4]
    assert seqs(RecordFilter(until="2026-11-28T22:01:00.000000Z")) == [1, 2, 3]
    assert seqs(RecordFilter(limit=2)) == [1, 2]
    assert seqs(RecordFilter(limit=2, newest_first=True)) == [4, 3]
    assert seqs(RecordFilter(incident="A", newest_first=True)) == [3, 2, 1]
    assert store.count() == 4
    assert store.count(RecordFilter(incident="A")) == 3
    assert store.count(RecordFilter(kinds=("action.",), limit=1)) == 2  # a limit aside
    assert store.count(RecordFilter(target="s1")) == 2


def test_params_contain_narrows_by_the_stored_text(store: AuditStore) -> None:
    store.append(NewRecord(kind="run.started", params={"action": "flags.set", "n": 1}))
    store.append(NewRecord(kind="run.started", params={"action": "streams.suspend"}))
    store.append(NewRecord(kind="run.started", params={"action": "x", "expiry": {"a": 1}}))
    store.append(NewRecord(kind="run.started", params={"note": '"action":"flags.set" 100%'}))

    def seqs(*texts: str) -> list[int]:
        return [r.seq for r in store.records(RecordFilter(params_contain=texts))]

    assert seqs('"action":"flags.set"') == [1]  # quoted inside a string it is escaped
    assert seqs('"expiry":{', '"action":"streams.suspend"') == [2, 3]
    assert seqs("100%") == [4]  # LIKE's wildcards are taken as they are
    assert seqs("1_0%") == []


def test_floats_and_non_json_values_are_refused(store: AuditStore) -> None:
    with pytest.raises(TypeError, match="float is not allowed"):
        store.append(NewRecord(kind="x", outcome={"latency": 0.5}))
    with pytest.raises(TypeError, match="set is not allowed"):
        store.append(NewRecord(kind="x", params={"ids": {1, 2}}))
    assert store.head() is None


def test_cli_log_export_and_head(cli, store: AuditStore) -> None:  # type: ignore[no-untyped-def]
    store.append(NewRecord(kind="timeline.note", incident="A", params={"message": "=1+1"}))
    head = cli("--json", "audit", "head")
    assert head.exit_code == 0
    anchor = store.head()
    assert anchor is not None
    assert head.stdout == f'{{"seq": 1, "hash": "{anchor.hash}"}}\n'
    assert cli("audit", "head").stdout == f"1:{anchor.hash}\n"
    csv_text = cli("audit", "export", "--format", "csv").stdout
    assert csv_text.splitlines()[0] == (
        "seq,ts,operator,kind,incident,run,step,target,params,outcome,prev_hash,hash"
    )
    jsonl = cli("audit", "export").stdout.splitlines()
    assert len(jsonl) == 1
    assert '"message": "=1+1"' in jsonl[0]
    logged = cli("audit", "log", "--kind", "timeline.").stdout
    assert "timeline.note" in logged


def test_csv_cells_never_start_a_formula() -> None:
    from ircli.audit.export import csv_cell

    for hostile in ('=HYPERLINK("x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1", " =1"):
        assert csv_cell(hostile).startswith("'")
    assert csv_cell("plain") == "plain"
    assert csv_cell(None) == ""
    assert csv_cell(7) == "7"


def test_csv_export_neutralises_bidi_and_control_characters(  # type: ignore[no-untyped-def]
    cli, store: AuditStore
) -> None:
    # U+202E (right-to-left override) and U+2066-U+2069 (isolates) make a line read
    # differently from what it holds; the export shows them as escapes, like the report CSV.
    hostile = "acc_\u202etxt.exe \u2066a\u2069 \u2067b\u2068 \x1b[31mred"
    store.append(
        NewRecord(kind="timeline.note", incident="A", target=hostile, params={"m": hostile})
    )
    csv_text = cli("audit", "export", "--format", "csv").stdout
    for raw in ("\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\x1b"):
        assert raw not in csv_text
    assert "acc_\\u202etxt.exe \\u2066a\\u2069 \\u2067b\\u2068 \\x1b[31mred" in csv_text
    # JSON Lines stay exact (ASCII-escaped): the export verifies against the chain.
    assert "\\u202e" in cli("audit", "export").stdout


def test_verify_reports_a_ts_that_goes_back(  # type: ignore[no-untyped-def]
    cli, store: AuditStore, clock: FixedClock
) -> None:
    store.append(NewRecord(kind="timeline.note", incident="A"))
    clock.advance(-5)  # a clock stepped back: the chain holds, the times do not
    store.append(NewRecord(kind="timeline.note", incident="A"))
    clock.advance(10)
    store.append(NewRecord(kind="timeline.note", incident="A"))
    result = store.verify()
    assert result.ok
    assert (result.time_decreases, result.first_time_decrease_seq) == (1, 2)
    shown = cli("audit", "verify")
    assert shown.exit_code == 0
    assert "3/3 records valid" in shown.stdout
    assert "1 record(s) carry an earlier ts than the record before them (first at seq 2)" in (
        shown.stderr
    )
    assert cli("--json", "audit", "verify").stdout.count('"time_decreases": 1') == 1


@sqlite_only
def test_a_store_being_created_elsewhere_is_waited_for(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db_path = Path(db)
    # Another process is switching the new file to WAL (it holds the RESERVED lock of the
    # rollback journal): SQLite refuses the switch at once, without its busy timeout.
    db_path.touch()
    other = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    probe = sqlite3.connect(db_path, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        probe.execute("PRAGMA journal_mode = WAL")
    probe.close()

    pauses: list[float] = []

    def other_finishes(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 3:
            other.execute("COMMIT")

    monkeypatch.setattr("ircli.audit.engines._pause", other_finishes)
    with open_store(db, operator="alice") as opened:
        opened.append(NewRecord(kind="test"))
    other.close()
    assert len(pauses) == 3
    connection = sqlite3.connect(db_path)
    assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    connection.close()


def test_opening_a_store_another_process_just_migrated_skips_alembic(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Processes that saw the new store unmigrated queue for the write lock; each after the
    # first finds it current once it holds the lock and must not run Alembic again.
    with open_store(db, operator="alice") as first:
        seen = iter([None])
        monkeypatch.setattr(
            AuditStore, "revision", lambda self: next(seen, HEAD_REVISION), raising=True
        )
        monkeypatch.setattr(
            "alembic.command.upgrade",
            lambda *_a, **_k: pytest.fail("Alembic ran on a current store"),
        )
        first.migrate()
