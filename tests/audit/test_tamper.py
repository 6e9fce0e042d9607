"""Every tamper class is caught by ``ircli audit verify`` at the right seq, with exit 4."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from ircli.audit.chain import hashed_content, record_hash
from ircli.audit.records import NewRecord
from ircli.audit.store import AuditStore
from tests.conftest import CliRunner

HOSTILE = '=HYPERLINK("http://x")\x1b[31m[bold]<script>alert(1)</script>\u202e'


@pytest.fixture
def five(store: AuditStore) -> list[str]:
    """A store with five records; returns their hashes (index 0 = seq 1)."""
    records = [
        store.append(NewRecord(kind="timeline.note", incident="INC-1", params={"message": m}))
        for m in ("one", "two", HOSTILE, "four", "five")
    ]
    return [record.hash for record in records]


def tamper(db_path: Path, *statements: str) -> None:
    """Edit the file as an attacker with write access would: triggers first."""
    connection = sqlite3.connect(db_path)
    for trigger in ("audit_records_no_update", "audit_records_no_delete", "audit_records_link"):
        connection.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    for statement in statements:
        connection.execute(statement)
    connection.commit()
    connection.close()


def forged_row(seq: int, prev_hash: str) -> tuple[object, ...]:
    content = hashed_content(
        seq=seq, ts="2026-11-28T22:00:00.500000Z", operator="mallory", kind="timeline.note",
        incident="INC-1", run=None, step=None, target=None, params={"message": "forged"},
        outcome={}, prev_hash=prev_hash,
    )  # fmt: skip
    return (
        seq, content["ts"], "mallory", "timeline.note", "INC-1", None, None, None,
        '{"message":"forged"}', "{}", prev_hash, record_hash(content),
    )  # fmt: skip


def insert(db_path: Path, row: tuple[object, ...]) -> None:
    connection = sqlite3.connect(db_path)
    connection.execute("INSERT INTO audit_records VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", row)
    connection.commit()
    connection.close()


def test_clean_store_verifies(cli: CliRunner, five: list[str]) -> None:
    result = cli("audit", "verify")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "5/5 records valid\n", "")


def test_clean_store_verifies_against_its_anchor(cli: CliRunner, five: list[str]) -> None:
    result = cli("audit", "verify", "--anchor", f"5:{five[4]}")
    assert (result.exit_code, result.stdout) == (0, "5/5 records valid\n")
    assert cli("audit", "verify", "--anchor", f"3:{five[2]}").exit_code == 0


def test_modified_field(cli: CliRunner, db_path: Path, five: list[str]) -> None:
    tamper(db_path, """UPDATE audit_records SET params='{"message":"TWO"}' WHERE seq=2""")
    result = cli("audit", "verify")
    assert result.exit_code == 4
    assert result.stderr == (
        "error: audit chain broken at seq 2: the content does not match its hash; "
        "the record was modified (1/5 records valid).\n"
    )


def test_modified_operator(cli: CliRunner, db_path: Path, five: list[str]) -> None:
    tamper(db_path, "UPDATE audit_records SET operator='bob' WHERE seq=4")
    result = cli("audit", "verify")
    assert result.exit_code == 4
    assert "broken at seq 4: the content does not match its hash" in result.stderr


def test_deleted_middle_record(cli: CliRunner, db_path: Path, five: list[str]) -> None:
    tamper(db_path, "DELETE FROM audit_records WHERE seq=3")
    result = cli("audit", "verify")
    assert result.exit_code == 4
    assert result.stderr == (
        "error: audit chain broken at seq 3: record 3 is missing (deleted); "
        "the next record is seq 4 (2/4 records valid).\n"
    )


def test_deleted_and_renumbered(cli: CliRunner, db_path: Path, five: list[str]) -> None:
    tamper(
        db_path,
        "DELETE FROM audit_records WHERE seq=3",
        "UPDATE audit_records SET seq=seq-1 WHERE seq>3",
    )
    result = cli("audit", "verify")
    assert result.exit_code == 4
    assert "broken at seq 3: prev_hash does not match the hash of record 2" in result.stderr


def test_swapped_records(cli: CliRunner, db_path: Path, five: list[str]) -> None:
    tamper(
        db_path,
        "UPDATE audit_records SET seq=1002 WHERE seq=2",
        "UPDATE audit_records SET seq=2 WHERE seq=4",
        "UPDATE audit_records SET seq=4 WHERE seq=1002",
    )
    result = cli("audit", "verify")
    assert result.exit_code == 4
    assert "broken at seq 2: prev_hash does not match the hash of record 1" in result.stderr


def test_inserted_forged_record(cli: CliRunner, db_path: Path, five: list[str]) -> None:
    tamper(db_path, "UPDATE audit_records SET seq=seq+100 WHERE seq>=3")
    tamper(db_path, "UPDATE audit_records SET seq=seq-99 WHERE seq>=100")
    insert(db_path, forged_row(3, "e" * 64))
    result = cli("audit", "verify")
    assert result.exit_code == 4
    assert "broken at seq 3: prev_hash does not match the hash of record 2" in result.stderr


def test_inserted_forged_record_with_valid_link(
    cli: CliRunner, db_path: Path, five: list[str]
) -> None:
    # A careful forger rebuilds the table without its constraints and links the forged
    # record to record 2 with a correct hash: the original record 3 (now 4) no longer links.
    tamper(
        db_path,
        "CREATE TABLE copy AS SELECT * FROM audit_records",
        "DROP TABLE audit_records",
        "ALTER TABLE copy RENAME TO audit_records",
        "UPDATE audit_records SET seq=seq+1 WHERE seq>=3",
    )
    insert(db_path, forged_row(3, five[1]))
    result = cli("audit", "verify")
    assert result.exit_code == 4
    assert "broken at seq 4: prev_hash does not match the hash of record 3" in result.stderr


def test_truncated_tail_without_anchor_is_undetectable(
    cli: CliRunner, db_path: Path, five: list[str]
) -> None:
    tamper(db_path, "DELETE FROM audit_records WHERE seq>3")
    result = cli("audit", "verify")
    assert (result.exit_code, result.stdout) == (0, "3/3 records valid\n")


def test_truncated_tail_with_later_anchor(cli: CliRunner, db_path: Path, five: list[str]) -> None:
    tamper(db_path, "DELETE FROM audit_records WHERE seq>3")
    result = cli("audit", "verify", "--anchor", f"5:{five[4]}")
    assert result.exit_code == 4
    assert result.stderr == (
        "error: audit chain broken at seq 4: the chain ends at seq 3 but the anchor names "
        "seq 5; records were removed from the tail (3/3 records valid).\n"
    )


def test_rewritten_chain_caught_by_anchor(cli: CliRunner, db_path: Path, five: list[str]) -> None:
    # Rewrite record 5 and re-hash it: the chain is self-consistent, the anchor is not.
    connection = sqlite3.connect(db_path)
    row = connection.execute("SELECT * FROM audit_records WHERE seq=5").fetchone()
    connection.close()
    content = hashed_content(
        seq=5, ts=row[1], operator=row[2], kind=row[3], incident=row[4], run=None, step=None,
        target=None, params={"message": "FIVE"}, outcome={}, prev_hash=row[10],
    )  # fmt: skip
    tamper(
        db_path,
        f"""UPDATE audit_records SET params='{json.dumps({"message": "FIVE"})}',
        hash='{record_hash(content)}' WHERE seq=5""",
    )
    assert cli("audit", "verify").exit_code == 0
    result = cli("audit", "verify", "--anchor", f"5:{five[4]}")
    assert result.exit_code == 4
    assert "broken at seq 5: record 5 has hash" in result.stderr


def test_json_verify_report(cli: CliRunner, db_path: Path, five: list[str]) -> None:
    tamper(db_path, "DELETE FROM audit_records WHERE seq=2")
    result = cli("--json", "audit", "verify")
    assert result.exit_code == 4
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert report["first_bad_seq"] == 2
    assert report["valid"] == 1


def test_database_refuses_updates_deletes_and_forks(db_path: Path, five: list[str]) -> None:
    connection = sqlite3.connect(db_path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        connection.execute("UPDATE audit_records SET operator='bob' WHERE seq=1")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        connection.execute("DELETE FROM audit_records WHERE seq=5")
    with pytest.raises(sqlite3.IntegrityError, match="does not extend the chain"):
        connection.execute(
            "INSERT INTO audit_records VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", forged_row(6, five[3])
        )
    connection.execute("DROP TRIGGER audit_records_link")
    # Even without the trigger, a second record after seq 4 (a fork) breaks UNIQUE(prev_hash).
    with pytest.raises(sqlite3.IntegrityError, match="prev_hash"):
        connection.execute(
            "INSERT INTO audit_records VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", forged_row(6, five[3])
        )
    connection.close()
