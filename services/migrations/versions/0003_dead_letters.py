"""Dead letters kept for admins; when an office inbox stored a delivery.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

from services.infrastructure.db import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("consumer", sa.String(100), nullable=False),
        sa.Column("topic", sa.String(255), nullable=False),
        sa.Column("origin", sa.String(300), nullable=False),
        sa.Column("key", sa.String(255), nullable=True),
        sa.Column("headers", Json, nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("replayed_at", UtcDateTime(), nullable=True),
        sa.Column("replayed_by", sa.String(255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letters")),
    )
    with op.batch_alter_table("inbox_items") as t:
        t.add_column(sa.Column("stored_at", UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbox_items") as t:
        t.drop_column("stored_at")
    op.drop_table("dead_letters")
