"""A role that must give its password on the throwaway server (``tests/pg.py`` trusts every
other): ``password_role`` creates one, with a database it owns, for one test.

The server's ``pg_hba.conf`` gains one line, first, asking members of the group
``ircli_password_users`` for a SCRAM-SHA-256 password on loopback; the server reloads it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.pg import PostgresServer, postgres_server

__all__ = ["PasswordRole", "password_role", "postgres_server"]

GROUP = "ircli_password_users"
_RELOAD_DEADLINE = 30  # seconds for the server to read pg_hba.conf again


@dataclass(frozen=True)
class PasswordRole:
    """A login role with a password, and its own database."""

    name: str
    password: str
    database: str
    host: str
    port: int

    @property
    def url(self) -> str:
        """The store URL: no password in it."""
        return f"postgresql+psycopg://{self.name}@{self.host}:{self.port}/{self.database}"


def _require_passwords(server: PostgresServer) -> None:
    admin: Any
    with server.admin() as admin:  # type: ignore[attr-defined]
        if admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (GROUP,)).fetchone():
            return
        admin.execute(f"CREATE ROLE {GROUP} NOLOGIN")
        hba = Path(admin.execute("SHOW hba_file").fetchone()[0])
        line = f"host all +{GROUP} {server.host}/32 scram-sha-256\n"
        hba.write_text(line + hba.read_text())
        admin.execute("SELECT pg_reload_conf()")


def _wait_until_asked(role: PasswordRole) -> None:
    """Until the server asks ``role`` for its password (the reload is asynchronous)."""
    import psycopg

    deadline = time.monotonic() + _RELOAD_DEADLINE
    while True:
        try:
            psycopg.connect(
                host=role.host, port=role.port, user=role.name, dbname=role.database,
                password="", connect_timeout=5,
            ).close()  # fmt: skip
        except psycopg.OperationalError as error:
            if "password" in str(error):
                return
            raise
        if time.monotonic() > deadline:
            raise AssertionError("the server still trusts the role after reloading pg_hba.conf")
        time.sleep(0.05)


@pytest.fixture
def password_role(postgres_server: PostgresServer) -> Iterator[PasswordRole]:
    _require_passwords(postgres_server)
    suffix = uuid.uuid4().hex[:10]
    role = PasswordRole(
        name=f"ops_{suffix}",
        password=f"CANARY-db-{uuid.uuid4().hex}",
        database=f"t_{suffix}",
        host=postgres_server.host,
        port=postgres_server.port,
    )
    admin: Any
    with postgres_server.admin() as admin:  # type: ignore[attr-defined]
        admin.execute("SET password_encryption = 'scram-sha-256'")
        admin.execute(f"CREATE ROLE {role.name} LOGIN IN ROLE {GROUP} PASSWORD '{role.password}'")
        admin.execute(f'CREATE DATABASE "{role.database}" OWNER {role.name}')
    _wait_until_asked(role)
    yield role
    with postgres_server.admin() as admin:  # type: ignore[attr-defined]
        admin.execute(f'DROP DATABASE IF EXISTS "{role.database}" WITH (FORCE)')
        admin.execute(f"DROP ROLE IF EXISTS {role.name}")
