"""PostgreSQL gets the append-only protection SQLite has had since 0001 and 0002.

A trigger refuses any insert into ``audit_records`` that does not extend the chain by exactly
one (next seq, prev_hash = hash of the current head), as SQLite's ``audit_records_link``
does; ``TRUNCATE``, which empties a table without firing row triggers, is refused on both
tables (SQLite has no ``TRUNCATE``: its ``DELETE`` without ``WHERE`` fires the triggers). Every
refusal is an integrity violation (SQLSTATE 23000), as SQLite's ``RAISE(ABORT)`` is: drivers
raise the same error class on both. SQLite needs nothing new.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def _refusal(table: str) -> str:
    return f"""
    CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION '{table} is append-only' USING ERRCODE = 'integrity_constraint_violation';
    END $$
    """


# Each statement may run again on a store that already has its object: rebuilding the target
# index (docs/audit.md) takes a store back to revision 0001 and upgrades it, and the objects
# this revision puts on audit_records outlive that.
POSTGRESQL = [
    _refusal("audit_records"),
    _refusal("audit_targets"),
    # Volatile (plpgsql's default), so that it sees the rows inserted before it by the same
    # statement: a multi-row insert is checked row by row, in order.
    f"""
    CREATE OR REPLACE FUNCTION audit_records_link() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE head_seq bigint; head_hash text;
    BEGIN
      SELECT seq, hash INTO head_seq, head_hash FROM audit_records ORDER BY seq DESC LIMIT 1;
      IF NEW.seq IS DISTINCT FROM COALESCE(head_seq, 0) + 1
         OR NEW.prev_hash IS DISTINCT FROM COALESCE(head_hash, '{GENESIS}') THEN
        RAISE EXCEPTION 'audit_records insert does not extend the chain'
          USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      RETURN NEW;
    END $$
    """,  # noqa: S608 - a constant, not user input
    "DROP TRIGGER IF EXISTS audit_records_link ON audit_records",
    """
    CREATE TRIGGER audit_records_link BEFORE INSERT ON audit_records
    FOR EACH ROW EXECUTE FUNCTION audit_records_link()
    """,
    "DROP TRIGGER IF EXISTS audit_records_no_truncate ON audit_records",
    """
    CREATE TRIGGER audit_records_no_truncate BEFORE TRUNCATE ON audit_records
    FOR EACH STATEMENT EXECUTE FUNCTION audit_records_append_only()
    """,
    "DROP TRIGGER IF EXISTS audit_targets_no_truncate ON audit_targets",
    """
    CREATE TRIGGER audit_targets_no_truncate BEFORE TRUNCATE ON audit_targets
    FOR EACH STATEMENT EXECUTE FUNCTION audit_targets_append_only()
    """,
]

# The functions as 0001 and 0002 created them (an exception without an error code).
POSTGRESQL_BEFORE = [
    "DROP TRIGGER audit_targets_no_truncate ON audit_targets",
    "DROP TRIGGER audit_records_no_truncate ON audit_records",
    "DROP TRIGGER audit_records_link ON audit_records",
    "DROP FUNCTION audit_records_link()",
    *(
        f"""
        CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '{table} is append-only'; END $$
        """
        for table in ("audit_records", "audit_targets")
    ),
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL_BEFORE:
            op.execute(statement)
