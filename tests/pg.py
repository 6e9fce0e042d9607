"""PostgreSQL fixtures for the tests, over the throwaway server of tests/pgserver.py.

``postgres_server`` (session) starts it; ``postgres_url`` (per test) is a fresh, empty database
on it as a SQLAlchemy URL (``postgresql+psycopg://ircli@127.0.0.1:PORT/t_…``, trust
authentication on loopback: no password anywhere), dropped after the test. Without the
binaries or the driver the tests that use them are skipped with a clear message — unless
``IRCLI_REQUIRE_POSTGRES=1`` (set by ``.ci/run``), when they fail: CI never skips them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.pgserver import PostgresServer, PostgresUnavailable, throwaway_server

__all__ = ["PostgresServer", "postgres_server", "postgres_url"]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        with throwaway_server() as server:
            yield server
    except PostgresUnavailable as missing:
        if os.environ.get("IRCLI_REQUIRE_POSTGRES") == "1":
            pytest.fail(str(missing))
        pytest.skip(str(missing))


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh database on the throwaway server, dropped after the test."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)
