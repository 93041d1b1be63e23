"""Outbox tombstones: an outbox row may carry no value (NULL), published as a Kafka tombstone (a
record with a key and a null value). The erasure writes one per consent of the erased person on the
compacted ``kim.consent.v1``, so compaction removes that consent's earlier events (issue 17).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("value", existing_type=sa.LargeBinary(), nullable=True)


def downgrade() -> None:
    # A tombstone not yet published cannot be kept without a value: it is dropped (its consent's
    # events then stay on the compacted topic until compaction meets a later tombstone).
    op.execute(sa.text("DELETE FROM outbox WHERE value IS NULL"))
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("value", existing_type=sa.LargeBinary(), nullable=False)
