"""The databases under the audit store: SQLite and PostgreSQL settings, and their errors.

SQLite runs in WAL mode with a busy timeout, and a write transaction begins with ``BEGIN
IMMEDIATE`` so concurrent writers queue; on PostgreSQL a write transaction begins by taking a
transaction-scoped advisory lock, for the same effect. A database error becomes one sentence
naming the store: damaged (exit 4), locked too long or refused (exit 1).
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, event, exc

from ircli.audit.credentials import PASSWORD_HINT
from ircli.errors import AuditIntegrityError, InvalidInput, IrcliError, OperationFailed

__all__ = [
    "BUSY_TIMEOUT_MS",
    "DAMAGED_HINT",
    "PG_LOCK_KEY",
    "WRITE",
    "configure_postgresql",
    "configure_sqlite",
    "create_private_file",
    "database_error",
    "driver_arguments",
]

BUSY_TIMEOUT_MS = 30_000
WRITE = "ircli_write"
"""The execution option that marks a connection's transactions as writes."""
PG_LOCK_KEY = 0x6972636C69  # "ircli"


def driver_arguments(backend: str) -> dict[str, Any]:
    if backend == "sqlite":
        return {"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
    return {}


def create_private_file(path: Path, shown: str) -> None:
    """Create the SQLite file (and its directory) readable by its owner only."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        os.close(descriptor)
    except OSError as error:
        raise InvalidInput(f"cannot open the audit store {shown}: {error.strerror}.") from None


def configure_sqlite(engine: Engine, *, read_only: bool = False) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not read_only:
            _switch_to_wal(cursor)
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        writing = connection.get_execution_options().get(WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


def _switch_to_wal(cursor: sqlite3.Cursor) -> None:
    """Put the database in WAL mode (a no-op when it is). While another connection switches a
    new file, SQLite refuses at once, without waiting out the busy timeout: several
    processes creating one store at the same moment all get here. Retry for as long."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    pause = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL").fetchall()
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() + pause > deadline:
                raise
        _pause(pause)
        pause = min(pause * 2, 0.1)


def _pause(seconds: float) -> None:
    time.sleep(seconds)


def configure_postgresql(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # Writers queue here, as BEGIN IMMEDIATE makes them queue on SQLite: before reading
        # the head (appends) or the schema revision (migrations: several responders opening
        # a new store at once).
        if connection.get_execution_options().get(WRITE, False):
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_LOCK_KEY})")


_DAMAGED = ("not a database", "malformed", "disk image", "file is encrypted", "no such table",
            "no such column", "corrupt")  # fmt: skip
DAMAGED_HINT = (
    "Keep the file as it is; run 'ircli --db COPY audit verify' on a copy to see how far the "
    "chain holds, and restore the store from a backup (docs/audit.md). Nothing was sent."
)


def database_error(shown: str, error: exc.DatabaseError) -> IrcliError:
    # One line: libpq's messages span several ("…failed: FATAL:  password …\n\tIs the…").
    detail = " ".join(str(error.orig).split()).rstrip(".") if error.orig else type(error).__name__
    if any(sign in detail for sign in _DAMAGED):
        return AuditIntegrityError(
            f"the audit store {shown} is damaged: {detail}.", hint=DAMAGED_HINT
        )
    if "locked" in detail or "busy" in detail:
        return OperationFailed(
            f"the audit store {shown} stayed locked for {BUSY_TIMEOUT_MS // 1000} s: {detail}."
        )
    refused = ("password authentication failed", "no password supplied")
    hint = PASSWORD_HINT if any(sign in detail for sign in refused) else None
    return OperationFailed(f"the audit store {shown} failed: {detail}.", hint=hint)
