"""The audit chain table, with append-only and linkage enforcement.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

GENESIS = "0" * 64

# SQLite: the database itself refuses updates, deletes, and any insert that does not extend
# the chain by exactly one (next seq, prev_hash = hash of the current head).
SQLITE_TRIGGERS = [
    """
    CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records
    BEGIN SELECT RAISE(ABORT, 'audit_records is append-only'); END
    """,
    """
    CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records
    BEGIN SELECT RAISE(ABORT, 'audit_records is append-only'); END
    """,
    f"""
    CREATE TRIGGER audit_records_link BEFORE INSERT ON audit_records
    WHEN NEW.seq != (SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_records)
      OR NEW.prev_hash != COALESCE(
           (SELECT hash FROM audit_records ORDER BY seq DESC LIMIT 1), '{GENESIS}')
    BEGIN SELECT RAISE(ABORT, 'audit_records insert does not extend the chain'); END
    """,  # noqa: S608 - a constant, not user input
]

POSTGRESQL_TRIGGERS = [
    """
    CREATE FUNCTION audit_records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'audit_records is append-only'; END $$
    """,
    """
    CREATE TRIGGER audit_records_no_change BEFORE UPDATE OR DELETE ON audit_records
    FOR EACH ROW EXECUTE FUNCTION audit_records_append_only()
    """,
]


def upgrade() -> None:
    op.create_table(
        "audit_records",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("ts", sa.String(32), nullable=False),
        sa.Column("operator", sa.Text, nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("incident", sa.String(64)),
        sa.Column("run", sa.String(64)),
        sa.Column("step", sa.Text),
        sa.Column("target", sa.Text),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.CheckConstraint("seq >= 1", name="ck_audit_records_seq_positive"),
        sa.UniqueConstraint("prev_hash", name="uq_audit_records_prev_hash"),
        sa.UniqueConstraint("hash", name="uq_audit_records_hash"),
    )
    op.create_index("ix_audit_records_incident", "audit_records", ["incident", "seq"])
    op.create_index("ix_audit_records_run", "audit_records", ["run", "seq"])
    op.create_index("ix_audit_records_kind", "audit_records", ["kind"])
    op.create_index("ix_audit_records_ts", "audit_records", ["ts"])
    dialect = op.get_bind().dialect.name
    triggers = {"sqlite": SQLITE_TRIGGERS, "postgresql": POSTGRESQL_TRIGGERS}.get(dialect, [])
    for statement in triggers:
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("audit_records")
