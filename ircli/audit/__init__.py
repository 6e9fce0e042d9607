"""The tamper-evident audit store. See docs/audit.md for the chain's normative definition."""

from ircli.audit.chain import GENESIS_HASH, VerifyResult, canonical_json, record_hash
from ircli.audit.records import Anchor, AuditRecord, NewRecord, RecordFilter

__all__ = [
    "GENESIS_HASH",
    "Anchor",
    "AuditRecord",
    "NewRecord",
    "RecordFilter",
    "VerifyResult",
    "canonical_json",
    "record_hash",
]
