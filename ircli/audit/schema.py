"""SQLAlchemy table definitions for the audit store (Core, no ORM)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = ["HEAD_REVISION", "audit_records", "audit_targets", "metadata"]

HEAD_REVISION = "0003"
"""The newest Alembic revision; ``open_store`` migrates any older store to it."""

metadata = MetaData()

audit_records = Table(
    "audit_records",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("ts", String(32), nullable=False),
    Column("operator", Text, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("incident", String(64)),
    Column("run", String(64)),
    Column("step", Text),
    Column("target", Text),
    Column("params", Text, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    CheckConstraint("seq >= 1", name="ck_audit_records_seq_positive"),
    UniqueConstraint("prev_hash", name="uq_audit_records_prev_hash"),
    UniqueConstraint("hash", name="uq_audit_records_hash"),
    Index("ix_audit_records_incident", "incident", "seq"),
    Index("ix_audit_records_run", "run", "seq"),
    Index("ix_audit_records_kind", "kind"),
    Index("ix_audit_records_ts", "ts"),
)

audit_targets = Table(
    "audit_targets",
    metadata,
    Column("target", Text, primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    sqlite_with_rowid=False,
)
"""The target index: one row per target a record concerns (``ircli.audit.targets``),
written in the record's transaction. Derived data, outside the hash chain."""
