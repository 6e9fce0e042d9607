"""A server store's password never sits in a URL: it comes from IRCLI_DB_PASSWORD, PGPASSWORD,
the keyring or ~/.pgpass, and lands nowhere; TLS options in the URL reach the driver."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from ircli.audit.credentials import StorePassword, keyring_user, store_password
from ircli.audit.store import open_store
from ircli.errors import InvalidInput
from ircli.redaction import REDACTED
from tests.conftest import CliRunner
from tests.keyrings import FILE_VARIABLE, MemoryKeyring, memory_keyring
from tests.pg import PostgresServer, postgres_server, postgres_url
from tests.pgroles import PasswordRole, password_role

__all__ = ["memory_keyring", "password_role", "postgres_server", "postgres_url"]

ROOT = Path(__file__).resolve().parents[2]
CANARY = "CANARY-url-password-5d1e"
URL = make_url("postgresql+psycopg://ops@db.internal/ircli?sslmode=verify-full")


# -- where the password comes from -------------------------------------------------------------


def test_the_keyring_user_names_user_host_port_and_database() -> None:
    assert keyring_user(URL) == "ops@db.internal:5432/ircli"
    assert keyring_user(make_url("postgresql+psycopg://ops@h:6543/x")) == "ops@h:6543/x"
    socket = make_url("postgresql+psycopg://ops@/x?host=/run/pg")
    assert keyring_user(socket) == "ops@/run/pg:5432/x"
    assert keyring_user(make_url("postgresql+psycopg://db.internal/ircli")) is None


def test_sources_in_order(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.set_password("ircli", "ops@db.internal:5432/ircli", "from-keyring")
    both = {"IRCLI_DB_PASSWORD": "from-env", "PGPASSWORD": "from-pg"}
    assert store_password(URL, both) == StorePassword("env IRCLI_DB_PASSWORD", "from-env")
    assert store_password(URL, {"PGPASSWORD": "x"}) == StorePassword(
        "env PGPASSWORD (read by libpq)"
    )
    assert store_password(URL, {}) == StorePassword(
        "keyring ircli ops@db.internal:5432/ircli", "from-keyring"
    )
    memory_keyring.delete_password("ircli", "ops@db.internal:5432/ircli")
    assert store_password(URL, {}).value is None
    assert store_password(URL, {"PGPASSFILE": "/etc/ircli/pgpass"}).source == (
        "/etc/ircli/pgpass if it has a line for this store (read by libpq)"
    )


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://ops:{CANARY}@127.0.0.1:1/ircli",
        f"postgresql+psycopg://ops@127.0.0.1:1/ircli?sslmode=require&password={CANARY}",
    ],
)
def test_a_password_in_the_url_is_refused_and_never_shown(cli: CliRunner, url: str) -> None:
    for argv, env in (
        (("--db", url, "audit", "head"), {}),
        (("--debug", "--db", url, "incident", "open", "x", "-s", "P1"), {}),
        (("store", "info"), {"IRCLI_DB": url}),
    ):
        result = cli(*argv, env=env)
        assert result.exit_code == 2, result.stderr
        assert CANARY not in result.stdout + result.stderr
        first, hint = result.stderr.splitlines()[-2:]
        assert first.startswith("error: the audit store URL postgresql")
        assert first.endswith("holds a password, which ircli never takes in a URL.")
        assert REDACTED in first
        for source in ("IRCLI_DB_PASSWORD", "PGPASSWORD", "keyring set ircli", "~/.pgpass"):
            assert source in hint
    with pytest.raises(InvalidInput, match="holds a password"):
        open_store(url, operator="dana")


def test_a_postgresql_url_without_a_driver_uses_psycopg(postgres_url: str) -> None:
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with open_store(plain, operator="dana") as store:
        assert store.backend == "postgresql (psycopg)"


# -- TLS options pass through --------------------------------------------------------------------


def test_tls_and_other_options_reach_the_driver(
    cli: CliRunner, postgres_url: str, postgres_server: PostgresServer
) -> None:
    named = f"{postgres_url}?sslmode=disable&application_name=ircli-team-test&connect_timeout=10"
    with open_store(named, operator="dana") as store:
        store.head()  # the pool keeps this connection open
        with postgres_server.admin() as admin:  # type: ignore[attr-defined]
            names = admin.execute(
                "SELECT application_name, ssl FROM pg_stat_activity "
                "JOIN pg_stat_ssl USING (pid) WHERE datname = %s",
                (make_url(postgres_url).database,),
            ).fetchall()
    assert ("ircli-team-test", False) in names
    result = cli("--db", f"{postgres_url}?sslmode=require", "audit", "head")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: the audit store {postgres_url}?sslmode=require failed")
    assert result.stderr.rstrip().endswith("server does not support SSL, but SSL was required.")
    assert len(result.stderr.splitlines()) == 1


# -- each source against a server that asks for a password ---------------------------------------


def ircli(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ircli", *argv], cwd=ROOT, env=env, capture_output=True,
        stdin=subprocess.DEVNULL, text=True, timeout=300,
    )  # fmt: skip


def clean_env(tmp_path: Path, role: PasswordRole) -> dict[str, str]:
    """The process environment without ircli's, libpq's and keyring's variables, with a home
    of its own, an empty test keyring and the role's store."""
    home = tmp_path / "home"
    home.mkdir()
    kept = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("IRCLI_", "PG", "PYTHON_KEYRING", "XDG_"))
    }
    return {
        **kept,
        "HOME": str(home),
        "IRCLI_DB": role.url,
        "IRCLI_OPERATOR": "dana",
        "PYTHON_KEYRING_BACKEND": "tests.keyrings.FileKeyring",
        FILE_VARIABLE: str(tmp_path / "keyring.json"),
    }


