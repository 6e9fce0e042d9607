"""A throwaway PostgreSQL server: ``initdb`` and ``pg_ctl`` in a temporary directory, on a free
loopback port, removed when done. Plain Python (no pytest): the tests' fixtures (tests/pg.py)
and the benchmarks (bench/audit.py, bench/executor.py) both start it with ``throwaway_server``.

Trust authentication on loopback for the user ``ircli`` (the cluster's superuser): no password
anywhere. As root (CI containers) the server runs as the ``postgres`` user that Debian's package
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
from typing import Any

__all__ = ["PostgresServer", "PostgresUnavailable", "find_binaries", "throwaway_server"]

_START_TIMEOUT = 60  # seconds pg_ctl waits for the server (a busy machine is slow to start one)


class PostgresUnavailable(Exception):
    """No server can be started here; the message says why and what to install."""


@dataclass(frozen=True)
class PostgresServer:
    """A running throwaway server."""

    host: str
    port: int
    user: str

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{database}"

    def admin(self) -> Any:
        """An autocommit psycopg connection to the ``postgres`` database."""
        import psycopg

        return psycopg.connect(
            host=self.host, port=self.port, user=self.user, dbname="postgres", autocommit=True
        )

    def create_database(self, prefix: str = "t") -> str:
        """A fresh, empty database; returns its SQLAlchemy URL."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with self.admin() as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with self.admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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


def unavailable_reason() -> str | None:
    """Why no server can be started here (None: it can)."""
    if find_binaries() is None:
        return (
            "PostgreSQL server binaries (initdb, pg_ctl) not found; "
            "install them (apt-get install postgresql) to run the PostgreSQL tests and benches"
        )
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'ircli[postgres]')"
    return None


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


@contextlib.contextmanager
def throwaway_server(
    max_connections: int = 100, *, fsync: bool = False
) -> Iterator[PostgresServer]:
    """Start a server for the block; stop it and remove its files after.
    ``PostgresUnavailable`` when the binaries or the driver are missing. Without ``fsync``
    (tests) the server never flushes to disk; with it (benches) it commits as a default
    server does, durably."""
    reason = unavailable_reason()
    if reason is not None:
        raise PostgresUnavailable(reason)
    binaries = find_binaries()
    assert binaries is not None
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
        options = (
            f"{'' if fsync else '-F '}-p {port} -k {sockets} -c listen_addresses=127.0.0.1 "
            f"-c max_connections={max_connections}"
        )
        _run([str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l",
              str(home / "server.log"), "-w", "-t", str(_START_TIMEOUT), "start"])  # fmt: skip
        yield PostgresServer("127.0.0.1", port, "ircli")
    finally:
        if (data / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                _run([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"])
        shutil.rmtree(home, ignore_errors=True)
