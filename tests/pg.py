"""A throwaway PostgreSQL server for the tests: ``initdb`` and ``pg_ctl`` in a temporary
directory, on a free loopback port, removed at the end of the session.

``postgres_server`` (session) starts it; ``postgres_url`` (per test) is a fresh, empty database
on it as a SQLAlchemy URL (``postgresql+psycopg://ircli@127.0.0.1:PORT/t_…``, trust
authentication on loopback: no password anywhere). Without the binaries the tests that use them
are skipped with a clear message — unless ``IRCLI_REQUIRE_POSTGRES=1`` (set by ``.ci/run``),
when they fail: CI never skips them.

As root (CI containers), the server runs as the ``postgres`` user that Debian's package
creates, since ``initdb`` refuses to run as root.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["PostgresServer", "find_binaries", "postgres_server", "postgres_url"]

_START_TIMEOUT = 60  # seconds pg_ctl waits for the server (a busy machine is slow to start one)


@dataclass(frozen=True)
class PostgresServer:
    """A running throwaway server."""

    host: str
    port: int
    user: str

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{database}"

    def admin(self) -> object:
        """An autocommit psycopg connection to the ``postgres`` database."""
        import psycopg

        return psycopg.connect(
            host=self.host, port=self.port, user=self.user, dbname="postgres", autocommit=True
        )


def find_binaries() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl`` (PATH first, then Debian's
    ``/usr/lib/postgresql/N/bin``, newest first), or None."""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).resolve().parent
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(Path(path).parent.parent.name),
        reverse=True,
    )
    return Path(versions[0]).parent if versions else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_server_user(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _run(argv: list[str]) -> None:
    done = subprocess.run(
        _as_server_user(argv), capture_output=True, text=True, timeout=_START_TIMEOUT + 30
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:2])} failed: {done.stdout}{done.stderr}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    binaries = find_binaries()
    if binaries is None:
        message = (
            "PostgreSQL server binaries (initdb, pg_ctl) not found; "
            "install them (apt-get install postgresql) to run the PostgreSQL tests"
        )
        if os.environ.get("IRCLI_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install 'ircli[dev]')")
    home = Path(tempfile.mkdtemp(prefix="ircli-pg-"))
    data, sockets = home / "data", home / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(home, "postgres")
        shutil.chown(sockets, "postgres")
    port = _free_port()
    try:
        _run([str(binaries / "initdb"), "-D", str(data), "-U", "ircli", "-A", "trust",
              "-E", "UTF8", "--locale", "C", "--no-sync"])  # fmt: skip
        options = f"-F -p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c max_connections=100"
        _run([str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l",
              str(home / "server.log"), "-w", "-t", str(_START_TIMEOUT), "start"])  # fmt: skip
        yield PostgresServer("127.0.0.1", port, "ircli")
    finally:
        if (data / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                _run([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"])
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh database on the throwaway server, dropped after the test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with postgres_server.admin() as admin:  # type: ignore[attr-defined]
        admin.execute(f'CREATE DATABASE "{name}"')
    yield postgres_server.url(name)
    with postgres_server.admin() as admin:  # type: ignore[attr-defined]
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