def give_password(source: str, role: PasswordRole, env: dict[str, str]) -> str:
    """Put the role's password where ``source`` says; what ``store info`` should name."""
    if source in ("IRCLI_DB_PASSWORD", "PGPASSWORD"):
        env[source] = role.password
        return f"env {source}" + (" (read by libpq)" if source == "PGPASSWORD" else "")
    user = f"{role.name}@{role.host}:{role.port}/{role.database}"
    if source == "keyring":
        Path(env[FILE_VARIABLE]).write_text(json.dumps({f"ircli {user}": role.password}))
        return f"keyring ircli {user}"
    pgpass = Path(env["HOME"]) / ".pgpass"
    pgpass.write_text(f"{role.host}:{role.port}:{role.database}:{role.name}:{role.password}\n")
    pgpass.chmod(0o600)
    return "~/.pgpass if it has a line for this store (read by libpq)"


def stored_text(server: PostgresServer, database: str) -> str:
    """Every row of every table of ``database``, as text."""
    import psycopg

    found: list[str] = []
    with psycopg.connect(
        host=server.host, port=server.port, user=server.user, dbname=database, autocommit=True
    ) as connection:
        tables = connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
        assert {"audit_records", "audit_targets"} <= {name for (name,) in tables}
        for (name,) in tables:
            found += [row[0] for row in connection.execute(f'SELECT t::text FROM "{name}" t')]
    return "\n".join(found)


@pytest.mark.parametrize("source", ["IRCLI_DB_PASSWORD", "PGPASSWORD", "keyring", "pgpass"])
def test_each_password_source_opens_the_store_and_the_password_lands_nowhere(
    source: str, password_role: PasswordRole, postgres_server: PostgresServer, tmp_path: Path
) -> None:
    env = clean_env(tmp_path, password_role)
    named = give_password(source, password_role, env)
    outputs: list[str] = []

    def call(*argv: str, expect: int = 0) -> Any:
        done = ircli(env, *argv)
        outputs.extend((done.stdout, done.stderr))
        assert done.returncode == expect, done.stderr
        return json.loads(done.stdout) if argv[0] == "--json" else done.stdout

    incident = call("--json", "incident", "open", "Bot flood", "-s", "P1")["id"]
    if source != "pgpass":  # a password ircli knows is redacted even where people type it
        call("timeline", "add", incident, f"logged in as ops with {password_role.password}")
    info = call("--json", "store", "info")
    assert info["password_source"] == named
    assert info["store"] == password_role.url
    assert info["backend"] == "postgresql (psycopg)"
    call("audit", "verify")
    call("audit", "log")
    call("report", incident)
    call("--json", "report", incident)
    call("--debug", "--db", f"{password_role.url}?sslmode=require", "audit", "head", expect=1)

    assert info["records"] == (1 if source == "pgpass" else 2)
    for text in outputs:
        assert password_role.password not in text
    stored = stored_text(postgres_server, password_role.database)
    assert "Bot flood" in stored
    assert password_role.password not in stored
    for path in (tmp_path / "home").rglob("*"):
        if path.is_file() and path.name != ".pgpass":
            assert password_role.password.encode() not in path.read_bytes(), path


def test_without_a_password_or_with_a_wrong_one_the_error_names_the_sources(
    password_role: PasswordRole, tmp_path: Path
) -> None:
    env = clean_env(tmp_path, password_role)
    missing = ircli(env, "incident", "list")
    assert missing.returncode == 1
    assert "fe_sendauth: no password supplied." in missing.stderr
    wrong = ircli({**env, "IRCLI_DB_PASSWORD": "CANARY-wrong-password"}, "incident", "list")
    assert wrong.returncode == 1
    assert f'password authentication failed for user "{password_role.name}".' in wrong.stderr
    assert "CANARY-wrong-password" not in wrong.stdout + wrong.stderr
    for result in (missing, wrong):
        error, hint = result.stderr.splitlines()
        assert error.startswith(f"error: the audit store {password_role.url} failed: ")
        assert hint.startswith("hint: Give the password in IRCLI_DB_PASSWORD or PGPASSWORD")
