"""docs/team.md as written: its SQL gives an owner and responders who append and read but change
nothing; only the owner migrates; a pg_dump backup restores a store that verifies."""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ircli.audit.schema import HEAD_REVISION
from tests.conftest import CliRunner
from tests.pg import PostgresServer, postgres_server
from tests.pgserver import find_binaries

__all__ = ["postgres_server"]

TEAM_MD = Path(__file__).resolve().parents[2] / "docs" / "team.md"
NAMES = re.compile(r"\b(ircli_owner|ircli_responders|dana|lee|ircli)\b")


def setup_blocks() -> list[str]:
    """The ``sql`` blocks of team.md's "Setting up": the superuser's, then the owner's."""
    section = TEAM_MD.read_text(encoding="utf-8").split("\n## Setting up\n", 1)[1]
    blocks = re.findall(r"```sql\n(.*?)```", section.split("\n## ", 1)[0], flags=re.DOTALL)
    assert len(blocks) == 2
    return blocks


def statements(block: str) -> list[str]:
    lines = [line for line in block.splitlines() if not line.startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]


@dataclass(frozen=True)
class Team:
    server: PostgresServer
    names: dict[str, str]
    """team.md's names (``ircli`` the database, ``dana``, …) → this test's."""

    def url(self, role: str) -> str:
        database = self.names["ircli"]
        return f"postgresql+psycopg://{self.names[role]}@{self.server.host}:{self.server.port}/{database}"

    def connect(self, role: str) -> Any:
        import psycopg

        return psycopg.connect(
            host=self.server.host, port=self.server.port, user=self.names[role],
            dbname=self.names["ircli"], autocommit=True,
        )  # fmt: skip


@pytest.fixture
def team(postgres_server: PostgresServer) -> Iterator[Team]:
    suffix = uuid.uuid4().hex[:8]
    names = {
        name: f"{name}_{suffix}" for name in ("ircli_owner", "ircli_responders", "dana", "lee")
    }
    names["ircli"] = f"t_{suffix}"
    superuser, owner = (
        [NAMES.sub(lambda match: names[match[1]], sql) for sql in statements(block)]
        for block in setup_blocks()
    )
    with postgres_server.admin() as admin:  # type: ignore[attr-defined]
        for sql in superuser:
            admin.execute(sql)
    made = Team(postgres_server, names)
    with made.connect("ircli_owner") as connection:
        for sql in owner:
            connection.execute(sql)
    yield made
    with postgres_server.admin() as admin:  # type: ignore[attr-defined]
        admin.execute(f'DROP DATABASE IF EXISTS "{names["ircli"]}" WITH (FORCE)')
        for role in ("dana", "lee", "ircli_responders", "ircli_owner"):
            admin.execute(f"DROP ROLE IF EXISTS {names[role]}")


def test_responders_append_and_read_but_change_nothing(cli: CliRunner, team: Team) -> None:
    def as_(role: str, *argv: str) -> str:
        result = cli("--db", team.url(role), "--operator", role, *argv)
        assert result.exit_code == 0, result.stderr
        return result.stdout

    incident = json.loads(as_("ircli_owner", "--json", "incident", "open", "Drill", "-s", "P4"))
    as_("dana", "timeline", "add", incident["id"], "bots from 203.0.113.0/24")
    as_("lee", "incident", "status", incident["id"], "acknowledged")
    assert as_("lee", "audit", "verify").strip() == "3/3 records valid"

    import psycopg

    with team.connect("dana") as dana:
        for sql in (
            "UPDATE audit_records SET operator = 'mallory'",
            "DELETE FROM audit_records",
            "TRUNCATE audit_records",
            "DELETE FROM audit_targets",
            "ALTER TABLE audit_records DISABLE TRIGGER ALL",
            "DROP TRIGGER audit_records_no_change ON audit_records",
            "UPDATE alembic_version SET version_num = '0001'",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                dana.execute(sql)
    assert as_("dana", "audit", "verify").strip() == "3/3 records valid"


def test_only_the_owner_migrates(cli: CliRunner, team: Team) -> None:
    owner = ("--db", team.url("ircli_owner"))
    assert cli(*owner, "incident", "open", "Drill", "-s", "P4").exit_code == 0
    with team.connect("ircli_owner") as connection:  # as if a newer ircli came along
        connection.execute("UPDATE alembic_version SET version_num = '0001'")
        refused = cli("--db", team.url("dana"), "audit", "verify")
        connection.execute(f"UPDATE alembic_version SET version_num = '{HEAD_REVISION}'")
    assert refused.exit_code == 1
    assert refused.stderr.startswith(f"error: the audit store {team.url('dana')} failed: ")
    assert "permission denied for schema public" in refused.stderr


def test_a_pg_dump_backup_restores_a_store_that_verifies(
    cli: CliRunner, team: Team, postgres_server: PostgresServer
) -> None:
    owner = ("--db", team.url("ircli_owner"))
    incident = json.loads(cli(*owner, "--json", "incident", "open", "Drill", "-s", "P4").stdout)
    cli(*owner, "timeline", "add", incident["id"], "configured the kill switch")
    anchor = cli(*owner, "audit", "head").stdout.strip()
    binaries = find_binaries()
    assert binaries is not None
    server = ["-h", postgres_server.host, "-p", str(postgres_server.port), "-U", "ircli"]
    dump = subprocess.run(
        [str(binaries / "pg_dump"), *server, "-Fc", team.names["ircli"]],
        capture_output=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    restored = f"r_{team.names['ircli']}"
    with postgres_server.admin() as admin:  # type: ignore[attr-defined]
        admin.execute(f'CREATE DATABASE "{restored}"')
    try:
        subprocess.run(
            [str(binaries / "pg_restore"), *server, "-d", restored, "--exit-on-error"],
            input=dump, capture_output=True, check=True, timeout=120,
        )  # fmt: skip
        copy = ("--db", postgres_server.url(restored))
        verified = cli(*copy, "audit", "verify", "--anchor", anchor)
        assert (verified.exit_code, verified.stdout) == (0, "2/2 records valid\n")
    finally:
        with postgres_server.admin() as admin:  # type: ignore[attr-defined]
            admin.execute(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)')
