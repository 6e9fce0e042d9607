"""The audit store on a real PostgreSQL server (tests/pg.py starts a throwaway one)."""

from __future__ import annotations

from ircli.audit.records import NewRecord
from ircli.audit.store import open_store
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
