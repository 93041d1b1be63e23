"""Sealed payloads (issue 16): per-person data keys, documents sealed per transfer for the recipient
office, inbox items holding the sealed payload and the hub's signature instead of plaintext.

Rows written before this migration are not sealed by it (sealing needs the keys, which live outside
the database); kimhub had no production deployment before it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

from services.infrastructure.db import UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "person_keys",
        sa.Column("kid", sa.String(64), primary_key=True),
        sa.Column("person", sa.String(40), nullable=False),
        sa.Column("wrapped", sa.LargeBinary, nullable=False),
        sa.Column("master_kid", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_person_keys_person", "person_keys", ["person", "created_at"])
    op.create_table(
        "transfer_documents",
        sa.Column("transfer_id", sa.String(40), primary_key=True),
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("sealed", sa.LargeBinary, nullable=False),
    )
    with op.batch_alter_table("inbox_items") as batch:
        batch.alter_column("payload", new_column_name="sealed")
        batch.add_column(sa.Column("signature", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbox_items") as batch:
        batch.drop_column("signature")
        batch.alter_column("sealed", new_column_name="payload")
    op.drop_table("transfer_documents")
    op.drop_index("ix_person_keys_person", table_name="person_keys")
    op.drop_table("person_keys")
