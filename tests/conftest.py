"""Shared fixtures: a fixed clock, a temporary audit store, and the CLI run in-process.

The store is a SQLite file unless a test asks for another ``backend``: tests/audit/conftest.py
runs the audit-store tests on SQLite and on a real PostgreSQL server (tests/pg.py), and a test
elsewhere can ``@pytest.mark.parametrize("backend", BACKENDS)``.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ircli.audit.store import AuditStore, open_store
from ircli.cli import run
from ircli.cli.environment import Environment
from tests.pg import postgres_server, postgres_url

__all__ = ["BACKENDS", "postgres_server", "postgres_url"]

START = datetime(2026, 11, 28, 22, 0, 0, tzinfo=UTC)
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
BACKENDS = ("sqlite", "postgresql")
"""The databases the audit store is tested on (the ids of the ``backend`` parameter)."""


@pytest.fixture(autouse=True)
def _no_proxy_from_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests talk to loopback peers; a CI machine's egress proxy must not sit in between
    (the proxy tests set their own)."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


class FixedClock:
    """A clock that only moves when told to (``advance``) or by ``step`` on every read."""

    def __init__(self, start: datetime = START, step: timedelta = timedelta(0)) -> None:
        self.now = start
        self.step = step

    def __call__(self) -> datetime:
        current = self.now
        self.now = current + self.step
        return current

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "audit.db"


@pytest.fixture
def backend() -> str:
    """The database behind ``db``: SQLite here, both in tests/audit (overridden there)."""
    return "sqlite"


@pytest.fixture
def db(backend: str, db_path: Path, request: pytest.FixtureRequest) -> str:
    """The audit store's location as ``--db`` takes it: the SQLite file ``db_path``, or a
    fresh database on the throwaway PostgreSQL server."""
    if backend == "postgresql":
        url: str = request.getfixturevalue("postgres_url")
        return url
    return str(db_path)


@pytest.fixture
def store(db: str, clock: FixedClock) -> Iterator[AuditStore]:
    with open_store(db, operator="alice", clock=clock) as opened:
        yield opened


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


CliRunner = Callable[..., CliResult]


@pytest.fixture
def cli(tmp_path: Path, clock: FixedClock, db: str) -> CliRunner:
    """Run ``ircli`` in-process against a temporary store; returns exit code and output."""

    def invoke(*argv: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> CliResult:
        stdout, stderr = io.StringIO(), io.StringIO()
        environment = Environment(
            stdout=stdout,
            stderr=stderr,
            stdin=io.StringIO(),
            env={"IRCLI_DB": db, "IRCLI_OPERATOR": "alice", **(env or {})},
            cwd=cwd or tmp_path,
            config_dir=tmp_path / "config",
            data_dir=tmp_path / "data",
            clock=clock,
            stdin_isatty=False,
        )
        code = run(list(argv), environment)
        return CliResult(code, stdout.getvalue(), stderr.getvalue())

    return invoke
