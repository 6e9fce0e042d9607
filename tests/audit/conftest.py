"""Every audit-store test here runs on SQLite and on a real PostgreSQL server: the ``backend``
behind the ``db``, ``store`` and ``cli`` fixtures (tests/conftest.py) takes both values, with
the ids ``sqlite`` and ``postgresql``. A test of something only SQLite has (file modes, WAL,
damaged pages, read-only mounts) is marked ``@sqlite_only``.
"""

from __future__ import annotations

import pytest

from tests.conftest import BACKENDS

sqlite_only = pytest.mark.parametrize("backend", ["sqlite"])
"""For a test of something only a SQLite file has: it runs on SQLite alone."""


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name
