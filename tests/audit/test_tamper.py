"""Every tamper class is caught by ``ircli audit verify`` at the right seq, with exit 4, on
SQLite and on PostgreSQL (tampered with as a superuser would, the triggers off); and the
database itself refuses updates, deletes and inserts that do not extend the chain."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import exc

from ircli.audit.chain import hashed_content, record_hash
from ircli.audit.records import NewRecord
from ircli.audit.store import AuditStore
from tests.audit.rawsql import COLUMNS, insert, refused, rows, tamper
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


def forged_row(seq: int, prev_hash: str) -> dict[str, Any]:
    """A well-formed record with a correct hash of its own, written by nobody."""
    content = hashed_content(
        seq=seq, ts="2026-11-28T22:00:00.500000Z", operator="mallory", kind="timeline.note",
        incident="INC-1", run=None, step=None, target=None, params={"message": "forged"},
        outcome={}, prev_hash=prev_hash,
    )  # fmt: skip
    values = (
        seq, content["ts"], "mallory", "timeline.note", "INC-1", None, None, None,
        '{"message":"forged"}', "{}", prev_hash, record_hash(content),
    )  # fmt: skip
    return dict(zip(COLUMNS, values, strict=True))


def test_clean_store_verifies(cli: CliRunner, five: list[str]) -> None:
    result = cli("audit", "verify")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "5/5 records valid\n", "")


def test_clean_store_verifies_against_its_anchor(cli: CliRunner, five: list[str]) -> None:
    result = cli("audit", "verify", "--anchor", f"5:{five[4]}")
    assert (result.exit_code, result.stdout) == (0, "5/5 records valid\n")
    assert cli("audit", "verify", "--anchor", f"3:{five[2]}").exit_code == 0


def test_modified_field(cli: CliRunner, db: str, five: list[str]) -> None:
    tamper(db, """UPDATE audit_records SET params='{"message":"TWO"}' WHERE seq=2""")
    result = cli("audit", "verify")
    assert result.exit_code == 4
    assert result.stderr == (
        "error: audit chain broken at seq 2: the content does not match its hash; "
        "the record was modified (1/5 records valid).\n"
    )


def test_modified_operator(cli: CliRunner, db: str, five: list[str]) -> None:
    tamper(db, "UPDATE audit_records SET operator='bob' WHERE seq=4")
    result = cli("audit", "verify")
    assert result.exit_code == 4
    assert "broken at seq 4: the content does not match its hash" in result.stderr


def test_deleted_middle_record(cli: CliRunner, db: str, five: list[str]) -> None:
    tamper(db, "DELETE FROM audit_records WHERE seq=3")
    result = cli("audit", "verify")
    assert result.exit_code == 4
    assert result.stderr == (
        "error: audit chain broken at seq 3: record 3 is missing (deleted); "
        "the next record is seq 4 (2/4 records valid).\n"
    )


def test_deleted_and_renumbered(cli: CliRunner, db: str, five: list[str]) -> None:
    tamper(
        db,
        "DELETE FROM audit_records WHERE seq=3",
        "UPDATE audit_records SET seq=seq-1 WHERE seq>3",
    )
    result = cli("audit", "verify")
    assert result.exit_code == 4
    assert "broken at seq 3: prev_hash does not match the hash of record 2" in result.stderr


def test_swapped_records(cli: CliRunner, db: str, five: list[str]) -> None:
    tamper(
        db,
        "UPDATE audit_records SET seq=1002 WHERE seq=2",
        "UPDATE audit_records SET seq=2 WHERE seq=4",
        "UPDATE audit_records SET seq=4 WHERE seq=1002",
    )
    result = cli("audit", "verify")
    assert result.exit_code == 4
    assert "broken at seq 2: prev_hash does not match the hash of record 1" in result.stderr


def test_inserted_forged_record(cli: CliRunner, db: str, five: list[str]) -> None:
    tamper(
        db,
        "UPDATE audit_records SET seq=seq+100 WHERE seq>=3",
        "UPDATE audit_records SET seq=seq-99 WHERE seq>=100",
        records=[forged_row(3, "e" * 64)],
    )
    result = cli("audit", "verify")
    assert result.exit_code == 4
    assert "broken at seq 3: prev_hash does not match the hash of record 2" in result.stderr


def test_inserted_forged_record_with_valid_link(cli: CliRunner, db: str, five: list[str]) -> None:
    # A careful forger rebuilds the table without its constraints and links the forged
    # record to record 2 with a correct hash: the original record 3 (now 4) no longer links.
    tamper(
        db,
        "CREATE TABLE copy AS SELECT * FROM audit_records",
        "DROP TABLE audit_records",
        "ALTER TABLE copy RENAME TO audit_records",
        "UPDATE audit_records SET seq=seq+1 WHERE seq>=3",
        records=[forged_row(3, five[1])],
    )
    result = cli("audit", "verify")
    assert result.exit_code == 4
    assert "broken at seq 4: prev_hash does not match the hash of record 3" in result.stderr


def test_truncated_tail_without_anchor_is_undetectable(
    cli: CliRunner, db: str, five: list[str]
) -> None:
    tamper(db, "DELETE FROM audit_records WHERE seq>3")
    result = cli("audit", "verify")
    assert (result.exit_code, result.stdout) == (0, "3/3 records valid\n")


def test_truncated_tail_with_later_anchor(cli: CliRunner, db: str, five: list[str]) -> None:
    tamper(db, "DELETE FROM audit_records WHERE seq>3")
    result = cli("audit", "verify", "--anchor", f"5:{five[4]}")
    assert result.exit_code == 4
    assert result.stderr == (
        "error: audit chain broken at seq 4: the chain ends at seq 3 but the anchor names "
        "seq 5; records were removed from the tail (3/3 records valid).\n"
    )


def test_rewritten_chain_caught_by_anchor(cli: CliRunner, db: str, five: list[str]) -> None:
    # Rewrite record 5 and re-hash it: the chain is self-consistent, the anchor is not.
    [row] = rows(db, "SELECT * FROM audit_records WHERE seq=5")
    content = hashed_content(
        seq=5, ts=row[1], operator=row[2], kind=row[3], incident=row[4], run=None, step=None,
        target=None, params={"message": "FIVE"}, outcome={}, prev_hash=row[10],
    )  # fmt: skip
    tamper(
        db,
        f"""UPDATE audit_records SET params='{json.dumps({"message": "FIVE"})}',
        hash='{record_hash(content)}' WHERE seq=5""",
    )
    assert cli("audit", "verify").exit_code == 0
    result = cli("audit", "verify", "--anchor", f"5:{five[4]}")
    assert result.exit_code == 4
    assert "broken at seq 5: record 5 has hash" in result.stderr


def test_json_verify_report(cli: CliRunner, db: str, five: list[str]) -> None:
    tamper(db, "DELETE FROM audit_records WHERE seq=2")
    result = cli("--json", "audit", "verify")
    assert result.exit_code == 4
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert report["first_bad_seq"] == 2
    assert report["valid"] == 1


def test_database_refuses_updates_deletes_and_non_extending_inserts(
    db: str, five: list[str]
) -> None:
    for statement in ("UPDATE audit_records SET operator='bob' WHERE seq=1",
                      "DELETE FROM audit_records WHERE seq=5"):  # fmt: skip
        assert "audit_records is append-only" in refused(db, statement)
    for forged in (
        forged_row(6, "e" * 64),  # a wrong prev_hash
        forged_row(7, five[4]),  # a wrong seq: a gap
        forged_row(6, five[3]),  # a fork: a second successor of record 4
        forged_row(5, five[3]),  # a fork in place of record 5
    ):
        assert "does not extend the chain" in refused(db, forged)
    insert(db, forged_row(6, five[4]))  # a record that does extend it is accepted
    assert rows(db, "SELECT max(seq) FROM audit_records")[0][0] == 6


def test_without_the_insert_trigger_a_fork_still_breaks_unique_prev_hash(
    db: str, five: list[str]
) -> None:
    with pytest.raises(exc.IntegrityError, match="prev_hash"):  # triggers off, constraints on
        tamper(db, records=[forged_row(6, five[3])])
