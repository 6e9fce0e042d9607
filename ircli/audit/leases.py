"""Leases: one process per run. A run holds its lease while it executes; a second process
that would run it (``runs resume`` of a live run) is refused, and a lease whose holder died is
free again — the operating system or the database releases it with the process.

- SQLite file: an exclusive ``flock`` on ``<store>.leases/<sha256(name)>.lock``, a file that
  says who holds it (pid, host, since) and is removed on release.
- PostgreSQL: a session-level advisory lock keyed by the name, on a connection of its own,
  whose ``application_name`` says who holds it (pid, host, since).
- An in-memory store: a set in this process.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text

from ircli.clock import format_utc
from ircli.errors import GuardRefused

__all__ = ["LeaseHeld", "Leases"]


class LeaseHeld(GuardRefused):
    """Another live process holds the lease (exit 3: nothing was sent)."""

    def __init__(self, name: str, holder: str) -> None:
        super().__init__(
            f"{name} is running in {holder}; nothing was sent.",
            hint="Wait for it to end, or stop that process (Ctrl-C drains it); a lease left "
            "by a process that died is taken over.",
        )
        self.holder = holder


class Leases:
    """The leases of one store."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        database = engine.url.database
        backend = engine.dialect.name
        self._directory: Path | None = None
        if backend == "sqlite" and database not in (None, "", ":memory:"):
            self._directory = Path(f"{database}.leases")
        self._postgres = backend == "postgresql"
        self._local: set[str] = set()
        self._local_lock = threading.Lock()

    @contextlib.contextmanager
    def hold(self, name: str, now: datetime) -> Iterator[None]:
        """Hold ``name``'s lease for the block; ``LeaseHeld`` if a live process has it."""
        if self._directory is not None:
            with self._file_lease(name, now):
                yield
        elif self._postgres:
            with self._advisory_lease(name, now):
                yield
        else:
            with self._local_lease(name):
                yield

    def holder(self, name: str) -> str | None:
        """Who holds ``name``'s lease now (None: nobody, e.g. its process died)."""
        if self._directory is not None:
            return self._file_holder(self._path(name))
        if self._postgres:
            with self._engine.connect() as connection:
                taken = connection.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": _key(name)}
                ).scalar()
                if taken:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _key(name)})
                    return None
                return _advisory_holder(connection, name)
        return "this process" if name in self._local else None

    # -- SQLite: a locked file beside the store ------------------------------------------------

    def _path(self, name: str) -> Path:
        assert self._directory is not None
        return self._directory / f"{hashlib.sha256(name.encode()).hexdigest()[:32]}.lock"

    @contextlib.contextmanager
    def _file_lease(self, name: str, now: datetime) -> Iterator[None]:
        path = self._path(name)
        path.parent.mkdir(mode=0o700, exist_ok=True)
        tries = 0
        while True:
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(descriptor)
                holder = self._file_holder(path)
                tries += 1
                if holder is None and tries < 20:  # only a reader's brief look (holder())
                    time.sleep(0.005)
                    continue
                raise LeaseHeld(name, holder or "another process") from None
            # The file may have been removed (released) between open and lock: lock the
            # file that is at the path now, or two processes could each hold "the" lease.
            try:
                if os.fstat(descriptor).st_ino == os.stat(path).st_ino:
                    break
            except FileNotFoundError:
                pass
            os.close(descriptor)
        try:
            about = {"name": name, "pid": os.getpid(), "host": socket.gethostname(),
                     "since": format_utc(now)}  # fmt: skip
            os.ftruncate(descriptor, 0)
            os.write(descriptor, json.dumps(about).encode())
            yield
        finally:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            os.close(descriptor)  # releases the lock

    @staticmethod
    def _file_holder(path: Path) -> str | None:
        try:
            descriptor = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                about = _about(os.pread(descriptor, 4096, 0))
                pid, host, since = (about.get(key, "?") for key in ("pid", "host", "since"))
                return _holder(pid=pid, host=host, since=since)
            return None  # a file left behind, locked by nobody
        finally:
            os.close(descriptor)

    # -- PostgreSQL: an advisory lock -----------------------------------------------------------

    @contextlib.contextmanager
    def _advisory_lease(self, name: str, now: datetime) -> Iterator[None]:
        with self._engine.connect() as connection:
            taken = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": _key(name)}
            ).scalar()
            if not taken:
                holder = _advisory_holder(connection, name)
                connection.commit()
                raise LeaseHeld(name, holder)
            # Who holds it, for a refused process to name (pg_stat_activity.application_name;
            # the lease's connection is its own, and is closed with the lease).
            about = f"{_APPLICATION}{os.getpid()} {format_utc(now)} {socket.gethostname()}"
            connection.execute(
                text("SELECT set_config('application_name', :about, false)"), {"about": about}
            )
            connection.commit()
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _key(name)})
                connection.execute(text("RESET application_name"))
                connection.commit()

    # -- in memory ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _local_lease(self, name: str) -> Iterator[None]:
        with self._local_lock:
            if name in self._local:
                raise LeaseHeld(name, "this process")
            self._local.add(name)
        try:
            yield
        finally:
            with self._local_lock:
                self._local.discard(name)


_APPLICATION = "ircli lease "
"""How a lease's PostgreSQL connection names itself: ``ircli lease PID SINCE HOST`` (the
server keeps 63 bytes of it: a long host name is cut, nothing else)."""

_HOLDER = text(
    "SELECT l.pid, a.application_name FROM pg_locks l "
    "LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
    "AND l.classid::bigint = :high AND l.objid::bigint = :low AND l.database = "
    "(SELECT oid FROM pg_database WHERE datname = current_database())"
)


def _advisory_holder(connection: Connection, name: str) -> str:
    """Who holds ``name``'s advisory lock, as a SQLite lease file says it when the holder is
    an ircli lease: ``process PID on HOST (since …)``; else its server process."""
    key = _key(name) & 0xFFFF_FFFF_FFFF_FFFF  # pg_locks shows a bigint key's two halves
    row = connection.execute(_HOLDER, {"high": key >> 32, "low": key & 0xFFFF_FFFF}).first()
    if row is None:  # released meanwhile
        return "another PostgreSQL session"
    pid, application = row
    parts = (application or "").removeprefix(_APPLICATION).split(" ", 2)
    if application and application.startswith(_APPLICATION) and len(parts) == 3:
        return _holder(pid=parts[0], host=parts[2], since=parts[1])
    return f"another PostgreSQL session (server process {pid})"


def _holder(pid: object, host: object, since: object) -> str:
    """How a refused lease names its holder, on SQLite and on PostgreSQL alike."""
    return f"process {pid} on {host} (since {since})"


def _key(name: str) -> int:
    """A signed 64-bit advisory-lock key for ``name``."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def _about(raw: bytes) -> dict[str, Any]:
    try:
        about = json.loads(raw.decode("utf-8", "replace"))
    except ValueError:
        return {}
    return about if isinstance(about, dict) else {}
