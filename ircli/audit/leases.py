"""Leases: one process per run. A run holds its lease while it executes; a second process
that would run it (``runs resume`` of a live run) is refused, and a lease whose holder died is
free again — the operating system or the database releases it with the process.

- SQLite file: an exclusive ``flock`` on ``<store>.leases/<sha256(name)>.lock``, a file that
  says who holds it (pid, host, since) and is removed on release.
- PostgreSQL: a session-level advisory lock keyed by the name, on a connection of its own.
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

from sqlalchemy import Engine, text

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
            with self._advisory_lease(name):
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
            return "another PostgreSQL session"
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
                return (
                    f"process {about.get('pid', '?')} on {about.get('host', '?')} "
                    f"(since {about.get('since', '?')})"
                )
            return None  # a file left behind, locked by nobody
        finally:
            os.close(descriptor)

    # -- PostgreSQL: an advisory lock -----------------------------------------------------------

    @contextlib.contextmanager
    def _advisory_lease(self, name: str) -> Iterator[None]:
        with self._engine.connect() as connection:
            taken = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": _key(name)}
            ).scalar()
            connection.commit()
            if not taken:
                raise LeaseHeld(name, "another PostgreSQL session")
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _key(name)})
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


def _key(name: str) -> int:
    """A signed 64-bit advisory-lock key for ``name``."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def _about(raw: bytes) -> dict[str, Any]:
    try:
        about = json.loads(raw.decode("utf-8", "replace"))
    except ValueError:
        return {}
    return about if isinstance(about, dict) else {}
