"""Verifiable transfer log: consent records in the log, Merkle nodes, log head, checkpoints.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21

The log's sequence number becomes the 0-based Merkle leaf index, assigned under a row lock on
log_head (so no gaps, and log order is commit order). Merkle nodes and checkpoints get the same
append-only triggers as the log itself on PostgreSQL.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

from services.infrastructure.db import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")
PROTECTED = ("merkle_nodes", "checkpoints", "checkpoint_cosignatures")


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    if pg:  # the trigger would reject the ALTERs' table rewrite on existing rows
        op.execute("ALTER TABLE transfer_log DISABLE TRIGGER transfer_log_append_only")
    with op.batch_alter_table("transfer_log") as t:
        t.add_column(sa.Column("kind", sa.String(20), nullable=False, server_default="transfer"))
        t.add_column(sa.Column("consent_id", sa.String(40), nullable=True))
        t.alter_column("transfer_id", existing_type=sa.String(40), nullable=True)
        t.alter_column("recipient_office", existing_type=sa.String(64), nullable=True)
        t.alter_column("purpose", existing_type=sa.String(50), nullable=True)
        t.alter_column("decision", existing_type=sa.String(20), nullable=True)
        t.alter_column("person", existing_type=sa.String(40), type_=sa.String(80))
    if pg:
        op.execute("ALTER TABLE transfer_log ALTER COLUMN seq DROP DEFAULT")
        op.execute("DROP SEQUENCE IF EXISTS transfer_log_seq_seq")
        op.execute("ALTER TABLE transfer_log ALTER COLUMN kind DROP DEFAULT")
        op.execute("ALTER TABLE transfer_log ENABLE TRIGGER transfer_log_append_only")
    op.create_table(
        "merkle_nodes",
        sa.Column("level", sa.SmallInteger(), nullable=False, autoincrement=False),
        sa.Column("idx", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_merkle_nodes")),
    )
    head = op.create_table(
        "log_head",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("frontier", Json, nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_head")),
    )
    op.create_table(
        "checkpoints",
        sa.Column("size", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False, autoincrement=False),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.Column("issued_at", UtcDateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("size", name=op.f("pk_checkpoints")),
    )
    op.create_table(
        "checkpoint_cosignatures",
        sa.Column("size", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False, autoincrement=False),
        sa.Column("key_name", sa.String(200), nullable=False),
        sa.Column("signature_line", sa.Text(), nullable=False),
        sa.Column("added_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("size", "key_name", name=op.f("pk_checkpoint_cosignatures")),
    )
    # Records written before this revision have no Merkle leaves; the log starts its tree here.
    count = op.get_bind().execute(sa.text("SELECT count(*) FROM transfer_log")).scalar()
    if count:
        raise RuntimeError("0002 expects an empty transfer_log (no release shipped 0001 with data)")
    from datetime import datetime, timezone

    op.bulk_insert(head, [{"id": 1, "size": 0, "frontier": {"size": 0, "hashes": []},
                           "updated_at": datetime.now(timezone.utc)}])
    if pg:
        for table in PROTECTED:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}"
                       " FOR EACH ROW EXECUTE FUNCTION kimhub_reject_change()")
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}"
                       " FOR EACH STATEMENT EXECUTE FUNCTION kimhub_reject_change()")


def downgrade() -> None:
    op.drop_table("checkpoint_cosignatures")
    op.drop_table("checkpoints")
    op.drop_table("log_head")
    op.drop_table("merkle_nodes")
