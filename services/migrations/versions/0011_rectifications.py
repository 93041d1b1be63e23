"""Rectifications (Art. 16 DSGVO, issue 17): an index on the transfer a transfer answers or corrects, so
that opening an inbox item finds the rectifications of it without scanning every transfer.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_transfers_in_reply_to", "transfers", ["in_reply_to"])


def downgrade() -> None:
    op.drop_index("ix_transfers_in_reply_to", table_name="transfers")
