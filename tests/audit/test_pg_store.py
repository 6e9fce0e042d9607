"""What only PostgreSQL has: TRUNCATE, and stores written before migration 0003 gave it the
append-only protection SQLite has (the tests shared with SQLite run on both: conftest.py)."""

from __future__ import annotations

from importlib import resources

import pytest
from alembic import command
from alembic.config import Config

from ircli.audit.records import NewRecord
from ircli.audit.schema import HEAD_REVISION, audit_records
from ircli.audit.store import AuditStore, open_store
from tests.audit.rawsql import connected, refused, rows
from tests.audit.test_tamper import forged_row

pytestmark = pytest.mark.parametrize("backend", ["postgresql"])


def test_truncate_is_refused_on_both_tables(store: AuditStore, db: str) -> None:
    store.append(NewRecord(kind="timeline.note", target="acc_1"))
    assert "audit_records is append-only" in refused(db, "TRUNCATE audit_records")
    assert "audit_targets is append-only" in refused(db, "TRUNCATE audit_targets")
    assert rows(db, "SELECT count(*) FROM audit_targets") == [(1,)]


def test_a_store_from_before_0003_gains_the_insert_trigger_when_opened(db: str) -> None:
    with open_store(db, operator="dana") as first:
        first.append_many([NewRecord(kind="timeline.note") for _ in range(3)])
    config = Config()
    config.set_main_option("script_location", str(resources.files("ircli.audit") / "migrations"))
    with connected(db) as connection:  # as an older ircli left it
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")
    with connected(db, commit=False) as connection:  # accepted: the gap 0003 closes
        connection.execute(audit_records.insert(), [forged_row(4, "e" * 64)])
    with open_store(db, operator="erin") as reopened:
        assert reopened.revision() == HEAD_REVISION
        assert reopened.append(NewRecord(kind="timeline.note")).seq == 4
        assert reopened.verify().ok
    assert "does not extend the chain" in refused(db, forged_row(5, "e" * 64))
    assert "audit_records is append-only" in refused(db, "DELETE FROM audit_records")
    assert "audit_records is append-only" in refused(db, "TRUNCATE audit_records")
