"""Fixtures: the scenario incident in a temporary store, and its report on a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ircli.audit.store import AuditStore
from ircli.report import Report, build_report
from tests.conftest import FixedClock
from tests.report import scenario

GENERATED_AT = datetime(2026, 11, 29, 9, 0, 0, tzinfo=UTC)


@pytest.fixture
def incident(store: AuditStore, clock: FixedClock) -> str:
    return scenario.build(store, clock)


@pytest.fixture
def report(store: AuditStore, incident: str) -> Report:
    return build_report(store, incident, now=GENERATED_AT)
