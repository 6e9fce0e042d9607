"""Raw SQL on an audit store's database, past ircli, on SQLite or PostgreSQL alike: what its owner
(or an attacker with write access) can do with ``sqlite3`` or ``psql``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Row, create_engine, exc, text

from ircli.audit.schema import audit_records
from ircli.audit.store import store_url

__all__ = [
    "COLUMNS", "connected", "database_text", "execute", "insert", "refused", "rows", "tamper",
]  # fmt: skip

COLUMNS = tuple(column.name for column in audit_records.columns)
"""``audit_records``' columns, in table order."""


@contextlib.contextmanager
def connected(db: str, *, commit: bool = True) -> Iterator[Connection]:
    """One transaction on the store at ``db`` (a path or a URL), committed at the end (or
    rolled back: ``commit=False``)."""
    engine = create_engine(store_url(db))
    try:
        with engine.connect() as connection:
            yield connection
            if commit:
                connection.commit()
    finally:
        engine.dispose()


def rows(db: str, query: str, **params: Any) -> list[Row[Any]]:
    with connected(db) as connection:
        return list(connection.execute(text(query), params))


def execute(db: str, *statements: str) -> None:
    """Run ``statements`` in one transaction, the database's protections on."""
    with connected(db) as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)


def insert(db: str, *records: Mapping[str, Any]) -> None:
    """Insert rows into ``audit_records`` as they are (a value for each of ``COLUMNS``; other
    keys are left out), the database's protections on."""
    with connected(db) as connection:
        connection.execute(audit_records.insert(), _rows(records))


def _rows(records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{name: record[name] for name in COLUMNS} for record in records]


def tamper(db: str, *statements: str, records: Sequence[Mapping[str, Any]] = ()) -> None:
    """Edit the store as an attacker with write access would, its protections off first: on
    SQLite by dropping every trigger, on PostgreSQL as a superuser, for this transaction
    (``session_replication_role = replica``: no trigger fires; constraints still hold). Runs
    ``statements``, then inserts ``records``."""
    with connected(db) as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        else:
            triggers = connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'"
            ).scalars()
            for trigger in list(triggers):
                connection.exec_driver_sql(f"DROP TRIGGER {trigger}")
        for statement in statements:
            connection.exec_driver_sql(statement)
        if records:
            connection.execute(audit_records.insert(), _rows(records))


def refused(db: str, statement: str | Mapping[str, Any]) -> str:
    """The database's refusal of one statement (SQL text, or a row for ``audit_records``) in a
    transaction of its own: the error's message. Fails the test if it was not refused."""
    try:
        if isinstance(statement, str):
            execute(db, statement)
        else:
            insert(db, statement)
    except exc.IntegrityError as error:
        return str(error.orig)
    raise AssertionError(f"the database accepted {statement!r}")


def database_text(db: str) -> str:
    """Every row of every table of the store's database, as text (one row a line)."""
    with connected(db) as connection:
        if connection.dialect.name == "postgresql":
            tables = connection.exec_driver_sql(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).scalars()
            query = 'SELECT CAST(t AS text) FROM "{}" AS t'
        else:
            tables = connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            ).scalars()
            query = 'SELECT * FROM "{}"'
        lines = [
            " ".join(str(value) for value in row)
            for table in list(tables)
            for row in connection.exec_driver_sql(query.format(table))
        ]
    return "\n".join(lines)
