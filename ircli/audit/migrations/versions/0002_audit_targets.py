"""The target index: which records concern each target, filled from the existing records.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from ircli.audit.targets import INDEXED_KINDS, record_targets

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

PAGE = 500
"""Records read per query while backfilling (grouped records hold up to 2,048 ids each)."""

# Derived data, but as append-only as the records it points at.
SQLITE_TRIGGERS = [
    """
    CREATE TRIGGER audit_targets_no_update BEFORE UPDATE ON audit_targets
    BEGIN SELECT RAISE(ABORT, 'audit_targets is append-only'); END
    """,
    """
    CREATE TRIGGER audit_targets_no_delete BEFORE DELETE ON audit_targets
    BEGIN SELECT RAISE(ABORT, 'audit_targets is append-only'); END
    """,
]

POSTGRESQL_TRIGGERS = [
    """
    CREATE FUNCTION audit_targets_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'audit_targets is append-only'; END $$
    """,
    """
    CREATE TRIGGER audit_targets_no_change BEFORE UPDATE OR DELETE ON audit_targets
    FOR EACH ROW EXECUTE FUNCTION audit_targets_append_only()
    """,
]

_records = sa.table(
    "audit_records",
    sa.column("seq", sa.BigInteger),
    sa.column("kind", sa.String),
    sa.column("target", sa.Text),
    sa.column("params", sa.Text),
    sa.column("outcome", sa.Text),
)


def upgrade() -> None:
    targets = op.create_table(
        "audit_targets",
        sa.Column("target", sa.Text, primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sqlite_with_rowid=False,
    )
    backfill(op.get_bind(), targets)
    dialect = op.get_bind().dialect.name
    triggers = {"sqlite": SQLITE_TRIGGERS, "postgresql": POSTGRESQL_TRIGGERS}.get(dialect, [])
    for statement in triggers:
        op.execute(statement)


def backfill(connection: sa.Connection, targets: sa.Table) -> None:
    """Index every record that concerns targets, a page of records at a time."""
    concerning = sa.or_(_records.c.kind.in_(INDEXED_KINDS), _records.c.target.is_not(None))
    query = sa.select(_records).where(concerning).order_by(_records.c.seq).limit(PAGE)
    last = 0
    while rows := connection.execute(query.where(_records.c.seq > last)).all():
        entries = [
            {"target": target, "seq": row.seq}
            for row in rows
            for target in record_targets(
                row.kind, row.target, _object(row.params), _object(row.outcome)
            )
        ]
        if entries:
            connection.execute(sa.insert(targets), entries)
        last = rows[-1].seq


def _object(text: str) -> dict[str, object]:
    """A stored JSON object; anything else (a damaged record) names no targets."""
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def downgrade() -> None:
    op.drop_table("audit_targets")  # its triggers go with it
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_targets_append_only()")
