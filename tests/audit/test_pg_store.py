"""The audit store on a real PostgreSQL server (tests/pg.py starts a throwaway one): a chain
that verifies, and the append-only protection SQLite has, enforced by the database itself."""

from __future__ import annotations

from importlib import resources
from typing import Any

import pytest
from alembic import command
from alembic.config import Config

from ircli.audit.chain import hashed_content, record_hash
from ircli.audit.records import NewRecord
from ircli.audit.schema import HEAD_REVISION, audit_records
from ircli.audit.store import open_store
from tests.audit.rawsql import connected, insert, refused, rows, tamper
from tests.pg import postgres_server, postgres_url

__all__ = ["postgres_server", "postgres_url"]


def test_a_chain_on_postgres_verifies_and_counts(postgres_url: str) -> None:
    with open_store(postgres_url, operator="dana") as store:
        assert store.backend.startswith("postgresql")
        for number in range(5):
            store.append(NewRecord(kind="timeline.note", incident="A", params={"n": number}))
        assert store.count() == 5
        result = store.verify()
        assert result.ok
        assert result.head == store.head()


def forged_row(seq: int, prev_hash: str) -> dict[str, Any]:
    content = hashed_content(
        seq=seq, ts="2026-11-28T22:00:00.500000Z", operator="mallory", kind="timeline.note",
        incident="INC-1", run=None, step=None, target=None, params={"message": "forged"},
        outcome={}, prev_hash=prev_hash,
    )  # fmt: skip
    return {**content, "params": '{"message":"forged"}', "outcome": "{}",
            "hash": record_hash(content)}  # fmt: skip


@pytest.fixture
def five(postgres_url: str) -> list[str]:
    with open_store(postgres_url, operator="dana") as store:
        return [store.append(NewRecord(kind="timeline.note", target=f"acc_{n}")).hash
                for n in range(5)]  # fmt: skip


def test_the_database_refuses_what_would_rewrite_the_chain(
    postgres_url: str, five: list[str]
) -> None:
    db = postgres_url
    for statement in ("UPDATE audit_records SET operator='bob' WHERE seq=1",
                      "DELETE FROM audit_records WHERE seq=5",
                      "TRUNCATE audit_records"):  # fmt: skip
        assert "audit_records is append-only" in refused(db, statement)
    for statement in ("UPDATE audit_targets SET target='b'", "DELETE FROM audit_targets",
                      "TRUNCATE audit_targets"):  # fmt: skip
        assert "audit_targets is append-only" in refused(db, statement)
    for forged in (
        forged_row(6, "e" * 64),  # a wrong prev_hash
        forged_row(7, five[4]),  # a wrong seq: a gap
        forged_row(6, five[3]),  # a fork: a second successor of record 4
        forged_row(5, five[3]),  # a fork in place of record 5
    ):
        assert "does not extend the chain" in refused(db, forged)
    insert(db, forged_row(6, five[4]))  # a record that does extend it is accepted
    assert rows(db, "SELECT max(seq) FROM audit_records") == [(6,)]
    with pytest.raises(Exception, match="prev_hash"):  # triggers off: UNIQUE (prev_hash) holds
        tamper(db, records=[forged_row(7, five[3])])


def test_a_store_from_before_0003_gains_the_insert_trigger_when_opened(postgres_url: str) -> None:
    db = postgres_url
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
