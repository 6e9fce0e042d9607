"""Where a store holds ``[REDACTED]``: a run without secrets in its input must hold none."""

from __future__ import annotations

from ircli.audit.records import AuditRecord
from ircli.audit.store import AuditStore
from ircli.redaction import REDACTED


def redacted_records(store: AuditStore) -> list[AuditRecord]:
    """Every record of ``store`` with ``[REDACTED]`` anywhere in its fields."""
    return [record for record in store.records() if REDACTED in str(record.as_dict())]


def assert_nothing_redacted(store: AuditStore) -> None:
    """Fail naming the first records redaction changed, when nothing secret was in them."""
    found = redacted_records(store)
    assert not found, [(record.seq, record.kind, record.as_dict()) for record in found[:3]]
